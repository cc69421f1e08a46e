// Check a quote against the text of this version, in the reader's browser: found word for word
// (spacing, quote marks, dashes and letter case aside) and in which clause, or not found. A quote
// must begin and end at whole words: "refundable" is not in "non-refundable", nor "limited" in
// "unlimited".
// The form stays hidden without JavaScript; nothing leaves the page.
(function () {
  "use strict";
  const form = document.querySelector("[data-quote-check]");
  const text = document.querySelector(".policy-text");
  if (!form || !text) return;
  const input = form.querySelector("textarea");
  const result = form.querySelector("[role=status]");

  // One character at a time, so that offsets in the normalized text stay in step with the page.
  const SAME = { "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-" };
  const DROPPED = /[\u00ad\u200b\u200c\u200d\u2060\ufeff]/;

  function normalizer() {
    let out = "";
    return {
      add(chars) {
        for (const c of chars) {
          if (DROPPED.test(c)) continue;
          if (/\s/.test(c)) {
            if (out && !out.endsWith(" ")) out += " ";
          } else {
            out += (SAME[c] || c).toLowerCase();
          }
        }
      },
      get text() { return out; },
    };
  }

  // The page's text with the position at which each clause starts; finding labels are skipped.
  function index() {
    const norm = normalizer();
    const starts = [];
    const walker = document.createTreeWalker(text, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
      acceptNode(node) {
        if (node.nodeType === Node.ELEMENT_NODE && node.classList.contains("finding-label")) {
          return NodeFilter.FILTER_REJECT;
        }
        return NodeFilter.FILTER_ACCEPT;
      },
    });
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.nodeType === Node.TEXT_NODE) {
        norm.add(node.data);
      } else if (/^c-[0-9a-f]{12}(-\d+)?$/.test(node.id || "")) {  // a repeated sentence: c-…-2
        starts.push([norm.text.length, node.id]);
      } else if (/^(P|LI|H[1-6]|TD|TH|BR|TR|PRE|BLOCKQUOTE)$/.test(node.tagName)) {
        norm.add(" ");
      }
    }
    return { text: norm.text, starts };
  }

  const WORD = /[\p{L}\p{N}_]/u;

  // Where the quote occurs as whole words: not starting or ending inside a word of the text.
  function occurrences(haystack, quote) {
    const found = [];
    const opensWord = WORD.test(quote[0]);
    const closesWord = WORD.test(quote[quote.length - 1]);
    for (let at = haystack.indexOf(quote); at >= 0; at = haystack.indexOf(quote, at + 1)) {
      const end = at + quote.length;
      if (opensWord && at > 0 && WORD.test(haystack[at - 1])) continue;
      if (closesWord && end < haystack.length && WORD.test(haystack[end])) continue;
      found.push(at);
    }
    return found;
  }

  let page = null;
  form.hidden = false;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const wanted = normalizer();
    wanted.add(input.value);
    const quote = wanted.text.trim();
    result.textContent = "";
    if (!quote) {
      result.textContent = "Paste a quote first.";
      return;
    }
    page = page || index();
    const found = occurrences(page.text, quote);
    if (!found.length) {
      const inWord = page.text.indexOf(quote) >= 0;
      result.textContent = "Not found in this version. Every word must match, whole; spacing, quote marks, " +
        "dashes and capitals are ignored. " + (inWord ? "These letters occur only as part of longer words." :
        "Another version may hold it: see the history.");
      return;
    }
    const at = found[0];
    const again = found.length > 1;
    let clause = null;
    for (const [start, id] of page.starts) {
      if (start > at) break;
      clause = id;
    }
    result.append(again ? "Found in this version, more than once; first in " : "Found in this version, in ");
    if (clause) {
      const link = document.createElement("a");
      link.href = "#" + clause;
      link.textContent = "the clause " + clause;
      result.append(link, ".");
    } else {
      result.append("its text.");
    }
  });
})();
