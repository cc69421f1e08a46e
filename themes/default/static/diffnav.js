/* clausewatch: keyboard navigation between the changes of a changes page, and a button that opens
   every folded unchanged stretch. Progressive enhancement only: without it every change is still
   an anchor (#change-N) with "previous / next change" links, and every fold opens by itself.
   Keys: j or n = next change, k or p = previous change. No dependencies; loaded with defer. */
(function () {
  "use strict";

  var changes = Array.prototype.slice.call(document.querySelectorAll(".diff-change[id]"));
  if (!changes.length) {
    return;
  }
  var current = -1; // the change the keys last moved to ...
  var scrolledTo = null; // ... valid while the page is still scrolled where that move left it

  function indexOfId(id) {
    for (var i = 0; i < changes.length; i++) {
      if (changes[i].id === id) {
        return i;
      }
    }
    return -1;
  }

  function top(element) {
    var margin = parseFloat(window.getComputedStyle(element).scrollMarginTop) || 0;
    return element.getBoundingClientRect().top - margin;
  }

  // The change to go to from where the reader is: after the last key press, its neighbour;
  // after scrolling or a link, the first change below (or above) the top of the window.
  function target(step) {
    if (current >= 0 && window.pageYOffset === scrolledTo) {
      return current + step;
    }
    var i;
    if (step > 0) {
      for (i = 0; i < changes.length; i++) {
        if (top(changes[i]) > 2) {
          return i;
        }
      }
      return changes.length;
    }
    for (i = changes.length - 1; i >= 0; i--) {
      if (top(changes[i]) < -2) {
        return i;
      }
    }
    return -1;
  }

  function mark(index) {
    if (current >= 0 && changes[current]) {
      changes[current].classList.remove("diff-current");
    }
    current = index;
    changes[index].classList.add("diff-current");
  }

  function go(index) {
    if (index < 0 || index >= changes.length) {
      return;
    }
    var element = changes[index];
    mark(index);
    element.scrollIntoView({ block: "start" });
    element.focus({ preventScroll: true });
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "#" + element.id);
    }
    scrolledTo = window.pageYOffset;
  }

  function typing(element) {
    if (!element || element === document.body) {
      return false;
    }
    if (element.tagName === "INPUT") {
      return !/^(radio|checkbox|button|submit|reset)$/.test(element.type);
    }
    return element.isContentEditable || /^(TEXTAREA|SELECT)$/.test(element.tagName);
  }

  // Single-letter shortcuts can be turned off (WCAG 2.1.4): speech input and slips of the hand
  // would jump away otherwise. The choice is kept for the next changes page.
  var KEYS_OFF = "clausewatch-diff-keys-off";
  var keysOn = true;
  try {
    keysOn = window.localStorage.getItem(KEYS_OFF) !== "1";
  } catch (err) {
    keysOn = true;  // storage blocked: on, and the switch still works for this page
  }

  document.addEventListener("keydown", function (event) {
    if (!keysOn || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey ||
        event.shiftKey || typing(event.target)) {
      return;
    }
    var step = { j: 1, n: 1, k: -1, p: -1 }[event.key];
    if (!step) {
      return;
    }
    event.preventDefault();
    go(target(step));
  });

  function fromHash() {
    var index = indexOfId(decodeURIComponent(window.location.hash.slice(1)));
    if (index >= 0) {
      mark(index);
      scrolledTo = window.pageYOffset;
    }
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();

  var hint = document.querySelector(".diff-keys");
  if (hint) {
    var label = document.createElement("label");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.checked = keysOn;
    box.addEventListener("change", function () {
      keysOn = box.checked;
      try {
        if (keysOn) {
          window.localStorage.removeItem(KEYS_OFF);
        } else {
          window.localStorage.setItem(KEYS_OFF, "1");
        }
      } catch (err) {
        // storage blocked: the choice holds for this page only
      }
    });
    label.appendChild(box);
    label.appendChild(document.createTextNode(" use these keys"));
    hint.appendChild(document.createTextNode(" "));
    hint.appendChild(label);
    hint.hidden = false;
  }

  // "Show all unchanged text": opens (or folds again) every unchanged stretch.
  var gaps = Array.prototype.slice.call(document.querySelectorAll("details.diff-gap"));
  var list = document.querySelector(".diff");
  if (gaps.length && list) {
    var tools = document.createElement("p");
    tools.className = "diff-tools";
    var button = document.createElement("button");
    var open = false;
    button.type = "button";
    button.textContent = "Show all unchanged text";
    button.addEventListener("click", function () {
      open = !open;
      gaps.forEach(function (gap) {
        gap.open = open;
      });
      button.textContent = open ? "Fold the unchanged text again" : "Show all unchanged text";
    });
    tools.appendChild(button);
    list.parentNode.insertBefore(tools, list);
    // On paper nothing unfolds: every unchanged stretch prints open, and closes again after.
    var closed = [];
    window.addEventListener("beforeprint", function () {
      closed = gaps.filter(function (gap) { return !gap.open; });
      closed.forEach(function (gap) { gap.open = true; });
    });
    window.addEventListener("afterprint", function () {
      closed.forEach(function (gap) { gap.open = false; });
      closed = [];
    });
  }
}());
