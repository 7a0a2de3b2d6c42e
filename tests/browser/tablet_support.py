"""A real ``renda serve`` and real ``renda kiosk --ui`` processes on loopback for the tablet's
browser tests (each started as a subprocess, each stopped by the test that started it)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from voting.demo.harness import free_port

PASSPHRASE = "tablet-test-passphrase"


def renda(*args: str) -> list[str]:
    return [sys.executable, "-m", "voting.cli", *args]


def roster_csv(names: list[str]) -> str:
    return "name,delegation,seat\n" + "".join(
        f"{name},第一代表组,{i}\n" for i, name in enumerate(names, 1)
    )


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class Server:
    """``renda serve`` on a free loopback port (small test group: only for tests)."""

    data: Path
    session_name: str = "青石镇第十九届人民代表大会第三次会议"
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    tokens: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if not (self.data / "tokens.json").exists():  # renda serve needs a folder --init made
            subprocess.run(
                renda(
                    "serve",
                    "--data",
                    str(self.data),
                    "--init",
                    "--test-group",
                    "--session-name",
                    self.session_name,
                ),
                check=True,
                capture_output=True,
            )
        log = open(self.data.parent / f"{self.data.name}.log", "ab")  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                renda(
                    "serve",
                    "--data",
                    str(self.data),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--test-group",
                    "--group",
                    "RENDA-TEST-256",
                    "--workers",
                    "1",
                    "--collect-timeout",
                    "3",
                    "--session-name",
                    self.session_name,
                ),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            log.close()
        deadline = time.monotonic() + 180  # a loaded 2-core machine starts slowly
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("renda serve exited: " + self.log()[-2000:])
            try:
                self.tokens = json.loads((self.data / "tokens.json").read_text("utf-8"))
                r = httpx.get(self.url + "/api/session", headers=self.h(), timeout=2)
                if r.status_code == 200:
                    return
            except (OSError, ValueError, KeyError, httpx.HTTPError):
                pass
            time.sleep(0.2)
        self.stop()  # never left running behind a failed start
        raise RuntimeError("renda serve did not start: " + self.log()[-2000:])

    def log(self) -> str:
        path = self.data.parent / f"{self.data.name}.log"
        return path.read_text("utf-8", "replace") if path.exists() else ""

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None

    def h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['secretariat']}"}

    def post(self, path: str, body: Any = None) -> Any:
        r = httpx.post(
            self.url + path, json=body if body is not None else {}, headers=self.h(), timeout=60
        )
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r.json()

    def get(self, path: str) -> Any:
        r = httpx.get(self.url + path, headers=self.h(), timeout=60)
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r.json()

    def open_poll(
        self,
        title: str,
        kind: str,
        template: dict[str, Any],
        rules: dict[str, Any] | None = None,
        *,
        last_press_valid: bool = True,
    ) -> str:
        body: dict[str, Any] = {
            "title": title,
            "kind": kind,
            "template": template,
            "last_press_valid": last_press_valid,
        }
        if rules is not None:
            body["rules"] = rules
        pid = str(self.post("/api/polls", body)["poll_id"])
        self.post(f"/api/polls/{pid}/open")
        return pid

    def wait_poll(self, pid: str, *states: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        poll: dict[str, Any] = {}
        while time.monotonic() < deadline:
            poll = self.get(f"/api/polls/{pid}")
            if poll["state"] in states:
                return poll
            time.sleep(0.1)
        raise AssertionError(f"poll {pid} stayed {poll.get('state')}: {poll.get('message')}")

    def close_and_publish(self, pid: str) -> dict[str, Any]:
        self.post(f"/api/polls/{pid}/close")
        self.wait_poll(pid, "tallied")
        return dict(self.post(f"/api/polls/{pid}/publish"))


@dataclass
class TabletProcess:
    """``renda kiosk --ui --port 0``: the tablet's kiosk process and its page."""

    folder: Path
    server_url: str
    proc: subprocess.Popen[bytes] | None = None
    url: str = ""

    def start(self) -> str:
        env = {**os.environ, "RENDA_KIOSK_PASSPHRASE": PASSPHRASE}
        log_path = self.folder.parent / f"{self.folder.name}.log"
        log = open(log_path, "ab")  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                renda(
                    "kiosk",
                    "--ui",
                    "--port",
                    "0",
                    "--dir",
                    str(self.folder),
                    "--server",
                    self.server_url,
                    "--test-group",  # the test server's small group (tests only)
                    "-v",
                ),
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
            )
        finally:
            log.close()
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode("utf-8", "replace")
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        if not found:
            _stop(self.proc)
            raise RuntimeError(f"renda kiosk --ui said {line!r}: " + log_path.read_text()[-2000:])
        self.url = found.group(0)
        return self.url

    def stop(self) -> None:
        _stop(self.proc)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None


def headless_kiosk(
    folder: Path, server_url: str, code: str, script: dict[str, Any]
) -> subprocess.Popen[bytes]:
    """``renda kiosk --enrol CODE --script S``: another deputy's headless kiosk (the demo's)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    script_path = folder.parent / f"{folder.name}.json"
    script_path.write_text(json.dumps(script, ensure_ascii=False), "utf-8")
    log = open(folder.parent / f"{folder.name}.log", "ab")  # noqa: SIM115
    try:
        return subprocess.Popen(
            renda(
                "kiosk",
                "--enrol",
                code,
                "--server",
                server_url,
                "--dir",
                str(folder),
                "--script",
                str(script_path),
                "--test-group",
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RENDA_KIOSK_PASSPHRASE": PASSPHRASE},
        )
    finally:
        log.close()


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    _stop(proc)


# -- measuring the page against SCREENS.md §3 ----------------------------------------------------

MM_PER_PX = 25.4 / 96  # the CSS reference pixel

MEASURE = """() => {
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  // what can be tapped now: inside the viewport, and not under the sticky bar of actions
  const main = document.querySelector('main').getBoundingClientRect();
  const dock = document.querySelector('.dock');
  const dockTop = dock ? dock.getBoundingClientRect().top : Infinity;
  const targets = [...document.querySelectorAll('button, input, a[href]')].filter(visible)
    .map((el) => { const r = el.getBoundingClientRect();
      let top = Math.max(r.top, 0), bottom = Math.min(r.bottom, window.innerHeight);
      if (main.top <= r.top && !el.closest('.dock') && !el.closest('#overlay')) {
        top = Math.max(top, main.top); bottom = Math.min(bottom, dockTop);
      }
      return {text: (el.textContent || el.id || '').trim().slice(0, 20),
              x: r.left, y: top, w: r.width, h: bottom - top, fullW: r.width, fullH: r.height}; })
    .filter((t) => t.h > 0);
  const canvas = document.createElement('canvas').getContext('2d');
  const caps = {};
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    if (!el || !visible(el) || el.closest('[hidden]')) continue;
    const s = getComputedStyle(el);
    const font = `${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
    if (!(font in caps)) {
      canvas.font = font;
      caps[font] = canvas.measureText('H').actualBoundingBoxAscent;
    }
    texts.push({text: node.textContent.trim().slice(0, 20), cap: caps[font],
                size: parseFloat(s.fontSize)});
  }
  const body = getComputedStyle(document.body);
  canvas.font = `${body.fontWeight} ${body.fontSize} ${body.fontFamily}`;
  return {targets, texts, bodyCap: canvas.measureText('H').actualBoundingBoxAscent,
          scrollWidth: document.documentElement.scrollWidth,
          width: window.innerWidth};
}"""


def gap(a: dict[str, float], b: dict[str, float]) -> float:
    """The distance between two rectangles (0 when they touch or overlap)."""
    dx = max(0.0, max(a["x"], b["x"]) - min(a["x"] + a["w"], b["x"] + b["w"]))
    dy = max(0.0, max(a["y"], b["y"]) - min(a["y"] + a["h"], b["y"] + b["h"]))
    return float((dx**2 + dy**2) ** 0.5)


def check_figures(page: Any) -> dict[str, Any]:
    """Touch targets ≥ 48 CSS px with ≥ 2.5 mm between them, text capital height ≥ 3.5 mm
    (default about 4.9 mm), no sideways scrolling (SCREENS.md §3); the measures."""
    m = page.evaluate(MEASURE)
    for t in m["targets"]:
        assert t["fullW"] >= 48 and t["fullH"] >= 48, f"touch target too small: {t}"
    for i, a in enumerate(m["targets"]):
        for b in m["targets"][i + 1 :]:
            d = gap(a, b)
            assert d * MM_PER_PX >= 2.5, f"targets {a['text']!r} and {b['text']!r} {d:.1f} px apart"
    for t in m["texts"]:
        assert t["cap"] * MM_PER_PX >= 3.5, f"text too small: {t}"
    assert m["scrollWidth"] <= m["width"], "the page scrolls sideways"
    return dict(m)


def check_contrast_7(page: Any) -> None:
    """SCREENS.md §2: contrast of text at least 7:1 (axe-core's WCAG AAA contrast rule)."""
    from axe_playwright_python.sync_playwright import Axe

    options = {
        "runOnly": {"type": "rule", "values": ["color-contrast-enhanced"]},
        "resultTypes": ["violations"],
    }
    results = Axe().run(page, options=options)
    assert not results.violations_count, results.generate_report()
