// A clause permalink (#c-…) points at an empty marker before the clause: highlight the text from
// the marker to the next clause's anchor, so the reader sees which sentence is cited. A flagged
// clause's anchor is its own <mark>: its text is highlighted the same way. The CSS Custom
// Highlight API marks it without touching the page; where it is missing, the marker's own style
// (style.css, :target::before) still shows where the clause starts.
(function () {
  "use strict";
  var CLAUSE = /^c-[0-9a-f]{12}(-\d+)?$/;

  function hashId() {
    try {
      return decodeURIComponent(window.location.hash.slice(1));
    } catch (e) { // a malformed escape in a hand-typed link
      return "";
    }
  }

  var running = document.querySelector(".print-running");
  var runningText = running ? running.textContent : "";

  // A clause link made for another version, whose clause this one lacks: say so, instead of
  // leaving the reader at the top of the page with no word. One it has goes into the band printed
  // on every sheet: an exhibit printed from a clause link names the clause, not only the version.
  function cited() {
    var notice = document.getElementById("clause-missing");
    if (!notice) return;
    var id = hashId();
    var clause = CLAUSE.test(id);
    var absent = clause && !document.getElementById(id);
    if (absent) {
      notice.querySelector("code").textContent = "#" + id;
      notice.scrollIntoView();
    }
    notice.hidden = !absent;
    if (running) running.textContent = runningText + (clause && !absent ? " · cited clause #" + id : "");
  }
  window.addEventListener("hashchange", cited);
  cited();

  if (!window.CSS || !CSS.highlights || typeof Highlight === "undefined") return;

  function nextMarker(marker) {
    var markers = document.querySelectorAll(".policy-text span.clause, .policy-text mark.finding[id]");
    for (var i = 0; i < markers.length; i++) {
      if (markers[i] === marker) return markers[i + 1] || null;
    }
    return null;
  }

  function highlight() {
    CSS.highlights.delete("cited-clause");
    var id = hashId();
    var marker = id && CLAUSE.test(id) ? document.getElementById(id) : null;
    if (!marker || !marker.closest(".policy-text")) return;
    var range = document.createRange();
    if (marker.matches("mark.finding")) {
      // A flagged clause is its mark's text, after the finding's label (not the service's words).
      var label = marker.querySelector(":scope > .finding-label");
      if (label) range.setStartAfter(label); else range.setStart(marker, 0);
      range.setEnd(marker, marker.childNodes.length);
    } else if (marker.classList.contains("clause")) {
      range.setStartAfter(marker);
      var next = nextMarker(marker);
      if (next) {
        range.setEndBefore(next);
      } else {
        range.setEndAfter(marker.closest(".policy-text").lastChild);
      }
    } else {
      return;
    }
    CSS.highlights.set("cited-clause", new Highlight(range));
  }

  window.addEventListener("hashchange", highlight);
  highlight();
})();
