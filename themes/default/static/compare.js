/* clausewatch: compare any two versions of a document, on its history page.

   Enhances <form class="compare" data-document="<service>/<doc-type>" data-root="../../../"> with
   two <select name="from"> / <select name="to"> of version ids (each option's data-sha256: that
   text's SHA-256 in the archive; an option without one cannot be compared): fetches
   <root><service>/<doc-type>/<id>.md for both (the raw texts published next to each version page;
   nothing else is requested), diffs them word by word here, and shows the result in
   #compare-result, built with DOM calls only: the texts are untrusted, so they only ever become
   text nodes, never markup. The diff mirrors
   generator/diff.py and generator/wordalign.py (paragraphs first, then words; whitespace never
   compared; short unchanged stretches between edits folded in; moved paragraphs marked), with an
   LCS instead of difflib, so a figure may differ slightly from the changes pages. The pair
   compared is kept in the URL (#compare=<from>..<to>), so a comparison can be linked. Each text's
   SHA-256 is computed from the bytes fetched and checked against the archive's (the option's
   data-sha256): a text that does not match is not compared. The digests are shown and printed
   (the running line), so a printed comparison names exactly the texts it compares. Under Node,
   exports the diff for tests. */
(function () {
  "use strict";

  var BREAK = "\n\n";
  var WORD = "[\\p{L}\\p{N}_]+(?:['’.,\\-][\\p{L}\\p{N}_]+)*";
  var TOKEN = new RegExp("(?:" + WORD + "|([^\\p{L}\\p{N}_\\s])\\1*)\\s*", "gu");
  var WORDS = new RegExp(WORD, "gu");
  var DIRECT_LIMIT = 250000; // above len(a) x len(b), cut at unique common tokens first
  var MAX_DEPTH = 40; // ... but not endlessly: past it, a plain replacement
  var CONTEXT = 2; // unchanged paragraphs shown around a change

  // ---- text → paragraphs → tokens ------------------------------------------------------------

  function splitParagraphs(text) {
    return text.replace(/\r\n?/g, "\n").split(/\n[ \t]*\n/)
      .map(function (p) { return p.trim(); })
      .filter(function (p) { return p.length > 0; });
  }

  function tokenize(paragraph) {
    return paragraph.trim().match(TOKEN) || [];
  }

  function countWords(text) {
    return (text.match(WORDS) || []).length;
  }

  function paragraphKey(paragraph) {
    return paragraph.trim().split(/\s+/).join(" ");
  }

  // A section name is cut at a word after SECTION_NAME_CHARS characters (diff.py's heading).
  var SECTION_NAME_CHARS = 80;

  function cap(title) {
    var chars = Array.from(title);  // characters, as Python counts them
    if (chars.length <= SECTION_NAME_CHARS) {
      return title;
    }
    var head = chars.slice(0, SECTION_NAME_CHARS + 1).join("");
    var space = head.lastIndexOf(" ");
    return (space > 0 ? head.slice(0, space) : chars.slice(0, SECTION_NAME_CHARS).join("")) + "…";
  }

  function heading(paragraph) {
    var lines = paragraph.split("\n");
    var atx = /^#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(lines[0]);
    var title;
    if (atx) {
      title = atx[1];
    } else if (lines.length >= 2 && /^(?:=+|-+)\s*$/.test(lines[lines.length - 1])) {
      title = lines[lines.length - 2];  // only the line over the rule
    } else {
      return null;
    }
    title = title.split("**").join("").split("\\").join("").replace(/\[([^\]]*)\]\([^)\s]*\)/g, "$1");
    title = cap(paragraphKey(title));
    return title || null;
  }

  // A changed row may hold several paragraphs: each is read on its own (diff.py's _row_paragraphs).
  function rowParagraphs(row) {
    return (sideText(row.new) || sideText(row.old)).split(BREAK);
  }

  // A heading that only dates the text names no section (diff.py's section_name).
  var DATE_HEADING = /^(last\s+)?(updated|modified|revised|effective)(\s+(on|as\s+of|date))?\b\W*.{0,30}\d/i;

  function sectionName(paragraph) {
    var title = heading(paragraph);
    return title === null || DATE_HEADING.test(title) ? null : title;
  }

  // ---- sequence alignment: opcodes [tag, i1, i2, j1, j2] as Python's difflib ------------------

  function lcsOps(a, b, alo, ahi, blo, bhi, out) {
    var n = ahi - alo;
    var m = bhi - blo;
    var width = m + 1;
    var table = new Uint32Array((n + 1) * width); // table[i][j]: LCS of a[alo+i:] and b[blo+j:]
    var i;
    var j;
    for (i = n - 1; i >= 0; i--) {
      for (j = m - 1; j >= 0; j--) {
        table[i * width + j] = a[alo + i] === b[blo + j] ? table[(i + 1) * width + j + 1] + 1
          : Math.max(table[(i + 1) * width + j], table[i * width + j + 1]);
      }
    }
    i = 0;
    j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[alo + i] === b[blo + j]) {
        out.push(["equal", alo + i, alo + i + 1, blo + j, blo + j + 1]);
        i++;
        j++;
      } else if (j >= m || (i < n && table[(i + 1) * width + j] >= table[i * width + j + 1])) {
        out.push(["delete", alo + i, alo + i + 1, blo + j, blo + j]);
        i++;
      } else {
        out.push(["insert", alo + i, alo + i, blo + j, blo + j + 1]);
        j++;
      }
    }
  }

  // Tokens found once on each side, else (repetitive text) as often on both sides, the k-th occurrence
  // in a paired with the k-th in b; then their longest in-order chain (patience sorting).
  function anchors(a, b, alo, ahi, blo, bhi) {
    var inA = new Map();
    var inB = new Map();
    var i;
    var j;
    for (i = alo; i < ahi; i++) {
      if (!inA.has(a[i])) {
        inA.set(a[i], []);
      }
      inA.get(a[i]).push(i);
    }
    for (j = blo; j < bhi; j++) {
      if (inA.has(b[j])) {
        if (!inB.has(b[j])) {
          inB.set(b[j], []);
        }
        inB.get(b[j]).push(j);
      }
    }
    var pairs = [];
    inB.forEach(function (js, key) {
      if (js.length === 1 && inA.get(key).length === 1) {
        pairs.push([inA.get(key)[0], js[0]]);
      }
    });
    if (!pairs.length) {
      inB.forEach(function (js, key) {
        var is = inA.get(key);
        if (js.length === is.length) {
          js.forEach(function (position, k) { pairs.push([is[k], position]); });
        }
      });
    }
    pairs.sort(function (x, y) { return x[0] - y[0] || x[1] - y[1]; });
    var tails = [];
    var back = [];
    pairs.forEach(function (pair, index) {
      var lo = 0;
      var hi = tails.length;
      while (lo < hi) {
        var mid = (lo + hi) >> 1;
        if (pairs[tails[mid]][1] < pair[1]) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      back[index] = lo ? tails[lo - 1] : -1;
      tails[lo] = index;
    });
    var chain = [];
    for (var k = tails.length ? tails[tails.length - 1] : -1; k >= 0; k = back[k]) {
      chain.push(pairs[k]);
    }
    return chain.reverse();
  }

  function align(a, b, alo, ahi, blo, bhi, out, depth) {
    var start = alo;
    while (alo < ahi && blo < bhi && a[alo] === b[blo]) {
      alo++;
      blo++;
    }
    out.push(["equal", start, alo, blo - (alo - start), blo]);
    var end = ahi;
    while (ahi > alo && bhi > blo && a[ahi - 1] === b[bhi - 1]) {
      ahi--;
      bhi--;
    }
    if (alo === ahi || blo === bhi || (ahi - alo) * (bhi - blo) <= DIRECT_LIMIT) {
      lcsOps(a, b, alo, ahi, blo, bhi, out);
    } else {
      var i = alo;
      var j = blo;
      (depth < MAX_DEPTH ? anchors(a, b, alo, ahi, blo, bhi) : []).forEach(function (pair) {
        align(a, b, i, pair[0], j, pair[1], out, depth + 1);
        out.push(["equal", pair[0], pair[0] + 1, pair[1], pair[1] + 1]);
        i = pair[0] + 1;
        j = pair[1] + 1;
      });
      if (i === alo) {
        out.push(["replace", alo, ahi, blo, bhi]);
      } else {
        align(a, b, i, ahi, j, bhi, out, depth + 1);
      }
    }
    out.push(["equal", ahi, end, bhi, bhi + (end - ahi)]);
  }

  function opcodes(a, b) {
    var raw = [];
    align(a, b, 0, a.length, 0, b.length, raw, 0);
    var out = [];
    raw.forEach(function (op) {
      if (op[1] === op[2] && op[3] === op[4]) {
        return;
      }
      var last = out[out.length - 1];
      if (last && (last[0] === "equal") === (op[0] === "equal")) {
        out[out.length - 1] = [op[0] === "equal" ? "equal" : "replace", last[1], op[2], last[3], op[4]];
      } else {
        out.push(op);
      }
    });
    return out;
  }

  function foldShortEqualities(ops, oldKeys, newKeys) {
    function size(keys, lo, hi) {
      var total = 0;
      for (var k = lo; k < hi; k++) {
        total += keys[k].length;
      }
      return total;
    }
    function weight(op) {
      return Math.max(size(oldKeys, op[1], op[2]), size(newKeys, op[3], op[4]));
    }
    var out = [];
    ops.forEach(function (op) {
      out.push(op);
      while (out.length >= 3 && out[out.length - 1][0] !== "equal" && out[out.length - 2][0] === "equal" &&
             out[out.length - 3][0] !== "equal") {
        var before = out[out.length - 3];
        var middle = out[out.length - 2];
        var after = out[out.length - 1];
        if (middle[2] - middle[1] > 3 || oldKeys.slice(middle[1], middle[2]).indexOf(BREAK) >= 0 ||
            size(oldKeys, middle[1], middle[2]) > Math.min(weight(before), weight(after))) {
          break;
        }
        out.splice(out.length - 3, 3, ["replace", before[1], after[2], before[3], after[4]]);
      }
    });
    return out;
  }

  // ---- rows: aligned old / new text with inline segments --------------------------------------

  function Side() {
    this.parts = [];
  }
  Side.prototype.add = function (op, text) {
    if (!text) {
      return;
    }
    var last = this.parts[this.parts.length - 1];
    if (last && last.op === op) {
      last.text += text;
    } else {
      this.parts.push({ op: op, text: text });
    }
  };

  function splitSpace(text) {
    var core = text.trim();
    var lead = text.slice(0, text.length - text.replace(/^\s+/, "").length);
    return [lead, core, text.slice(lead.length + core.length)];
  }

  function RowBuilder(oldNumber, newNumber) {
    this.oldNumber = oldNumber;
    this.newNumber = newNumber;
    this.old = new Side();
    this.new = new Side();
    this.inline = new Side();
    this.oldBreaks = this.newBreaks = this.added = this.removed = 0;
    this.oldContent = this.newContent = this.edited = false;
  }
  RowBuilder.prototype.equal = function (oldText, newText) {
    this.old.add("equal", oldText);
    this.new.add("equal", newText);
    this.inline.add("equal", oldText.length > newText.length ? oldText : newText);
    this.oldContent = this.newContent = true;
  };
  RowBuilder.prototype.edit = function (oldText, newText) {
    this.oldBreaks += oldText.split(BREAK).length - 1;
    this.newBreaks += newText.split(BREAK).length - 1;
    var o = splitSpace(oldText);
    var n = splitSpace(newText);
    if (!o[1] && !n[1]) {
      this.old.add("equal", oldText);
      this.new.add("equal", newText);
      this.inline.add("equal", newText);
      return;
    }
    this.old.add("equal", o[0]);
    this.old.add("delete", o[1]);
    this.old.add("equal", o[2]);
    this.new.add("equal", n[0]);
    this.new.add("insert", n[1]);
    this.new.add("equal", n[2]);
    this.inline.add("equal", o[0].length >= n[0].length ? o[0] : n[0]);
    this.inline.add("delete", o[1]);
    this.inline.add("insert", n[1]);
    this.inline.add("equal", o[2].length >= n[2].length ? o[2] : n[2]);
    this.oldContent = this.oldContent || Boolean(o[1]);
    this.newContent = this.newContent || Boolean(n[1]);
    this.edited = true;
    this.removed += countWords(o[1]);
    this.added += countWords(n[1]);
  };
  RowBuilder.prototype.row = function () {
    var kind = !this.edited ? "equal" : !this.oldContent ? "insert" : !this.newContent ? "delete" : "replace";
    var oldFirst = this.oldContent ? this.oldNumber : null;
    var newFirst = this.newContent ? this.newNumber : null;
    return makeRow(kind, this.oldContent ? this.old.parts : [], this.newContent ? this.new.parts : [], this.inline.parts,
                   oldFirst, oldFirst === null ? null : oldFirst + this.oldBreaks,
                   newFirst, newFirst === null ? null : newFirst + this.newBreaks, this.added, this.removed);
  };

  function makeRow(kind, old, new_, inline, oldFirst, oldLast, newFirst, newLast, added, removed) {
    return { kind: kind, old: old, new: new_, inline: inline, oldFirst: oldFirst, oldLast: oldLast,
             newFirst: newFirst, newLast: newLast, wordsAdded: added, wordsRemoved: removed, moved: null };
  }

  function sideText(segments) {
    return segments.map(function (s) { return s.text; }).join("");
  }

  function runTokens(paragraphs) {
    var tokens = [];
    paragraphs.forEach(function (paragraph, index) {
      if (index) {
        tokens.push(BREAK);
      }
      Array.prototype.push.apply(tokens, tokenize(paragraph));
    });
    return tokens;
  }

  function wordRows(oldParas, newParas, oldNumber, newNumber, rows) {
    var oldTokens = runTokens(oldParas);
    var newTokens = runTokens(newParas);
    var key = function (t) { return t.trimEnd() || t; };
    var oldKeys = oldTokens.map(key);
    var newKeys = newTokens.map(key);
    var builder = new RowBuilder(oldNumber, newNumber);
    foldShortEqualities(opcodes(oldKeys, newKeys), oldKeys, newKeys).forEach(function (op) {
      if (op[0] !== "equal") {
        builder.edit(oldTokens.slice(op[1], op[2]).join(""), newTokens.slice(op[3], op[4]).join(""));
        return;
      }
      for (var i = op[1], j = op[3]; i < op[2]; i++, j++) {
        if (oldKeys[i] === BREAK) {
          rows.push(builder.row());
          builder = new RowBuilder(builder.oldNumber + builder.oldBreaks + 1, builder.newNumber + builder.newBreaks + 1);
        } else {
          builder.equal(oldTokens[i], newTokens[j]);
        }
      }
    });
    rows.push(builder.row());
  }

  function paragraphRows(oldParas, newParas) {
    var oldKeys = oldParas.map(paragraphKey);
    var newKeys = newParas.map(paragraphKey);
    var ops = opcodes(oldKeys, newKeys);
    var unmatchedOld = new Set();
    var unmatchedNew = new Set();
    ops.forEach(function (op) {
      if (op[0] !== "equal") {
        oldKeys.slice(op[1], op[2]).forEach(function (k) { unmatchedOld.add(k); });
        newKeys.slice(op[3], op[4]).forEach(function (k) { unmatchedNew.add(k); });
      }
    });
    var movable = new Set();
    unmatchedOld.forEach(function (k) {
      if (unmatchedNew.has(k) && countWords(k)) {
        movable.add(k);
      }
    });
    var rows = [];
    ops.forEach(function (op) {
      var i = op[1];
      var j = op[3];
      if (op[0] === "equal") {
        for (; i < op[2]; i++, j++) {
          var same = [{ op: "equal", text: newParas[j] }];
          rows.push(makeRow("equal", [{ op: "equal", text: oldParas[i] }], same, same, i + 1, i + 1, j + 1, j + 1, 0, 0));
        }
        return;
      }
      while (i < op[2] || j < op[4]) {
        if (i < op[2] && movable.has(oldKeys[i])) {
          var gone = [{ op: "delete", text: oldParas[i] }];
          rows.push(makeRow("delete", gone, [], gone, i + 1, i + 1, null, null, 0, countWords(oldParas[i])));
          i++;
        } else if (j < op[4] && movable.has(newKeys[j])) {
          var added = [{ op: "insert", text: newParas[j] }];
          rows.push(makeRow("insert", [], added, added, null, null, j + 1, j + 1, countWords(newParas[j]), 0));
          j++;
        } else {
          var iEnd = i;
          var jEnd = j;
          while (iEnd < op[2] && !movable.has(oldKeys[iEnd])) {
            iEnd++;
          }
          while (jEnd < op[4] && !movable.has(newKeys[jEnd])) {
            jEnd++;
          }
          wordRows(oldParas.slice(i, iEnd), newParas.slice(j, jEnd), i + 1, j + 1, rows);
          i = iEnd;
          j = jEnd;
        }
      }
    });
    return rows;
  }

  function markMoves(rows) {
    var deleted = new Map();
    rows.forEach(function (row, index) {
      if (row.kind === "delete" && row.old.length === 1 && row.oldFirst === row.oldLast) {
        var k = paragraphKey(sideText(row.old));
        if (!deleted.has(k)) {
          deleted.set(k, []);
        }
        deleted.get(k).push(index);
      }
    });
    var pairs = [];
    rows.forEach(function (row, index) {
      if (row.kind === "insert" && row.new.length === 1 && row.newFirst === row.newLast && row.wordsAdded) {
        var candidates = deleted.get(paragraphKey(sideText(row.new)));
        if (candidates && candidates.length) {
          pairs.push([candidates.shift(), index]);
        }
      }
    });
    return pairs;
  }

  function blocks(rows, context) {
    var out = [];
    var section = null;
    var number = 0;
    var start = 0;
    while (start < rows.length) {
      var changed = rows[start].kind !== "equal";
      var end = start;
      while (end < rows.length && (rows[end].kind !== "equal") === changed) {
        end++;
      }
      var run = rows.slice(start, end);
      if (changed) {
        number++;
        rows.slice(start, end).forEach(function (row) { row.change = number; });
        out.push({ kind: "change", number: number, rows: run,
                   section: heading(rowParagraphs(run[0])[0]) || section });
      } else {
        var before = start === 0 ? 0 : context;
        var after = end === rows.length ? 0 : context;
        if (run.length <= before + after + 1) {
          out.push({ kind: "context", rows: run });
        } else {
          if (before) {
            out.push({ kind: "context", rows: run.slice(0, before) });
          }
          out.push({ kind: "gap", rows: run.slice(before, run.length - after) });
          if (after) {
            out.push({ kind: "context", rows: run.slice(run.length - after) });
          }
        }
      }
      run.forEach(function (row) {
        rowParagraphs(row).forEach(function (paragraph) {
          section = sectionName(paragraph) || section;
        });
      });
      start = end;
    }
    return out;
  }

  function diffTexts(oldText, newText, context) {
    var oldParas = splitParagraphs(oldText);
    var newParas = splitParagraphs(newText);
    var rows = paragraphRows(oldParas, newParas);
    var pairs = markMoves(rows);
    var result = blocks(rows, context === undefined ? CONTEXT : context);
    pairs.forEach(function (pair) {
      rows[pair[0]].moved = rows[pair[1]].change;
      rows[pair[1]].moved = rows[pair[0]].change;
    });
    var sum = function (list, f) { return list.reduce(function (total, x) { return total + f(x); }, 0); };
    var kept = rows.filter(function (row) { return row.moved === null; });
    var summary = {
      wordsOld: sum(oldParas, countWords), wordsNew: sum(newParas, countWords),
      wordsAdded: sum(kept, function (r) { return r.wordsAdded; }),
      wordsRemoved: sum(kept, function (r) { return r.wordsRemoved; }),
      changes: result.filter(function (b) { return b.kind === "change"; }).length,
      moved: pairs.length,
    };
    summary.percentChanged = summary.wordsOld + summary.wordsNew
      ? 100 * (summary.wordsAdded + summary.wordsRemoved) / (summary.wordsOld + summary.wordsNew) : 0;
    return { blocks: result, summary: summary, identical: oldText === newText };
  }

  function percentLabel(value) {
    if (value === 0 || value === 100) {
      return value + "%";
    }
    if (value < 0.05) {
      return "<0.1%";
    }
    if (value >= 99.95) {
      return ">99.9%";
    }
    return value.toFixed(1).replace(/\.0$/, "") + "%";
  }

  var api = { diffTexts: diffTexts, percentLabel: percentLabel, tokenize: tokenize,
              splitParagraphs: splitParagraphs, countWords: countWords };
  if (typeof module === "object" && module.exports) {
    module.exports = api;
    return;
  }
  if (typeof document === "undefined") {
    return;
  }

  // ---- the page ---------------------------------------------------------------------------------

  var SLUG = "[a-z0-9]+(?:-[a-z0-9]+)*";
  var DOCUMENT_KEY = new RegExp("^" + SLUG + "/" + SLUG + "$");
  var VERSION_ID = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/;
  var SHA256 = /^[0-9a-f]{64}$/;
  var script = document.currentScript;
  var form = document.querySelector("form.compare[data-document]");
  if (!form || !window.fetch || !window.URL) {
    return;
  }
  var docKey = form.getAttribute("data-document");
  var fromSelect = form.querySelector("select[name=from]");
  var toSelect = form.querySelector("select[name=to]");
  if (!DOCUMENT_KEY.test(docKey) || !fromSelect || !toSelect) {
    return;
  }
  form.hidden = false;  // (hidden without the script: its button could not compare the pair chosen)
  var without = document.querySelector(".compare-needs-script");
  if (without) {
    without.hidden = true;
  }
  var assets = script && script.src ? script.src : document.baseURI;
  var root = new URL(form.getAttribute("data-root") || new URL("../", assets).href, document.baseURI);
  var result = document.getElementById("compare-result");
  if (!result) {
    result = document.createElement("div");
    result.id = "compare-result";
    form.parentNode.insertBefore(result, form.nextSibling);
  }
  // The whole diff must not be read out as it appears: announce a short status instead.
  result.setAttribute("aria-live", "off");
  var status = document.createElement("p");
  status.className = "compare-status";
  status.setAttribute("role", "status");
  result.parentNode.insertBefore(status, result);
  if (!document.querySelector("link[href$='assets/diff.css']")) {
    var sheet = document.createElement("link");
    sheet.rel = "stylesheet";
    sheet.href = new URL("diff.css", assets).href;
    document.head.appendChild(sheet);
  }
  var texts = new Map();
  var request = 0;
  // The page's running line (printed at the top of each sheet) ends with its address: a comparison
  // adds its fragment and the two texts' digests.
  var running = document.querySelector(".print-running");
  var runningText = running ? running.textContent : "";

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function link(href, text) {
    var a = element("a", null, text);
    a.href = href;
    return a;
  }

  function hex(buffer) {
    return Array.from(new Uint8Array(buffer), function (b) {
      return (b < 16 ? "0" : "") + b.toString(16);
    }).join("");
  }

  // A version's text and the SHA-256 of the bytes fetched (null where the browser cannot compute
  // it: SubtleCrypto exists only in secure contexts, HTTPS or the local machine).
  function fetchText(id) {
    if (!texts.has(id)) {
      var url = new URL(docKey + "/" + id + ".md", root);
      texts.set(id, fetch(url.href, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status + " for " + url.pathname);
        }
        return response.arrayBuffer();
      }).then(function (bytes) {
        var text = new TextDecoder("utf-8").decode(bytes);  // as response.text() decodes
        var subtle = window.crypto && window.crypto.subtle;
        if (!subtle) {
          return { text: text, sha256: null };
        }
        return subtle.digest("SHA-256", bytes).then(function (digest) {
          return { text: text, sha256: hex(digest) };
        });
      }).catch(function (error) {
        texts.delete(id);
        throw error;
      }));
    }
    return texts.get(id);
  }

  // Languages, as the changes pages mark them (generator/diffhtml.py): a text in another language than the
  // page's carries it (the option's data-lang); its "inserted:"/"deleted:" prefixes keep the page's.
  // A text's words, a `<br>` written in it shown as the line break it stands for (as the changes
  // pages show it: generator/markup.py written_breaks); never as markup.
  function appendText(parent, text) {
    String(text).split(/<br\s*\/?>/i).forEach(function (part, i) {
      if (i > 0) parent.appendChild(document.createElement("br"));
      if (part) parent.appendChild(document.createTextNode(part));
    });
  }

  function segments(list, tag, langs, oldInside) {
    var holder = element("div", "diff-text");
    if (tag !== langs.ui) {
      holder.lang = tag;
    }
    list.forEach(function (s) {
      if (s.op === "equal") {
        appendText(holder, s.text);
        return;
      }
      var mark = element(s.op === "insert" ? "ins" : "del");
      if (s.op === "delete" && oldInside && langs.old !== tag) {
        mark.lang = langs.old;
      }
      var prefix = element("span", "diff-vh", s.op === "insert" ? "inserted: " : "deleted: ");
      if (tag !== langs.ui || (mark.lang && mark.lang !== langs.ui)) {
        prefix.lang = langs.ui;
      }
      mark.appendChild(prefix);
      appendText(mark, s.text);
      holder.appendChild(mark);
    });
    return holder;
  }

  function rowsView(rows, langs) {
    var holder = element("div", "diff-inline");
    rows.forEach(function (row) {
      var box = element("div", "diff-row diff-row-" + row.kind);
      if (row.moved) {
        var note = element("p", "diff-moved", row.kind === "delete" ? "Moved, unchanged, to " : "Moved here, unchanged, from ");
        note.appendChild(link("#compare-change-" + row.moved, "change " + row.moved));
        note.appendChild(document.createTextNode("."));
        box.appendChild(note);
      }
      var old = row.kind === "delete";
      box.appendChild(segments(row.inline, old ? langs.old : langs.new, langs, !old));
      holder.appendChild(box);
    });
    return holder;
  }

  function figure(list, label, value) {
    var item = element("div");
    item.appendChild(element("dt", null, label));
    item.appendChild(element("dd", null, value));
    list.appendChild(item);
  }

  // As a changes page says it (changes.html): the permalink and both texts' ids and digests.
  function versionsCompared(from, to, checked) {
    var list = element("dl", "diff-evidence");
    var canonical = document.querySelector("link[rel=canonical]");
    var permalink = (canonical ? canonical.href : window.location.href.split("#")[0]) +
      "#compare=" + from.id + ".." + to.id;
    list.appendChild(element("dt", null, "Permalink"));
    var dd = element("dd");
    dd.appendChild(link(permalink, permalink));
    list.appendChild(dd);
    [["Earlier version", from], ["Later version", to]].forEach(function (pair) {
      list.appendChild(element("dt", null, pair[0]));
      var item = element("dd");
      item.appendChild(element("code", null, pair[1].id));
      item.appendChild(document.createTextNode(", SHA-256 "));
      item.appendChild(element("code", "hash", pair[1].sha256));
      list.appendChild(item);
    });
    var note = element("p", "note", checked
      ? "Both texts, as fetched, match these SHA-256 digests of the signed archive (checked in this browser)."
      : "These are the archive's SHA-256 digests; this browser could not check the texts fetched against " +
        "them (it computes digests only on HTTPS pages).");
    return [list, note];
  }

  function render(diff, from, to, checked) {
    var ui = document.documentElement.lang;
    var langs = { ui: ui, old: from.lang === null ? ui : from.lang, new: to.lang === null ? ui : to.lang };
    var fromLabel = from.label;
    var toLabel = to.label;
    var frag = document.createDocumentFragment();
    var title = element("h3", null, "From the version of " + fromLabel + " to the version of " + toLabel);
    title.id = "compare-title";
    title.tabIndex = -1;
    frag.appendChild(title);
    var s = diff.summary;
    var list = element("dl", "diff-figures");
    figure(list, "Words added", s.wordsAdded);
    figure(list, "Words removed", s.wordsRemoved);
    figure(list, "Text changed", percentLabel(s.percentChanged));
    figure(list, "Changes", s.changes);
    if (s.moved) {
      figure(list, "Paragraphs moved", s.moved);
    }
    frag.appendChild(list);
    versionsCompared(from, to, checked).forEach(function (node) { frag.appendChild(node); });
    var full = element("p", null, "Full texts: ");
    full.appendChild(link(new URL(docKey + "/" + from.id + "/", root).href, "version of " + fromLabel));
    full.appendChild(document.createTextNode(" and "));
    full.appendChild(link(new URL(docKey + "/" + to.id + "/", root).href, "version of " + toLabel));
    full.appendChild(document.createTextNode("."));
    frag.appendChild(full);
    if (diff.identical) {
      frag.appendChild(element("p", null, "The two texts are identical."));
    } else if (!s.changes) {
      frag.appendChild(element("p", null, "No word changed: the two texts differ only in spacing and paragraph breaks."));
    }
    var body = element("div", "compare-diff");
    diff.blocks.forEach(function (block) {
      if (block.kind === "change") {
        var section = element("section", "diff-change");
        section.id = "compare-change-" + block.number;
        section.tabIndex = -1;
        var heading4 = element("h4", null, "Change " + block.number + " of " + s.changes);
        if (block.section) {
          heading4.appendChild(element("span", "diff-section", " in “" + block.section + "”"));
        }
        section.appendChild(heading4);
        var nav = element("p", "diff-change-nav");
        nav.appendChild(block.number > 1 ? link("#compare-change-" + (block.number - 1), "↑ previous change")
          : link("#compare-title", "↑ summary"));
        if (block.number < s.changes) {
          nav.appendChild(document.createTextNode(" "));
          nav.appendChild(link("#compare-change-" + (block.number + 1), "↓ next change"));
        }
        section.appendChild(nav);
        section.appendChild(rowsView(block.rows, langs));
        body.appendChild(section);
      } else if (block.kind === "gap") {
        var details = element("details", "diff-gap");
        var n = block.rows.length;
        details.appendChild(element("summary", null, n + " unchanged paragraph" + (n === 1 ? "" : "s")));
        details.appendChild(rowsView(block.rows, langs));
        body.appendChild(details);
      } else {
        var context = element("div", "diff-context");
        context.appendChild(rowsView(block.rows, langs));
        body.appendChild(context);
      }
    });
    frag.appendChild(body);
    result.replaceChildren(frag);
    status.textContent = "Compared: " + s.changes + " change" + (s.changes === 1 ? "" : "s") + ", " +
      s.wordsAdded + " words added, " + s.wordsRemoved + " removed.";
    if (running) {
      running.textContent = runningText + "#compare=" + from.id + ".." + to.id + " · SHA-256 " +
        from.sha256 + " → " + to.sha256;
    }
    title.focus();
  }

  function option(select, id) {
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === id) {
        var sha256 = select.options[i].getAttribute("data-sha256");
        return { id: id, label: select.options[i].textContent.trim() || id,
          lang: select.options[i].getAttribute("data-lang"),
          sha256: SHA256.test(sha256 || "") ? sha256 : null };
      }
    }
    return null;
  }

  function compare(fromId, toId) {
    if (running) {
      running.textContent = runningText;  // until this pair is compared
    }
    var from = option(fromSelect, fromId);
    var to = option(toSelect, toId);
    if (!from || !to || !VERSION_ID.test(fromId) || !VERSION_ID.test(toId) || !from.sha256 || !to.sha256) {
      status.textContent = "Choose two versions from the lists.";
      return;
    }
    if (fromId > toId) {
      // Version ids are capture times: compare the earlier with the later (the lists show the
      // swap), else every insertion would read as a deletion.
      var earlier = toId;
      toId = fromId;
      fromId = earlier;
      var swapped = from;
      from = to;
      to = swapped;
      fromSelect.value = fromId;
      toSelect.value = toId;
    }
    if (fromId === toId) {
      result.replaceChildren();
      status.textContent = "These are the same version: choose two different ones.";
      return;
    }
    var mine = ++request;
    status.textContent = "Loading the two versions…";
    Promise.all([fetchText(fromId), fetchText(toId)]).then(function (both) {
      [[from, both[0]], [to, both[1]]].forEach(function (pair) {
        if (pair[1].sha256 !== null && pair[1].sha256 !== pair[0].sha256) {
          var error = new Error("the text served for the version of " + pair[0].label + " has SHA-256 " +
            pair[1].sha256 + ", not the archive's " + pair[0].sha256);
          error.mismatch = true;
          throw error;
        }
      });
      if (mine === request) {
        var checked = both[0].sha256 !== null && both[1].sha256 !== null;
        render(diffTexts(both[0].text, both[1].text), from, to, checked);
        if (window.history && window.history.replaceState) {
          window.history.replaceState(null, "", "#compare=" + fromId + ".." + toId);
        }
      }
    }).catch(function (error) {
      if (mine !== request) {
        return;
      }
      result.replaceChildren();
      var message = element("p", null, error.mismatch
        ? "Not compared: " + error.message + ". Read the versions on their own pages: "
        : "The versions could not be loaded (" + error.message + "). Read them in full: ");
      message.appendChild(link(new URL(docKey + "/" + fromId + "/", root).href, "version of " + from.label));
      message.appendChild(document.createTextNode(", "));
      message.appendChild(link(new URL(docKey + "/" + toId + "/", root).href, "version of " + to.label));
      message.appendChild(document.createTextNode("."));
      result.appendChild(message);
      status.textContent = error.mismatch
        ? "Not compared: a text fetched does not match the archive's SHA-256." : "The versions could not be loaded.";
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    compare(fromSelect.value, toSelect.value);
  });

  var wanted = /^#compare=([^.]+)\.\.(.+)$/.exec(window.location.hash);
  if (wanted && option(fromSelect, wanted[1]) && option(toSelect, wanted[2])) {
    fromSelect.value = wanted[1];
    toSelect.value = wanted[2];
    compare(wanted[1], wanted[2]);
  }
}());
