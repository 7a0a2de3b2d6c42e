/* The hall (会场大屏) and presidium (主席台) screens: drawn from the server's snapshot.
 *
 * The page is an empty frame; every (re)connect brings a full `snapshot` and the screen is
 * redrawn from it alone. Between snapshots, `attendance` and `poll_status` messages update the
 * figures in place. Nothing here ever receives or draws a count of choices during a vote: the
 * server sends a result only when this screen may show it (docs/protocol.md §7).
 * All text is set with textContent; the only markup inserted is the QR code's SVG, fetched
 * from this server.
 */
(function () {
  "use strict";

  const root = document.getElementById("screen");
  const view = document.body.dataset.view; // "hall" or "presidium"
  let clockOffset = 0; // server time − local time, in ms
  let current = null; // the last snapshot's state
  let countdownTimer = null;

  function h(tag, attrs) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === null || value === undefined || value === false) {
          continue;
        }
        if (key === "text") {
          el.textContent = String(value);
        } else if (key === "class") {
          el.className = value;
        } else {
          el.setAttribute(key, value === true ? "" : String(value));
        }
      }
    }
    for (let i = 2; i < arguments.length; i += 1) {
      const child = arguments[i];
      if (child === null || child === undefined || child === false) {
        continue;
      }
      if (Array.isArray(child)) {
        child.forEach(function (c) { if (c) { el.appendChild(c); } });
      } else if (typeof child === "string" || typeof child === "number") {
        el.appendChild(document.createTextNode(String(child)));
      } else {
        el.appendChild(child);
      }
    }
    return el;
  }

  function figure(label, value, bind, extraClass) {
    return h("div", {class: "figure" + (extraClass ? " " + extraClass : "")},
      h("dt", {text: label}),
      h("dd", {"data-bind": bind, text: value}));
  }

  function percent(part, whole) {
    if (!whole || whole <= 0) {
      return 0;
    }
    return Math.max(0, Math.min(100, Math.round((part / whole) * 1000) / 10));
  }

  /* -- attendance -------------------------------------------------------------------- */

  function attendanceBlock(att, small) {
    return h("section", {class: "attendance" + (small ? " compact" : ""), "aria-labelledby": "att-title"},
      h("h2", {id: "att-title", class: "visually-hidden", text: "出席情况"}),
      h("dl", {class: "figures" + (small ? " small" : "")},
        figure("应到", att.expected, "expected"),
        figure("实到", att.present, "present"),
        figure("请假", att.on_leave, "on_leave"),
        figure("缺席", att.absent, "absent")),
      quorumLine(att));
  }

  function quorumLine(att) {
    const met = !!att.quorum;
    return h("p", {class: "quorum " + (met ? "met" : "unmet"), "data-bind": "quorum"},
      h("span", {class: "mark", text: met ? "符合法定人数" : "不足法定人数"}),
      h("span", {class: "rule", text: " 全体代表 " + att.total + " 名，实到须达三分之二"}));
  }

  function applyAttendance(att) {
    if (current) {
      current.attendance = att;
    }
    const fields = ["expected", "present", "on_leave", "absent"];
    fields.forEach(function (f) {
      root.querySelectorAll('[data-bind="' + f + '"]').forEach(function (el) {
        el.textContent = String(att[f]);
      });
    });
    const q = root.querySelector('[data-bind="quorum"]');
    if (q) {
      q.replaceWith(quorumLine(att));
    }
  }

  /* -- a vote in progress ------------------------------------------------------------ */

  function voteBlock(poll, stage) {
    const issued = poll.issued || 0;
    const received = poll.received || 0;
    const ended = poll.closed_by === "timer" ? "投票时间到，投票已结束" : "投票已结束";
    const note = stage === "counting"
      ? (view === "hall" && poll.result_display !== "immediate"
        ? ended + "，结果待主持人宣布"
        : ended + "，正在计票")
      : (poll.state === "collecting" ? "正在发放选票，请稍候" : "正在投票，请在表决器上操作");
    const parts = [
      h("p", {class: "poll-sub", text: poll.kind_label + " · " + note}),
      h("h2", {class: "poll-title", text: poll.title}),
      h("dl", {class: "figures"},
        figure("发出", issued, "issued"),
        figure("已投", received, "received"),
        poll.deadline && stage === "vote"
          ? h("div", {class: "figure"}, h("dt", {text: "剩余时间"}),
            h("dd", null, h("span", {class: "countdown", "data-deadline": poll.deadline,
              role: "timer", "aria-live": "off", text: "--:--"})))
          : null),
      h("div", {class: "meter", role: "progressbar", "aria-label": "已投 / 发出",
        "aria-valuemin": "0", "aria-valuemax": String(issued), "aria-valuenow": String(received),
        "data-bind": "meter"},
        h("span", {style: "width:" + percent(received, issued) + "%"})),
      poll.deadline && stage === "vote"
        ? h("p", {class: "poll-sub", text: "本次表决设定投票时间" + durationWords(poll.duration)
          + "，时间到自动结束投票"}) : null,
    ];
    return h("section", {class: "vote", "aria-label": "表决进度", "data-poll": poll.poll_id}, parts);
  }

  function durationWords(seconds) {
    if (!seconds) {
      return "";
    }
    const mm = Math.floor(seconds / 60);
    const ss = seconds % 60;
    return mm ? mm + "分" + (ss ? ss + "秒" : "钟") : ss + "秒";
  }

  function applyStatus(msg) {
    if (!current || !current.poll || msg.poll.poll_id !== current.poll.poll_id) {
      return;
    }
    if (msg.poll.state !== current.poll.state) {
      return; // a state change comes with a fresh snapshot
    }
    current.poll.issued = msg.issued;
    current.poll.received = msg.received;
    const set = function (bind, value) {
      root.querySelectorAll('[data-bind="' + bind + '"]').forEach(function (el) {
        el.textContent = String(value);
      });
    };
    set("issued", msg.issued);
    set("received", msg.received);
    const meter = root.querySelector('[data-bind="meter"]');
    if (meter) {
      meter.setAttribute("aria-valuemax", String(msg.issued));
      meter.setAttribute("aria-valuenow", String(msg.received));
      meter.firstElementChild.style.width = percent(msg.received, msg.issued) + "%";
    }
  }

  function tickCountdown() {
    root.querySelectorAll("[data-deadline]").forEach(function (el) {
      const end = Date.parse(el.dataset.deadline);
      const left = Math.max(0, Math.ceil((end - (Date.now() + clockOffset)) / 1000));
      const mm = Math.floor(left / 60);
      const ss = left % 60;
      el.textContent = left > 0
        ? String(mm).padStart(2, "0") + ":" + String(ss).padStart(2, "0") : "时间到";
      el.classList.toggle("ending", left <= 30);
      el.setAttribute("aria-label", left > 0 ? "剩余" + mm + "分" + ss + "秒" : "投票时间到");
    });
  }

  /* -- results ----------------------------------------------------------------------- */

  function choiceFigure(label, cls, value, bar, barMax) {
    return h("div", {class: "figure tally-figure"},
      h("dt", null, h("span", {class: "choice " + cls, text: label})),
      h("dd", {text: value}),
      h("div", {class: "meter", "aria-hidden": "true"},
        h("span", {class: bar, style: "width:" + percent(value, barMax) + "%"})));
  }

  function verdict(result) {
    return h("p", {class: "verdict " + result.tone, text: result.headline});
  }

  function motionResult(result) {
    const row = result.rows[0] || {yes: 0, no: 0, abstain: 0};
    const max = Math.max(result.present, result.issued, 1);
    return [
      h("div", {class: "result-head"}, verdict(result),
        h("p", {class: "poll-sub", text: "全体代表 " + result.total + " 名，赞成须超过半数（"
          + (Math.floor(result.total / 2) + 1) + " 票）"})),
      h("dl", {class: "figures tally"},
        choiceFigure("赞成", "choice-yes", row.yes, "bar-yes", max),
        choiceFigure("反对", "choice-no", row.no, "bar-no", max),
        choiceFigure("弃权", "choice-abstain", row.abstain, "bar-abstain", max),
        choiceFigure("未按", "choice-none", result.not_pressed, "bar-none", max)),
    ];
  }

  function rowsTable(result) {
    const isProjects = result.kind === "projects";
    const max = Math.max(result.returned, result.present, 1);
    const count = result.rows.length;
    const table = h("table", {class: "result-rows", style: "--rows:" + Math.max(count, 3)});
    const head = isProjects
      ? h("tr", null, h("th", {scope: "col", text: "名次"}), h("th", {scope: "col", text: "项目"}),
        h("th", {scope: "col", class: "num", text: "赞成票"}), h("th", {scope: "col", text: "得票"}),
        h("th", {scope: "col", text: "结果"}))
      : h("tr", null, h("th", {scope: "col", text: "候选人"}),
        h("th", {scope: "col", class: "num"}, h("span", {class: "choice choice-yes", text: "赞成"})),
        h("th", {scope: "col", class: "num"}, h("span", {class: "choice choice-no", text: "反对"})),
        h("th", {scope: "col", class: "num"}, h("span", {class: "choice choice-abstain", text: "弃权"})),
        h("th", {scope: "col", text: "得票"}), h("th", {scope: "col", text: "结果"}));
    table.appendChild(h("thead", null, head));
    const body = h("tbody");
    result.rows.forEach(function (row, i) {
      const bar = h("td", {class: "bar-cell", "aria-hidden": "true"},
        h("div", {class: "meter"}, h("span", {class: "bar-yes", style: "width:" + percent(row.yes, max) + "%"})));
      const status = h("td", null, h("span", {class: "status " + row.tone, text: row.status_label}));
      const name = row.name + (row.write_in ? "（另选）" : "");
      const tr = isProjects
        ? h("tr", null, h("td", {class: "num", text: i + 1}), h("th", {scope: "row", text: name}),
          h("td", {class: "num", text: row.yes}), bar, status)
        : h("tr", null, h("th", {scope: "row", text: name}), h("td", {class: "num", text: row.yes}),
          h("td", {class: "num", text: row.no}), h("td", {class: "num", text: row.abstain}), bar, status);
      body.appendChild(tr);
      if (isProjects && result.line_after !== null && i === result.line_after - 1
          && result.line_after < count) {
        body.appendChild(h("tr", {class: "cut-line"},
          h("td", {colspan: "5", text: "入选线：以上 " + result.line_after + " 项入选"})));
      }
    });
    table.appendChild(body);
    return table;
  }

  function listResult(result) {
    const parts = [h("div", {class: "result-head"}, verdict(result),
      h("p", {class: "poll-sub", text: "发出 " + result.issued + " 张，收回 " + result.returned
        + " 张，有效 " + result.valid_ballots + " 张，无效 " + result.void_ballots + " 张"}))];
    if (result.valid) {
      parts.push(rowsTable(result));
    }
    return parts;
  }

  function nextSteps(result) {
    if (!result.next_steps || !result.next_steps.length) {
      return null;
    }
    return h("div", {class: "next-steps"},
      h("h3", {text: "下一步"}),
      h("ul", null, result.next_steps.map(function (n) {
        return h("li", null, h("strong", {text: n.label + (n.seats ? "（" + n.seats + "名）" : "")}),
          n.reason ? " " + n.reason : "");
      })));
  }

  function verifyBlock(result) {
    if (!result.published || !result.qr_url) {
      return null;
    }
    const box = h("div", {class: "qr", "data-qr": result.qr_url});
    fetch(result.qr_url).then(function (r) { return r.ok ? r.text() : ""; }).then(function (svg) {
      if (svg.startsWith("<svg")) {
        box.innerHTML = svg; /* our own server's SVG (voting/web/qrsvg.py) */
      }
    }).catch(function () {});
    return h("aside", {class: "verify", "aria-label": "核验"},
      box,
      h("div", null,
        h("p", {class: "verify-title", text: result.method_label
          ? "扫码查看计票结果报告单（人工清点，无法用密码学方法核验）" : "扫码查看公开记录"}),
        h("p", {class: "fingerprint", "aria-label": "公开记录指纹"},
          h("span", {class: "fp-label", text: "记录指纹 "}),
          groups(result.fingerprint || "").join(" "))));
  }

  function groups(hex) {
    const out = [];
    for (let i = 0; i < hex.length; i += 4) {
      out.push(hex.slice(i, i + 4));
    }
    return out;
  }

  function resultBlock(result) {
    const body = result.kind === "motion" || result.kind === "confirmation" && result.rows.length === 1
      ? motionResult(result) : listResult(result);
    const isList = !(result.kind === "motion" || result.kind === "confirmation" && result.rows.length === 1);
    return h("section", {class: "result" + (isList ? " list" : ""), "aria-label": "表决结果",
      "data-poll": result.poll_id},
      h("p", {class: "poll-sub", text: result.kind_label + " · "
        + (result.method_label ? result.method_label + " · " : "")
        + (result.published ? "表决结果" : "计票结果（尚未公布）")}),
      result.method_label ? h("p", {class: "poll-sub manual-mark",
        text: "表决器故障，" + result.method_label + "：票数由人工清点、秘书处录入，经监票人签名确认"}) : null,
      h("h2", {class: "poll-title", text: result.title}),
      h("div", {class: "result-main"},
        h("div", {class: "result-body"}, body, nextSteps(result),
          result.valid ? null : h("p", {class: "poll-sub", text: result.verdict_label}),
          result.error ? h("p", {class: "poll-sub", text: "计票出现问题：" + result.error}) : null,
          result.published ? null : h("p", {class: "poll-sub", text: "主持人宣布后，公开记录和二维码在会场大屏和公告栏上显示"})),
        verifyBlock(result)));
  }

  /* -- the presidium's process view -------------------------------------------------- */

  function processBlock(proc) {
    if (!proc) {
      return null;
    }
    const trustees = h("ul", {class: "trustees"}, proc.scrutineers.map(function (t) {
      return h("li", {class: t.connected ? "on" : "off"},
        h("span", {class: "dot", "aria-hidden": "true", text: t.connected ? "●" : "○"}),
        " " + t.name + " ", h("strong", {text: t.connected ? "已连接" : "未连接"}));
    }));
    const steps = h("ol", {class: "steps"}, (proc.steps || []).map(function (s) {
      const mark = s.done ? "✓" : s.current ? "▶" : "·";
      const word = s.done ? "完成" : s.current ? "进行中" : "等待";
      return h("li", {class: s.done ? "done" : s.current ? "current" : "todo"},
        h("span", {class: "step-mark", "aria-hidden": "true", text: mark}),
        h("span", {class: "step-label", text: s.label}),
        h("span", {class: "step-state", text: word + (s.detail ? "（" + s.detail + "）" : "")}));
    }));
    return h("section", {class: "process", "aria-labelledby": "proc-title"},
      h("h2", {id: "proc-title", text: "计票过程"}),
      proc.poll_title ? h("p", {class: "process-poll", text: proc.poll_title}) : null,
      steps,
      proc.stuck ? h("p", {class: "stuck", role: "alert"},
        h("strong", {text: "计票暂停："}), proc.stuck) : null,
      proc.notice ? h("p", {class: "stuck", role: "status"},
        h("strong", {text: "计票说明："}), proc.notice) : null,
      proc.scrutineers.length
        ? h("h3", {text: "监票人（解密需 " + proc.threshold + " 人）"}) : null,
      proc.scrutineers.length ? trustees
        : h("p", {class: "muted", text: "本次会议未设监票人，由服务器密钥解密"}));
  }

  /* -- the whole screen -------------------------------------------------------------- */

  function draw(state) {
    current = state;
    const stage = state.stage;
    const small = stage !== "idle";
    const main = [attendanceBlock(state.attendance, small)];
    if (stage === "vote" || stage === "counting") {
      main.push(voteBlock(state.poll, stage));
    } else if (stage === "result" && state.result) {
      main.push(resultBlock(state.result));
    } else {
      main.push(h("p", {class: "idle", text: state.attendance.total
        ? "欢迎各位代表出席会议" : "会议尚未开始"}));
    }
    const content = h("div", {class: "screen-content"}, h("div", {class: "screen-main"}, main),
      view === "presidium" ? processBlock(state.process) : null);
    root.replaceChildren(content);
    root.dataset.stage = stage;
    fitRows();
    if (countdownTimer === null) {
      countdownTimer = window.setInterval(tickCountdown, 250);
    }
    tickCountdown();
  }

  /* A long list (many candidates or projects) is made smaller until it fits on the screen. */
  function fitRows() {
    const table = root.querySelector(".result-rows");
    if (!table) {
      return;
    }
    const limit = window.innerHeight - 8;
    const bottom = function () {
      const next = root.querySelector(".next-steps");
      const last = next || table;
      return last.getBoundingClientRect().bottom;
    };
    let size = parseFloat(getComputedStyle(table).fontSize);
    const floor = window.innerHeight * 0.022;
    while (bottom() > limit && size > floor) {
      size = Math.max(floor, size * 0.92);
      table.style.fontSize = size + "px";
    }
  }
  window.addEventListener("resize", fitRows);

  function clock() {
    const el = document.getElementById("clock");
    if (!el) {
      return;
    }
    const now = new Date(Date.now() + clockOffset);
    el.textContent = now.toLocaleTimeString("zh-CN", {hour12: false});
  }
  window.setInterval(clock, 1000);

  const TOKEN_KEY = "renda.presidium-token";

  /* The presidium's view: a browser logged in to the console as the chair or the secretariat
     (its session cookie goes with the websocket's handshake), or the chair's token typed into
     this page once and kept in this tab's sessionStorage only — never in an address. */
  let hadToken = false; // refused with a token typed here (else: no console login yet)

  function hello() {
    if (view === "hall") {
      return {type: "watch", view: "hall", protocol: "renda-1"};
    }
    const token = window.sessionStorage.getItem(TOKEN_KEY);
    hadToken = !!token;
    if (token) {
      return {type: "auth", token: token, protocol: "renda-1"};
    }
    return {type: "watch", view: "presidium", protocol: "renda-1"};
  }

  function askToken(failed) {
    const box = document.getElementById("token-form-box");
    const form = document.getElementById("token-form");
    root.hidden = true;
    box.hidden = false;
    document.getElementById("token-error").hidden = !failed;
    form.onsubmit = function (event) {
      event.preventDefault();
      window.sessionStorage.setItem(TOKEN_KEY, document.getElementById("token").value.trim());
      box.hidden = true;
      root.hidden = false;
      connect();
    };
  }

  let live = null;

  function start() {
    if (view === "presidium") {
      if (window.location.hash) { /* an old address with #token=…: never kept, never used */
        window.history.replaceState(null, "", window.location.pathname);
      }
    }
    connect();
  }

  function connect() {
    live = Renda.live({
      url: "/ws/display",
      hello: hello,
      onSnapshot: function (msg) {
        const state = msg.state;
        if (state.server_time) {
          clockOffset = Date.parse(state.server_time) - Date.now();
        }
        draw(state);
        clock();
      },
      onMessage: function (msg) {
        if (msg.type === "attendance") {
          applyAttendance(msg);
        } else if (msg.type === "poll_status") {
          applyStatus(msg);
        }
      },
      onRefused: function (msg) {
        if (view === "presidium" && (msg.code === "unauthenticated" || msg.code === "forbidden")) {
          window.sessionStorage.removeItem(TOKEN_KEY);
          live.close();
          live = null;
          askToken(hadToken); /* no console login (or it ran out), or a wrong token */
        }
      },
    });
  }

  window.RendaScreen = {start: start, draw: draw};
})();
