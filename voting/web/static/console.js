// The console's live figures. Every element with data-src shows figures from that JSON (each
// <dd data-k="key"> gets the value). They follow the session live over the screens' websocket
// (/ws/display, watch presidium: the presidium's feed, authorised by the console's cookie;
// live.js reconnects by itself with back-off and shows 正在重新连接…): on every snapshot — the
// first and the one after each reconnect — and on every attendance or poll message, the page
// fetches its own figures again (one request, at most every 250 ms). Without the websocket (or
// without scripts) the page still works: a slow refresh every 20 s, and a reload.
(function () {
  "use strict";
  var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-src]"));
  if (!boxes.length) { return; }
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
  var pending = null;
  function refreshAll() {
    if (pending !== null) { return; }
    pending = window.setTimeout(function () {
      pending = null;
      boxes.forEach(refresh);
    }, 250);
  }
  document.body.dataset.liveEvents = "0";
  function heard() {
    document.body.dataset.liveEvents = String(Number(document.body.dataset.liveEvents) + 1);
    refreshAll();
  }
  if (window.Renda && window.Renda.live) {
    window.Renda.live({
      url: "/ws/display",
      hello: function () { return {type: "watch", view: "presidium"}; },
      onSnapshot: heard,
      onMessage: heard,
      onRefused: function () { /* logged out: the next page load goes to the login */ },
    });
  }
  window.setInterval(function () { boxes.forEach(refresh); }, 20000);
})();
