// The deputy's tablet page. It only shows and asks: the kiosk process on this tablet holds the
// keys, builds, encrypts and sends the ballot (docs/tablet.md). State comes as snapshots over
// server-sent events from /events; the deputy's taps stay on this page until the review, then
// the choice goes to the kiosk process (POST /api/review, /api/cast). No timer ever clears a
// choice.
"use strict";

const MARKS = ["赞成", "反对", "弃权"];
const MARK_CLASS = ["yes", "no", "abstain"];
let state = null;
let draft = null; // {poll_id, answers, reviewing, review, alert}
let enrolForm = { server: "", code: "", error: "", busy: false };
let keypad = null; // {section, digits}
let nameEntry = null; // {section, text, error}: a free name (where anyone may be elected)
let aboutOpen = false; // the 本机信息 dialog

const main = document.getElementById("main");
const overlay = document.getElementById("overlay");

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}

async function post(path, body) {
  const r = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  let data = {};
  try { data = await r.json(); } catch (e) { data = {}; }
  if (!r.ok) throw new Error((data.error && data.error.message) || "请求未成功，请再试一次");
  return data;
}

// -- the connection to this tablet's kiosk process --------------------------------------------

function connect() {
  const source = new EventSource("/events");
  source.onmessage = (event) => {
    state = JSON.parse(event.data);
    render();
  };
  source.onerror = () => {
    document.getElementById("link").textContent = "表决器程序重新启动中…";
    document.getElementById("link").className = "link down";
  };
}

// -- the draft ballot ---------------------------------------------------------------------------

function emptyAnswers(form) {
  return form.sections.map((s) => {
    if (s.type === "motion") return { answer: null };
    if (s.type === "marks") return { marks: s.items.map(() => null) };
    if (s.type === "choose") return { chosen: [] };
    return { marks: s.candidates.map(() => null), write_ins: [] };
  });
}

function ensureDraft(poll) {
  if (!draft || draft.poll_id !== poll.poll_id) {
    draft = { poll_id: poll.poll_id, answers: emptyAnswers(poll.form), reviewing: false,
              review: null, alert: "" };
    keypad = null;
    nameEntry = null;
  }
  return draft;
}

function yesCount(answer) {
  return answer.marks.filter((m) => m === 0).length;
}

function tapMark(si, k, mark) {
  const section = state.poll.form.sections[si];
  const answer = draft.answers[si];
  draft.alert = "";
  if (section.type === "motion") {
    answer.answer = answer.answer === mark ? null : mark;
    render();
    return;
  }
  const current = answer.marks[k];
  if (current === mark) {
    answer.marks[k] = null;
  } else {
    if (mark === 0) {
      const seats = section.seats;
      const used = yesCount(answer) + (answer.write_ins ? answer.write_ins.length : 0);
      if (seats && used >= seats) {
        draft.alert = section.type === "election"
          ? `应选${seats}名，赞成和另选他人已有${seats}名，不能再赞成。如要改选，请先取消一位。`
          : `应选${seats}名，已赞成${seats}名，不能再赞成。如要改选，请先取消一位。`;
        render();
        return;
      }
    }
    if (current === 1 && section.type === "election" && section.pairing !== false) {
      const no = answer.marks.filter((m) => m === 1).length;
      if (answer.write_ins.length >= no) {
        draft.alert = "这张反对票配有另选他人，请先取消一位另选的人。";
        render();
        return;
      }
    }
    answer.marks[k] = mark;
  }
  render();
}

function tapChoose(si, k) {
  const section = state.poll.form.sections[si];
  const answer = draft.answers[si];
  draft.alert = "";
  const at = answer.chosen.indexOf(k);
  if (at >= 0) {
    answer.chosen.splice(at, 1);
  } else if (answer.chosen.length >= section.max) {
    draft.alert = `最多选${section.max}项，已经选满${section.max}项。如要改选，请先取消一项。`;
  } else {
    answer.chosen.push(k);
  }
  render();
}

// why one more write-in cannot be made now ("" when it can): the seats, and the 反对 it needs
function writeInRefusal(si) {
  const section = state.poll.form.sections[si];
  const answer = draft.answers[si];
  const no = answer.marks.filter((m) => m === 1).length;
  const used = yesCount(answer) + answer.write_ins.length;
  if (used >= section.seats) return `应选${section.seats}名，赞成和另选他人已有${section.seats}名，不能再另选。`;
  if (section.pairing !== false && answer.write_ins.length >= no) return "另选他人前，请先对一位候选人投反对票。";
  return "";
}

function openKeypad(si) {
  draft.alert = writeInRefusal(si);
  if (!draft.alert) keypad = { section: si, digits: "", error: "" };
  render();
}

function openNameEntry(si) {
  draft.alert = writeInRefusal(si);
  if (!draft.alert) nameEntry = { section: si, text: "", error: "" };
  render();
  const input = document.getElementById("free-name");
  if (input) input.focus();
}

// the same checks as the kiosk process (tally.election_ballot.name_problem), said plainly
function nameProblem(name, section, answer) {
  const chars = Array.from(name);
  if (!chars.length) return "请输入被选人的姓名";
  if (chars.length > section.names) return `姓名最多${section.names}个字，现在是${chars.length}个字`;
  if (chars.some((c) => c !== " " && /[\p{C}\p{Z}]/u.test(c))) return "姓名中有无法打印的控制字符或特殊空格，请重新输入";
  if (/^[0-9]+$/.test(name)) return "姓名不能只有数字；另选代表请按座位号输入";
  if (section.candidates.includes(name)) return `「${name}」是候选人，请直接对他投赞成票，不用另选`;
  if (answer.write_ins.includes(name)) return "这个人已经另选过了";
  return "";
}

function nameKey(key) {
  if (!nameEntry) return;
  const section = state.poll.form.sections[nameEntry.section];
  const answer = draft.answers[nameEntry.section];
  const input = document.getElementById("free-name");
  if (input) nameEntry.text = input.value;
  if (key === "cancel") { nameEntry = null; render(); return; }
  const name = nameEntry.text.trim();
  nameEntry.error = nameProblem(name, section, answer);
  if (!nameEntry.error) { answer.write_ins.push(name); nameEntry = null; }
  render();
}

function keypadKey(key) {
  if (!keypad) return;
  const section = state.poll.form.sections[keypad.section];
  const answer = draft.answers[keypad.section];
  keypad.error = "";
  if (key === "del") keypad.digits = keypad.digits.slice(0, -1);
  else if (key === "cancel") keypad = null;
  else if (key === "ok") {
    const n = parseInt(keypad.digits, 10);
    if (!n || n < 1 || n > section.roster_max) keypad.error = "没有这个座位号，请核对";
    else if (answer.write_ins.includes(n)) keypad.error = "这位代表已经另选过了";
    else { answer.write_ins.push(n); keypad = null; }
  } else if (keypad.digits.length < 6) keypad.digits += key;
  render();
}

async function toReview() {
  try {
    const review = await post("/api/review", { poll_id: draft.poll_id, answers: draft.answers });
    draft.review = review;
    draft.reviewing = true;
    draft.alert = "";
  } catch (e) {
    draft.alert = e.message;
  }
  render();
  main.scrollTop = 0;
}

async function confirmCast() {
  try {
    draft.casting = true;
    render();
    await post("/api/cast", { poll_id: draft.poll_id, answers: draft.answers });
  } catch (e) {
    draft.casting = false;
    draft.alert = e.message;
    render();
  }
}

// -- rendering ---------------------------------------------------------------------------------

function header() {
  const who = document.getElementById("who");
  const d = state.deputy || {};
  who.innerHTML = state.screen === "enrol"
    ? "<strong>平板登记</strong>"
    : `${esc(state.session)}　<strong>${esc(d.name || "")}</strong>` +
      (d.seat ? `　${esc(d.seat)}号座位` : "");
  const link = document.getElementById("link");
  if (state.screen === "enrol") { link.textContent = ""; link.className = "link"; }
  else if (state.online) { link.textContent = "● 已连接"; link.className = "link up"; }
  else { link.textContent = "● 未连接，正在重新连接"; link.className = "link down"; }
  const size = document.getElementById("textsize");
  size.setAttribute("aria-pressed", state.large_text ? "true" : "false");
  size.textContent = state.large_text ? "标准字" : "大字";
  document.getElementById("about").hidden = state.screen === "enrol";
  document.documentElement.classList.toggle("large", !!state.large_text);
}

function markButtons(si, k, value, label) {
  return `<div class="marks" role="group" aria-label="${esc(label)}">` + MARKS.map((word, m) =>
    `<button type="button" class="mark ${MARK_CLASS[m]}" data-act="mark" data-s="${si}" ` +
    `data-k="${k}" data-m="${m}" aria-pressed="${value === m}">` +
    `<span class="tick" aria-hidden="true">✓ </span>${word}</button>`).join("") +
    "</div>";
}

function renderSection(section, si, answer) {
  if (section.type === "motion") {
    return `<section class="motion" aria-label="表决">` +
      markButtons(si, 0, answer.answer, section.title || "表决") + "</section>";
  }
  if (section.type === "marks") {
    let out = "";
    if (section.seats) {
      const yes = yesCount(answer);
      out += `<div class="counter" aria-live="polite">赞成 <span class="${yes >= section.seats ? "full" : ""}">${yes}</span> / 应选 ${section.seats}</div>`;
    }
    out += '<ol class="items">' + section.items.map((item, k) =>
      `<li class="item"><span class="name">${k + 1}. ${esc(item)}</span>` +
      (answer.marks[k] === null ? '<span class="no-mark">未选</span>' : "") +
      markButtons(si, k, answer.marks[k], item) + "</li>").join("") + "</ol>";
    return `<section aria-label="选票">${out}</section>`;
  }
  if (section.type === "choose") {
    const n = answer.chosen.length;
    return `<section aria-label="候选项目"><div class="counter" aria-live="polite">已选 ` +
      `<span class="${n >= section.max ? "full" : ""}">${n}</span> / ${section.max}</div>` +
      '<ul class="choose">' + section.items.map((item, k) => {
        const on = answer.chosen.includes(k);
        return `<li><button type="button" data-act="choose" data-s="${si}" data-k="${k}" ` +
          `aria-pressed="${on}"><span class="box" aria-hidden="true"></span>` +
          `<span><span class="num">${k + 1}.</span> ${esc(item)}</span></button></li>`;
      }).join("") + "</ul></section>";
  }
  // the 人大 election ballot: marks per candidate, then 另选他人
  // 所选人数 = 赞成 + 另选他人 (选举法 第四十四条): both named once a write-in is made
  const named = yesCount(answer) + answer.write_ins.length;
  const full = named >= section.seats ? "full" : "";
  let out = answer.write_ins.length
    ? `<div class="counter" aria-live="polite">已选 <span class="${full}">${named}</span>` +
      `（赞成 ${yesCount(answer)}，另选他人 ${answer.write_ins.length}） / 应选 ${section.seats}</div>`
    : `<div class="counter" aria-live="polite">赞成 <span class="${full}">${named}</span> / 应选 ${section.seats}</div>`;
  out += '<ol class="items">' + section.candidates.map((name, k) =>
    `<li class="item"><span class="name">${k + 1}. ${esc(name)}</span>` +
    (answer.marks[k] === null ? '<span class="no-mark">未选</span>' : "") +
    markButtons(si, k, answer.marks[k], name) + "</li>").join("") + "</ol>";
  const pair = section.pairing !== false ? "另选一人，须对一位候选人投反对票；" : "";
  out += '<h2>另选他人</h2><p class="hint">' + pair + (section.names
    ? `另选代表，输入座位号；另选不是本级人大代表的人，输入姓名（最多${section.names}个字）。`
    : "输入被选人的座位号。") + '</p><div class="writeins">';
  out += answer.write_ins.map((n, w) =>
    `<span class="writein">${typeof n === "string" ? esc(n) + "（非代表）" : n + "号代表"} ` +
    `<button type="button" data-act="unwrite" data-s="${si}" data-k="${w}">取消</button></span>`).join("");
  out += section.names
    ? `<button type="button" data-act="write" data-s="${si}">＋ 按座位号另选代表</button>` +
      `<button type="button" data-act="write-name" data-s="${si}">＋ 按姓名另选他人</button></div>`
    : `<button type="button" data-act="write" data-s="${si}">＋ 另选他人</button></div>`;
  return `<section aria-label="${esc(section.title)}">${out}</section>`;
}

function renderBallot(poll) {
  const form = poll.form;
  ensureDraft(poll);
  if (draft.reviewing) return renderReview(poll);
  let out = `<p class="kind">${esc(form.kind_title)}</p><h1>${esc(form.title)}</h1>`;
  if (form.description) out += `<p>${esc(form.description)}</p>`;
  if (form.rule) out += `<p class="rule">${esc(form.rule)}</p>`;
  if (form.first_press) out += '<p class="notice">本次表决以第一次确认为准，确认后不能更改。</p>';
  out += form.sections.map((s, si) => renderSection(s, si, draft.answers[si])).join("");
  out += '<div class="dock">' + (draft.alert ? `<p class="alert" role="alert">${esc(draft.alert)}</p>` : "");
  out += '<div class="actions"><button type="button" class="primary" data-act="review">' +
    "下一步：核对选票</button></div></div>";
  return out;
}

function renderReview(poll) {
  const form = poll.form;
  const r = draft.review;
  let out = `<p class="kind">${esc(form.kind_title)}</p><h1>请核对您的选票</h1>` +
    `<p>${esc(form.title)}</p>`;
  if (form.first_press) out += '<p class="notice"><strong>确认后不能更改。</strong></p>';
  if (r.notes && r.notes.length) out += r.notes.map((n) => `<p>${esc(n)}</p>`).join("");
  if (r.unmarked.length) {
    out += '<div class="notice"><strong>未选：</strong>' +
      r.unmarked.map((u) => `<p>${esc(u)}</p>`).join("") + "</div>";
  }
  if (r.problems.length) {
    out += '<div class="alert" role="alert">' + r.problems.map((p) => `<p>${esc(p)}</p>`).join("") +
      "</div>";
  }
  const word = { election: "候选人", confirmation: "人选", removal: "人选", motion: "表决" }[form.kind] || "项目";
  out += `<table class="review"><thead><tr><th scope="col">${word}</th><th scope="col">您的选择</th>` +
    "</tr></thead><tbody>" + r.lines.map((l) =>
      `<tr class="${l.unmarked ? "unmarked" : ""}"><td>${esc(l.item)}</td><td>${esc(l.choice)}</td></tr>`
    ).join("") + "</tbody></table>";
  out += '<div class="dock">' + (draft.alert ? `<p class="alert" role="alert">${esc(draft.alert)}</p>` : "");
  out += '<div class="actions"><button type="button" class="secondary" data-act="back">返回修改</button>';
  if (!r.problems.length) {
    out += `<button type="button" class="primary" data-act="cast"${draft.casting ? ' aria-disabled="true"' : ""}>` +
      (draft.casting ? "正在加密…" : "确认投票") + "</button>";
  }
  return out + "</div></div>";
}

function trackerHtml(groups, centered) {
  const lead = groups.slice(0, 2).join(" ");
  const rest = groups.slice(2).join(" ");
  return `<p class="tracker${centered ? " center" : ""}" aria-label="跟踪号 ${esc(groups.join(" "))}">` +
    `<span class="lead">${esc(lead)}</span> ${esc(rest)}</p>`;
}

function renderSending(poll) {
  let out = `<p class="kind">${esc(poll.title)}</p><h1>正在发送选票</h1>`;
  out += "<p>您的选票已在本平板上加密。跟踪号：</p>" + trackerHtml(poll.tracker_groups);
  if (!state.online) {
    out += '<div class="notice" role="status"><strong>暂时连不上会议服务器。</strong>' +
      "<p>您的选票已经保存在本平板上，连接恢复后会自动发送，不需要重新投票。</p></div>";
  } else {
    out += '<p class="notice ok" role="status">正在等待会议服务器的回执…</p>';
  }
  return out;
}

function renderReceipt(poll) {
  return '<div class="receipt"><div class="text">' +
    `<p class="kind">${esc(poll.title)}</p><p class="done">✓ 已投票</p>` +
    "<p>跟踪号（用来在公告栏核对您的选票已被计入，不显示您的选择）：</p>" +
    trackerHtml(poll.tracker_groups) +
    '<p class="notice ok">回执已核对：会议服务器的签名正确。</p></div>' +
    `<img src="/receipt/${encodeURIComponent(poll.poll_id)}/qr.svg" ` +
    'alt="二维码：在公告栏查看这个跟踪号"></div>' +
    '<p class="hint">扫描二维码，可以在公告栏找到这个跟踪号。</p>';
}

function renderClosed(poll) {
  if (poll.ended) {
    const word = poll.ended === "void" ? "本次表决已宣布无效" : "本次表决已撤回";
    return `<p class="kind">${esc(poll.title)}</p><h1 class="center">${word}</h1>` +
      '<p class="center">这次表决不计结果。请听会议主持人的安排。</p>';
  }
  let out = `<p class="kind">${esc(poll.title)}</p><h1 class="center">投票已结束</h1>`;
  if (poll.receipt) out += '<p class="center">您的选票已被收到。跟踪号：</p>' + trackerHtml(poll.tracker_groups, true);
  else if (poll.voted) out += '<p class="center">投票结束前，您的选票没有送达会议服务器。请联系秘书处。</p>';
  else out += '<p class="center">您没有在这次表决中投票。</p>';
  return out + '<p class="center hint">结果公布后会在这里显示。</p>';
}

function num(n) { return n === null || n === undefined ? "" : String(n); }

function renderResult(poll) {
  const r = poll.result;
  let out = `<p class="kind">表决结果</p><h1>${esc(r.title)}</h1>`;
  if (r.verdict) out += `<p class="alert">本次表决${esc(r.verdict)}</p>`;
  out += '<div class="figures">' + r.figures.filter((f) => f[1] !== null).map((f) =>
    `<div>${esc(f[0])} <b>${f[1]}</b></div>`).join("") +
    (r.unpressed !== null ? `<div>未按 <b>${r.unpressed}</b></div>` : "") + "</div>";
  const three = r.rows.some((row) => row.no !== null && row.no !== undefined);
  out += `<table class="results"><thead><tr><th scope="col">${esc(r.item_word || "项目")}</th><th scope="col" class="n">赞成</th>` +
    (three ? '<th scope="col" class="n">反对</th><th scope="col" class="n">弃权</th>' : "") +
    '<th scope="col">结果</th></tr></thead><tbody>' + r.rows.map((row) =>
      `<tr><td>${esc(row.item)}${row.write_in ? "（另选）" : ""}</td><td class="n">${num(row.yes)}</td>` +
      (three ? `<td class="n">${num(row.no)}</td><td class="n">${num(row.abstain)}</td>` : "") +
      `<td class="${row.good ? "good" : ""}">${esc(row.status)}</td></tr>`).join("") +
    "</tbody></table>";
  if (r.next.length) out += `<p class="notice">下一步：${esc(r.next.join("、"))}</p>`;
  if (poll.receipt) out += '<p class="hint">您的跟踪号：' + esc(poll.tracker_groups.join(" ")) + "</p>";
  return out;
}

function renderWaiting() {
  const d = state.deputy || {};
  let out = `<div class="center"><p class="session">${esc(state.session || "会议")}</p>`;
  out += `<p>代表 <strong>${esc(d.name || "")}</strong>　${esc(d.delegation || "")}　座位 <strong>${esc(d.seat || "")}</strong></p>`;
  if (state.present) {
    out += '<p class="badge in">已签到</p><p>请等待下一项表决。表决开始时，选票会自动出现。</p>';
  } else {
    out += '<p class="badge out">请签到</p><p>请到签到处签到。签到后，本平板才能表决。</p>';
  }
  return out + "</div>";
}

function renderEnrol() {
  const f = enrolForm;
  if (!f.server) f.server = state.server_url || "";
  let out = "<h1>平板登记</h1><p>由秘书处操作：输入登记卡上的登记码，或扫描登记卡上的二维码。</p>";
  out += '<label for="server">会议服务器地址</label>' +
    `<input id="server" type="url" inputmode="url" value="${esc(f.server)}" autocomplete="off">`;
  out += '<label for="code">登记码（16位，字母不分大小写，空格和横线可有可无）</label>' +
    `<input id="code" class="code" type="text" autocomplete="off" autocapitalize="characters" ` +
    `spellcheck="false" value="${esc(f.code)}">`;
  if (f.error) out += `<p class="alert" role="alert">${esc(f.error)}</p>`;
  out += '<div class="actions">';
  if ("BarcodeDetector" in window && navigator.mediaDevices) {
    out += '<button type="button" class="secondary" data-act="scan">扫描二维码</button>';
  }
  out += `<button type="button" class="primary" data-act="enrol">${f.busy ? "正在登记…" : "登记"}</button></div>`;
  out += '<div id="scanner"></div>';
  return out;
}

function renderAbout() {
  const a = state.about || {};
  const t = a.trustees || {};
  const d = state.deputy || {};
  let out = '<div class="dialog" role="dialog" aria-modal="true" aria-labelledby="about-title">' +
    '<h2 id="about-title">本机信息</h2><dl class="about">' +
    `<dt>会议</dt><dd>${esc(state.session || "—")}</dd>` +
    `<dt>代表</dt><dd>${esc(d.name || "—")}${d.seat ? "　" + esc(d.seat) + "号座位" : ""}</dd>` +
    `<dt>会议服务器</dt><dd>${esc(state.server_url || "—")}</dd>` +
    `<dt>服务器密钥指纹</dt><dd class="fp">${esc(a.server_key || "—")}</dd>` +
    "<dt>监票人密钥指纹</dt>";
  const groups = t.groups || [];
  if (groups.length) {
    // one fingerprint per group (motions, elections), as `renda trustee` prints them
    groups.forEach((g, i) => {
      out += `<dd class="fp-group">${esc(g.group)}</dd>` +
        `<dd class="fp" id="trustees-fp${i ? "-" + (i + 1) : ""}">${esc(g.fingerprint)}</dd><dd>` +
        (g.needed ? `已核对 ${g.signers.length} 名监票人的签名（至少需 ${g.needed} 名）：监票人 ` +
          g.signers.map(esc).join("、") : "测试会议：没有监票人（只在测试中使用）") + "。</dd>";
    });
    out += "<dd>请与监票人在会上宣布的指纹逐组核对；不一致时不要投票，告诉秘书处。</dd>";
  } else {
    out += "<dd>尚未收到。第一次表决时，本机核对监票人的签名后在此显示。</dd>";
  }
  return out + '</dl><div class="actions"><button type="button" class="primary" ' +
    'data-act="about-close">关闭</button></div></div>';
}

function renderNameEntry() {
  const section = state.poll.form.sections[nameEntry.section];
  const error = document.getElementById("name-error");
  if (overlay.dataset.kind === "name" && document.getElementById("free-name") && error) {
    // never rebuild the field while the deputy types (the input method keeps its composition)
    error.textContent = nameEntry.error;
    error.hidden = !nameEntry.error;
    return;
  }
  overlay.dataset.kind = "name";
  overlay.innerHTML = '<div class="dialog" role="dialog" aria-modal="true" aria-labelledby="nm-title">' +
    '<h2 id="nm-title">另选他人：输入被选人的姓名</h2>' +
    `<p class="hint" id="nm-hint">被选人不是本级人大代表时按姓名填写，最多${section.names}个字。` +
    "另选代表请取消后按座位号填写。</p>" +
    '<label for="free-name">被选人姓名</label>' +
    `<input id="free-name" class="free-name" type="text" lang="zh-CN" autocomplete="off" ` +
    `spellcheck="false" aria-describedby="nm-hint name-error" value="${esc(nameEntry.text)}">` +
    `<p class="alert" role="alert" id="name-error"${nameEntry.error ? "" : " hidden"}>${esc(nameEntry.error)}</p>` +
    '<div class="actions"><button type="button" class="secondary" data-act="name" data-key="cancel">取消</button>' +
    '<button type="button" class="primary" data-act="name" data-key="ok">确定</button></div></div>';
}

function renderKeypad() {
  if (!keypad && !nameEntry && aboutOpen && state.screen !== "enrol") {
    overlay.hidden = false; overlay.dataset.kind = "about"; overlay.innerHTML = renderAbout(); return;
  }
  if (nameEntry) { overlay.hidden = false; renderNameEntry(); return; }
  if (!keypad) { overlay.hidden = true; overlay.dataset.kind = ""; overlay.innerHTML = ""; return; }
  overlay.hidden = false;
  overlay.dataset.kind = "keypad";
  const keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "del", "0", "ok"];
  const label = { del: "删除", ok: "确定" };
  overlay.innerHTML = '<div class="dialog" role="dialog" aria-modal="true" aria-labelledby="kp-title">' +
    '<h2 id="kp-title">另选他人：输入被选人的座位号</h2>' +
    `<p class="entered" aria-live="polite">${esc(keypad.digits) || "　"}</p>` +
    (keypad.error ? `<p class="alert" role="alert">${esc(keypad.error)}</p>` : "") +
    '<div class="keypad">' + keys.map((k) =>
      `<button type="button" data-act="key" data-key="${k}">${label[k] || k}</button>`).join("") +
    '</div><div class="actions"><button type="button" class="secondary" data-act="key" ' +
    'data-key="cancel">取消</button></div></div>';
}

// the preset voting time (GB 50799 §6.2.2-4): the deadline the server signed, counted down
let clockOffset = 0; // the kiosk process's clock − this page's, in ms

function tickTimer() {
  const box = document.getElementById("timer");
  const poll = state && state.poll;
  const deadline = poll && poll.deadline ? Date.parse(poll.deadline) : NaN;
  if (!box) return;
  if (isNaN(deadline)) { box.hidden = true; return; }
  const left = Math.max(0, Math.ceil((deadline - (Date.now() + clockOffset)) / 1000));
  const mm = Math.floor(left / 60), ss = left % 60;
  document.getElementById("timer-left").textContent =
    left > 0 ? String(mm).padStart(2, "0") + ":" + String(ss).padStart(2, "0") : "时间到";
  box.setAttribute("aria-label", left > 0 ? `剩余投票时间${mm}分${ss}秒` : "投票时间到");
  box.classList.toggle("ending", left <= 30);
  box.hidden = false;
}
setInterval(tickTimer, 250);

function render() {
  if (!state) return;
  if (state.now) clockOffset = Date.parse(state.now) - Date.now();
  header();
  tickTimer();
  const poll = state.poll;
  let html;
  switch (state.screen) {
    case "enrol": html = renderEnrol(); break;
    case "connecting": html = '<h1 class="center">正在连接会议服务器…</h1>' +
      '<p class="center">请稍候。连接上以后会自动显示。</p>'; break;
    case "ballot": html = renderBallot(poll); break;
    case "sending": html = renderSending(poll); break;
    case "receipt": html = renderReceipt(poll); break;
    case "closed": html = renderClosed(poll); break;
    case "result": html = renderResult(poll); break;
    case "refused": html = `<h1>本平板不能在这次表决中投票</h1><p class="alert">${esc(poll.refused)}</p>` +
      "<p>请联系秘书处。</p>"; break;
    default: html = renderWaiting();
  }
  if (state.screen !== "ballot") { keypad = null; nameEntry = null; }
  if (state.message && state.screen !== "enrol") html += `<p class="notice" role="status">${esc(state.message)}</p>`;
  const screenKey = state.screen + ":" + (poll ? poll.poll_id : "") + ":" + (draft && draft.reviewing);
  const keepScroll = main.dataset.screen === screenKey ? main.scrollTop : 0;
  main.innerHTML = html;
  main.dataset.screen = screenKey;
  main.scrollTop = keepScroll;
  renderKeypad();
}

// -- the secretariat's enrolment ---------------------------------------------------------------

async function enrol() {
  enrolForm.server = document.getElementById("server").value.trim();
  enrolForm.code = document.getElementById("code").value;
  enrolForm.error = "";
  if (!enrolForm.server) { enrolForm.error = "请填写会议服务器地址"; render(); return; }
  enrolForm.busy = true;
  render();
  try {
    await post("/api/enrol", { server: enrolForm.server, code: enrolForm.code });
    enrolForm = { server: "", code: "", error: "", busy: false };
  } catch (e) {
    enrolForm.busy = false;
    enrolForm.error = e.message;
    render();
  }
}

async function scan() {
  const box = document.getElementById("scanner");
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  } catch (e) {
    enrolForm.error = "无法打开摄像头，请直接输入登记码";
    render();
    return;
  }
  box.innerHTML = '<p>请把登记卡上的二维码对准摄像头</p><video autoplay playsinline muted></video>';
  const video = box.querySelector("video");
  video.srcObject = stream;
  const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  const stop = () => stream.getTracks().forEach((t) => t.stop());
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 200));
    if (!document.body.contains(video)) { stop(); return; }
    try {
      const codes = await detector.detect(video);
      if (codes.length) {
        stop();
        enrolForm.server = document.getElementById("server").value.trim();
        enrolForm.code = codes[0].rawValue;
        render();
        return;
      }
    } catch (e) { /* the frame is not ready yet */ }
  }
  stop();
}

// -- taps ----------------------------------------------------------------------------------------

document.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  if (button.id === "about") { aboutOpen = !aboutOpen; render(); return; }
  if (button.dataset.act === "about-close") { aboutOpen = false; render(); return; }
  if (button.id === "textsize") {
    post("/api/text", { large: !state.large_text }).catch(() => {});
    return;
  }
  const act = button.dataset.act;
  const si = parseInt(button.dataset.s, 10);
  const k = parseInt(button.dataset.k, 10);
  if (act === "mark") tapMark(si, k, parseInt(button.dataset.m, 10));
  else if (act === "choose") tapChoose(si, k);
  else if (act === "write") openKeypad(si);
  else if (act === "write-name") openNameEntry(si);
  else if (act === "name") nameKey(button.dataset.key);
  else if (act === "unwrite") { draft.answers[si].write_ins.splice(k, 1); draft.alert = ""; render(); }
  else if (act === "key") keypadKey(button.dataset.key);
  else if (act === "review") toReview();
  else if (act === "back") { draft.reviewing = false; draft.alert = ""; render(); }
  else if (act === "cast" && !draft.casting) confirmCast();
  else if (act === "enrol" && !enrolForm.busy) enrol();
  else if (act === "scan") scan();
});

document.addEventListener("keydown", (event) => {
  // Enter in the name field is 确定, unless the input method is still composing
  if (event.target.id === "free-name" && event.key === "Enter" && !event.isComposing) {
    event.preventDefault();
    nameKey("ok");
  }
});

document.addEventListener("input", (event) => {
  if (event.target.id === "free-name" && nameEntry) {
    nameEntry.text = event.target.value;
    if (nameEntry.error) { nameEntry.error = ""; renderKeypad(); } // the old refusal is gone
  }
  if (event.target.id === "server") enrolForm.server = event.target.value;
  if (event.target.id === "code") enrolForm.code = event.target.value;
});

connect();
