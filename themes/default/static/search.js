// Large archives split their search index into shards (see generator/search.py); the search page
// lists the extra ones in data-merge-index and this merges them into Pagefind's default instance
// before its first search (Pagefind reads `mergeIndex` when it loads).
(function () {
  "use strict";
  var config = document.querySelector("pagefind-config[data-merge-index]");
  if (!config || !window.PagefindComponents) return;
  var bundles = config.getAttribute("data-merge-index").split(" ").filter(Boolean);
  var instance = window.PagefindComponents.getInstanceManager().getInstance("default");
  instance.options.mergeIndex = bundles.map(function (path) {
    return { bundlePath: new URL(path, document.baseURI).href };
  });
})();
