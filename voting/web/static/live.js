/* Renda live updates: a websocket that reconnects by itself.
 *
 *   const live = Renda.live({
 *     url: "/ws/display",                  // a path on this server (ws: or wss: as the page)
 *     hello: () => ({type: "auth", ...}),  // first frame on every (re)connect, or null
 *     onSnapshot: (msg) => {...},          // msg.type === "snapshot": the full state
 *     onMessage: (msg) => {...},           // every other message
 *     onRefused: (msg) => {...},           // the server refused us (an error, then close 4401)
 *   });
 *
 * While the connection is down the page's #reconnect-banner ("正在重新连接…") is shown and
 * <body data-live="down">; the client retries with exponential back-off (0.5 s doubling up to
 * 15 s, with jitter). The server sends a full snapshot on every (re)connect, so the page is
 * rebuilt from it and never from what it had before. A ping every 15 s keeps the connection
 * honest: if nothing arrives for 40 s, the socket is closed and opened again.
 */
(function () {
  "use strict";

  const MIN_DELAY = 500;
  const MAX_DELAY = 15000;
  const PING_EVERY = 15000;
  const SILENCE_LIMIT = 40000;
  const FIRST_GRACE = 800;

  let counter = 0;
  function nextId() {
    counter += 1;
    return "c" + Date.now().toString(36) + "-" + counter;
  }

  function wsUrl(path) {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + window.location.host + path;
  }

  function banner(down) {
    const el = document.getElementById("reconnect-banner");
    if (el) {
      el.hidden = !down;
    }
    document.body.dataset.live = down ? "down" : "up";
  }

  function live(opts) {
    let ws = null;
    let delay = MIN_DELAY;
    let retryTimer = null;
    let pingTimer = null;
    let lastHeard = Date.now();
    let stopped = false;
    let everUp = false;
    const graceTimer = window.setTimeout(function () {
      if (!everUp) {
        banner(true);
      }
    }, FIRST_GRACE);

    function schedule() {
      if (stopped || retryTimer !== null) {
        return;
      }
      const jitter = 0.8 + Math.random() * 0.4;
      const wait = Math.round(delay * jitter);
      delay = Math.min(delay * 2, MAX_DELAY);
      retryTimer = window.setTimeout(function () {
        retryTimer = null;
        open();
      }, wait);
    }

    function stopPing() {
      if (pingTimer !== null) {
        window.clearInterval(pingTimer);
        pingTimer = null;
      }
    }

    function open() {
      if (stopped) {
        return;
      }
      let socket;
      try {
        socket = new WebSocket(wsUrl(opts.url));
      } catch (err) {
        banner(true);
        schedule();
        return;
      }
      ws = socket;
      socket.onopen = function () {
        lastHeard = Date.now();
        const first = opts.hello ? opts.hello() : null;
        if (first) {
          socket.send(JSON.stringify(Object.assign({id: nextId()}, first)));
        }
        stopPing();
        pingTimer = window.setInterval(function () {
          if (Date.now() - lastHeard > SILENCE_LIMIT) {
            socket.close();
            return;
          }
          if (socket.readyState === WebSocket.OPEN) {
            socket.send(JSON.stringify({type: "ping", id: nextId()}));
          }
        }, PING_EVERY);
      };
      socket.onmessage = function (event) {
        lastHeard = Date.now();
        let msg;
        try {
          msg = JSON.parse(event.data);
        } catch (err) {
          return;
        }
        if (msg.type === "pong" || msg.type === "authenticated") {
          return;
        }
        if (msg.type === "snapshot") {
          everUp = true;
          window.clearTimeout(graceTimer);
          delay = MIN_DELAY;
          banner(false);
          if (opts.onSnapshot) {
            opts.onSnapshot(msg);
          }
          return;
        }
        if (msg.type === "error" && opts.onRefused) {
          opts.onRefused(msg);
          return;
        }
        if (opts.onMessage) {
          opts.onMessage(msg);
        }
      };
      socket.onclose = function () {
        stopPing();
        if (ws === socket) {
          ws = null;
        }
        if (!stopped) {
          banner(true);
          schedule();
        }
      };
      socket.onerror = function () {
        /* onclose follows and schedules the retry */
      };
    }

    open();
    return {
      send: function (msg) {
        if (ws && ws.readyState === WebSocket.OPEN) {
          ws.send(JSON.stringify(Object.assign({id: nextId()}, msg)));
          return true;
        }
        return false;
      },
      close: function () {
        stopped = true;
        stopPing();
        window.clearTimeout(graceTimer);
        if (retryTimer !== null) {
          window.clearTimeout(retryTimer);
          retryTimer = null;
        }
        banner(false);
        if (ws) {
          ws.close();
        }
      },
    };
  }

  window.Renda = Object.assign(window.Renda || {}, {live: live, nextId: nextId});
})();
