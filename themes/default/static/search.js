// The search page's glue to Pagefind's component UI (default instance):
// - a search can be linked to: /search/?q=arbitration opens with that search run, and the address
//   follows what the reader types (replaceState: no history entry per keystroke);
// - large archives split their index into shards (see generator/search.py); the page lists the
//   extra ones in data-merge-index and they are merged in before the first search (Pagefind reads
//   `mergeIndex` when it loads).
(function () {
  "use strict";
  if (!window.PagefindComponents) return;
  var instance = window.PagefindComponents.getInstanceManager().getInstance("default");
  var config = document.querySelector("pagefind-config[data-merge-index]");
  if (config) {
    var bundles = config.getAttribute("data-merge-index").split(" ").filter(Boolean);
    instance.options.mergeIndex = bundles.map(function (path) {
      return { bundlePath: new URL(path, document.baseURI).href };
    });
  }
  instance.on("search", function (term) {
    var url = new URL(window.location.href);
    if (term) url.searchParams.set("q", term);
    else url.searchParams.delete("q");
    if (url.href !== window.location.href) window.history.replaceState(window.history.state, "", url.href);
  });
  // Read as text: the input shows it as its value and Pagefind searches it; it is never markup.
  var linked = new URLSearchParams(window.location.search).get("q");
  if (linked) instance.triggerSearch(linked);
})();
