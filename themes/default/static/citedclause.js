// A clause permalink (#c-…) points at an empty marker before the clause: highlight the text from
// the marker to the next clause's anchor, so the reader sees which sentence is cited. A flagged
// clause's anchor is its own <mark>: its text is highlighted the same way. The CSS Custom
// Highlight API marks it without touching the page; where it is missing, the marker's own style
// (style.css, :target::before) still shows where the clause starts.
(function () {
  "use strict";
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
    var id = decodeURIComponent(window.location.hash.slice(1));
    var marker = id && /^c-[0-9a-f]{12}(-\d+)?$/.test(id) ? document.getElementById(id) : null;
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
