// A classic (non-module) script: if the page's modules fail to load, or do not start within a few
// seconds, say so instead of "Loading…" forever (an old browser, a blocked or broken file).
(function () {
  function failed() {
    if (window.__smeshboxStarted) return;
    var main = document.getElementById("main");
    var p = document.createElement("p");
    p.className = "boot-failed";
    p.setAttribute("role", "alert");
    p.textContent = "The page could not start. Reload it; if this stays, use an up-to-date browser " +
      "(Chrome, Firefox, Safari) — or the box may be restarting.";
    main.replaceChildren(p);
  }
  // a module that cannot be fetched or parsed fails the whole graph: the error reaches the script
  window.addEventListener("error", function (e) {
    if (e.target && e.target.tagName === "SCRIPT") failed();
  }, true);
  window.setTimeout(failed, 8000);
})();
