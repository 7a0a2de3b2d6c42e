// The console's live figures: every element with data-src is refreshed from that JSON every few
// seconds (each <dd data-k="key"> gets the value). The page works without this script.
(function () {
  "use strict";
  function refresh(box) {
    fetch(box.dataset.src, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        box.querySelectorAll("[data-k]").forEach(function (el) {
          var v = data[el.dataset.k];
          if (v === undefined || v === null) { return; }
          if (typeof v === "boolean") { v = v ? el.dataset.yes : el.dataset.no; }
          if (String(v) !== el.textContent) { el.textContent = String(v); }
        });
      })
      .catch(function () { /* offline: keep the last figures */ });
  }
  document.querySelectorAll("[data-src]").forEach(function (box) {
    setInterval(function () { refresh(box); }, 3000);
  });
})();
