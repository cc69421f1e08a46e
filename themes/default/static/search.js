// The search page's glue to Pagefind's component UI (default instance):
// - a search can be linked to: /search/?q=arbitration&service=OpenAI opens with that search run
//   and those filters chosen (a filter name may repeat: each value is one choice), and the address
//   follows what the reader types and chooses (replaceState: no history entry per keystroke);
// - large archives split their index into shards (see generator/search.py); the page lists the
//   extra ones in data-merge-index and they are merged in before the first search (Pagefind reads
//   `mergeIndex` when it loads).
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
