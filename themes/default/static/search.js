// The search page's glue to Pagefind's component UI (default instance):
// - a search can be linked to: /search/?q=arbitration&service=OpenAI opens with that search run
//   and those filters chosen (a filter name may repeat: each value is one choice), and the address
//   follows what the reader types and chooses (replaceState: no history entry per keystroke);
// - large archives split their index into shards (see generator/search.py); the page lists the
//   extra ones in data-merge-index and they are merged in before the first search (Pagefind reads
//   `mergeIndex` when it loads). A shard that lacks a word answers it with its pages holding the
//   word's longest prefix it knows ("a" for "abgebucht"): with shards, a search keeps only the
//   results that hold each of its words that some shard holds whole (wholeWords);
// - results in force come before earlier wording (currentFirst): Pagefind ranks a short record of a
//   dropped sentence above a long policy that says the word a hundred times, and a reader looking
//   for what a policy says now was sent to text that no longer applies first.
(function () {
  "use strict";
  if (!window.PagefindComponents) return;
  var FILTERS = ["service", "document type", "wording", "category", "severity"]; // data-pagefind-filter names
  var instance = window.PagefindComponents.getInstanceManager().getInstance("default");
  var config = document.querySelector("pagefind-config[data-merge-index]");
  if (config) {
    var bundles = config.getAttribute("data-merge-index").split(" ").filter(Boolean);
    instance.options.mergeIndex = bundles.map(function (path) {
      return { bundlePath: new URL(path, document.baseURI).href };
    });
  }
  function wrapped(pagefind) {
    return pagefind ? currentFirst(config ? wholeWords(pagefind) : pagefind) : pagefind;
  }
  // The component UI searches through the object its loader leaves in `__pagefind__` (Pagefind
  // 1.5.2, pinned in requirements.lock; the browser tests run a sharded search): wrapped as it is
  // set, so that no search, however early, goes around it.
  var loaded = wrapped(instance.__pagefind__);
  Object.defineProperty(instance, "__pagefind__", {
    configurable: true,
    get: function () { return loaded; },
    set: function (pagefind) { loaded = wrapped(pagefind); }
  });

  // Pagefind's answer with the results of text in force first, each group in Pagefind's order: the
  // same search again, narrowed to current wording, says which they are (no result's data is
  // loaded). Left as it is when the reader chose a wording.
  function currentFirst(pagefind) {
    return {
      filters: function () { return pagefind.filters(); },
      search: function (term, options) {
        return pagefind.search(term, options).then(function (found) {
          var filters = (options && options.filters) || {};
          if (!found || !found.results || found.results.length < 2 ||
              (filters.wording && filters.wording.length)) return found;
          var narrowed = Object.assign({}, options, { filters: Object.assign({}, filters, { wording: ["current"] }) });
          return pagefind.search(term, narrowed).then(function (current) {
            var inForce = {};
            ((current && current.results) || []).forEach(function (result) { inForce[result.id] = true; });
            var first = found.results.filter(function (result) { return inForce[result.id]; });
            var rest = found.results.filter(function (result) { return !inForce[result.id]; });
            return Object.assign({}, found, { results: first.concat(rest) });
          });
        });
      }
    };
  }

  // A search's words of three letters or more, split at spaces as Pagefind splits them, their
  // other characters dropped ("user's" → "users"); a quoted search is the reader's own exact search.
  function wordsOf(term) {
    if (!term || /"/.test(term)) return [];
    return term.toLowerCase().split(/\s+/).map(function (word) {
      return word.replace(/[^\p{L}\p{N}]+/gu, "");
    }).filter(function (word) { return word.length >= 3; });
  }

  // Pagefind's answer, less the results a shard gave for a shorter prefix of a word than its stem.
  // A word's stem is found with Pagefind's own stemmer: the shortest start of the word whose
  // exact (quoted) search finds the very pages the word's exact search finds ("classif" for
  // "classification"). A result is kept when, for each word found so somewhere, it is one of
  // those pages or one of its highlighted words starts with that stem ("classify"); a word found
  // whole nowhere (still being typed, or in no text) narrows nothing.
  function wholeWords(pagefind) {
    function ids(response) {
      return (response && response.results || []).map(function (result) { return result.id; });
    }
    function same(a, b) {
      return a.length === b.length && a.every(function (id) { return b.indexOf(id) >= 0; });
    }
    // (in the whole archive, whatever filters the reader chose: a word found only outside them
    // still tells its shorter prefixes from it)
    function exactly(word) {
      return pagefind.search('"' + word + '"', {});
    }
    // {word, exact: the ids its exact search finds, stem} for a word found so somewhere, else null
    function anchor(word) {
      return exactly(word).then(function (exact) {
        var found = ids(exact);
        if (!found.length) return null;
        var starts = [];
        for (var k = Math.min(3, word.length); k < word.length; k++) starts.push(word.slice(0, k));
        return Promise.all(starts.map(exactly))
          .then(function (answers) {
            var stem = word;
            for (var i = 0; i < answers.length; i++) {
              if (same(ids(answers[i]), found)) { stem = starts[i]; break; }
            }
            return { word: word, exact: found, stem: stem };
          });
      });
    }
    // The words a result matched: highlighted in its excerpt, and at its locations in its text.
    function marked(result) {
      return result.data().then(function (data) {
        var words = String(data.content || "").split(/\s+/);
        var shown = (String(data.excerpt || "").match(/<mark>[^<]*<\/mark>/g) || []).map(function (mark) {
          return mark.slice(6, -7);
        });
        return shown.concat((data.locations || []).map(function (at) { return words[at] || ""; }))
          .map(function (word) { return word.toLowerCase().replace(/^[^\p{L}\p{N}_]+/u, ""); });
      });
    }
    return {
      filters: function () { return pagefind.filters(); },
      search: function (term, options) {
        return pagefind.search(term, options).then(function (found) {
          var words = wordsOf(term);
          if (!found || !found.results || !words.length) return found;
          return Promise.all(words.map(anchor))
            .then(function (anchors) {
              anchors = anchors.filter(Boolean);
              if (!anchors.length) return found;
              return Promise.all(found.results.map(function (result) {
                var open = anchors.filter(function (a) { return a.exact.indexOf(result.id) < 0; });
                if (!open.length) return true;
                return marked(result).then(function (marks) {
                  return open.every(function (a) {
                    return marks.some(function (mark) { return mark.indexOf(a.stem) === 0; });
                  });
                });
              })).then(function (keep) {
                var results = found.results.filter(function (_, i) { return keep[i]; });
                if (results.length === found.results.length) return found;
                return Object.assign({}, found, { results: results, unfilteredResultCount: results.length });
              });
            });
        });
      }
    };
  }

  instance.on("search", function (term, filters) {
    var url = new URL(window.location.href);
    ["q"].concat(FILTERS).forEach(function (name) { url.searchParams.delete(name); });
    if (term) url.searchParams.set("q", term);
    FILTERS.forEach(function (name) {
      ((filters && filters[name]) || []).forEach(function (value) { url.searchParams.append(name, value); });
    });
    if (url.href !== window.location.href) window.history.replaceState(window.history.state, "", url.href);
  });
  // Read as text: the input shows the words as its value, the filters tick the options of those
  // values (a value no page has matches nothing); none of it is ever markup.
  var params = new URLSearchParams(window.location.search);
  var chosen = {};
  FILTERS.forEach(function (name) {
    var values = params.getAll(name).filter(Boolean);
    if (values.length) chosen[name] = values;
  });
  var linked = params.get("q");
  if (linked) instance.triggerSearchWithFilters(linked, chosen);
  else if (Object.keys(chosen).length) instance.triggerFilters(chosen);
})();
