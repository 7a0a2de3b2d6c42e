"""The command-line roles as separate processes: ``renda serve``, ``renda trustee ceremony`` /
``renda trustee`` (two scrutineers, threshold 2) and ``renda kiosk --enrol`` (headless, from a
script), talking over real loopback sockets. The small test group keeps it quick; the demo test
covers BELENIOS-2048.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from voting.cli import main
from voting.demo.harness import free_port

pytestmark = pytest.mark.slow

RENDA = [sys.executable, "-m", "voting.cli"]
LOGS: list[Path] = []  # the current test's process logs, shown when a wait times out


class Procs:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Path:
        log = self.folder / f"{name}.log"
        LOGS.append(log)
        with open(log, "wb") as f:
            p = subprocess.Popen(
                RENDA + args,
                stdout=f,
                stderr=subprocess.STDOUT,
                env=dict(os.environ, **(env or {})),
            )
        self.procs.append(p)
        return log

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    ps = Procs(tmp_path)
    LOGS.clear()
    yield ps
    ps.stop()


def _wait(what: str, check: object, timeout: float = 120) -> None:
    """Poll ``check`` until true; the bound is generous (CI machines are slow), not a timing
    assertion."""
    end = time.monotonic() + timeout
    while True:
        try:
            if check():  # type: ignore[operator]
                return
        except (httpx.HTTPError, OSError, ValueError, KeyError):
            pass
        if time.monotonic() > end:
            logs = {p.name: p.read_text("utf-8", "replace")[-600:] for p in LOGS}
            raise AssertionError(f"timed out waiting for {what}; logs: {logs}")
        time.sleep(0.2)


def test_serve_trustees_and_kiosk_as_processes(tmp_path: Path, procs: Procs) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = tmp_path / "server"
    assert main(["serve", "--data", str(data), "--init", "--test-group"]) == 0
    server_log = procs.start(
        "server", ["serve", "--data", str(data), "--port", str(port), "--test-group"]
    )
    _wait("the server", lambda: (data / "tokens.json").exists() and httpx.get(url + "/docs"))
    tokens = json.loads((data / "tokens.json").read_text())
    api = httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {tokens['secretariat']}"}, timeout=60
    )

    def post(path: str, body: object = None) -> dict:  # type: ignore[type-arg]
        r = api.post(path, json=body if body is not None else {})
        assert r.status_code < 400, (path, r.text, server_log.read_text()[-2000:])
        return r.json()  # type: ignore[no-any-return]

    deputies = post(
        "/api/roster", {"csv": "name,delegation,seat\n王五,一组,1\n赵六,一组,2\n钱七,二组,3\n"}
    )
    code = deputies["deputies"][0]["enrolment_code"]

    # two scrutineers run their side of the key ceremony as processes
    keys = []
    envs: list[dict[str, str]] = []
    for name in ("监票人甲", "监票人乙"):
        s = post("/api/scrutineers", {"name": name})
        key = tmp_path / f"scrutineer-{s['index']}.json"
        keys.append(key)
        secrets_env = {"RENDA_TRUSTEE_PASSPHRASE": f"pass-{s['index']}"}
        if s["index"] == 1:  # the token from the environment, or from a file
            secrets_env["RENDA_TRUSTEE_TOKEN"] = s["token"]
            token_args = []
        else:
            (tmp_path / "token-2").write_text(s["token"] + "\n")
            token_args = ["--token-file", str(tmp_path / "token-2")]
        envs.append(secrets_env)
        procs.start(
            f"ceremony-{s['index']}",
            ["trustee", "ceremony", "--server", url, "--key", str(key), *token_args],
            env=secrets_env,
        )
    logs = [tmp_path / f"ceremony-{i}.log" for i in (1, 2)]
    _wait("the scrutineers to connect", lambda: all("已连接" in f.read_text() for f in logs))
    post("/api/ceremony", {"threshold": 2})
    _wait("the ceremony", lambda: api.get("/api/ceremony").json()["state"] == "done")
    _wait("the key files", lambda: all("密钥仪式完成" in f.read_text() for f in logs))
    for key, s_env in zip(keys, envs, strict=True):
        assert key.stat().st_mode & 0o777 == 0o600
        sealed = key.read_text()  # sealed: neither the token nor the key is in clear
        assert json.loads(sealed)["sealed"] == "renda-1" and "trustees" not in sealed
        assert s_env.get("RENDA_TRUSTEE_TOKEN", "token?") not in sealed
    # ... and then stay up to answer decryption requests
    for i, key in enumerate(keys, start=1):
        procs.start(f"trustee-{i}", ["trustee", "--key", str(key)], env=envs[i - 1])

    # one kiosk, enrolled from the command line, voting from a script
    script = tmp_path / "script.json"
    script.write_text(
        json.dumps(
            {
                "polls": [
                    {"match": "议案", "choice": "反对"},
                    {"match": "选举", "choice": {"张三": "赞成", "李四": "反对", "另选他人": [2]}},
                ]
            },
            ensure_ascii=False,
        )
    )
    kiosk_dir = tmp_path / "kiosk"
    kiosk_log = procs.start(
        "kiosk",
        ["kiosk", "--server", url, "--enrol", code, "--dir", str(kiosk_dir), "--script",
         str(script), "--test-group"],
        env={"RENDA_KIOSK_PASSPHRASE": "secret passphrase"},
    )  # fmt: skip
    _wait("the kiosk to enrol", lambda: "已登记" in kiosk_log.read_text("utf-8"))
    ids = [d["deputy_id"] for d in deputies["deputies"]]
    post(f"/api/deputies/{ids[0]}/checkin")
    post(f"/api/deputies/{ids[1]}/checkin")  # present, but no enrolled kiosk: no ballot
    post(f"/api/deputies/{ids[2]}/leave")
    template = {
        "description": "d",
        "name": "关于测试的议案",
        "questions": [
            {"answers": ["赞成", "反对", "弃权"], "min": 1, "max": 1, "question": "表决意见"}
        ],
    }
    poll = post(
        "/api/polls",
        {
            "title": "关于测试的议案",
            "kind": "motion",
            "template": template,
            "rules": {"id": "m", "kind": "motion", "title": "关于测试的议案"},
            "last_press_valid": False,
        },
    )
    pid = poll["poll_id"]
    post(f"/api/polls/{pid}/open")
    # the only voter's kiosk sends its credential: ballots are issued without waiting
    _wait("the ballots", lambda: api.get(f"/api/polls/{pid}").json()["state"] == "open")
    _wait("the ballot", lambda: api.get(f"/api/polls/{pid}").json()["received"] == 1)
    post(f"/api/polls/{pid}/close")
    _wait(
        "the tally",
        lambda: api.get(f"/api/polls/{pid}").json()["state"] in ("tallied", "published"),
    )
    result = api.get(f"/api/polls/{pid}").json()
    assert result["result"]["result"] == [[0, 1, 0]]
    assert result["issued"] == 1
    out = kiosk_log.read_text("utf-8")
    assert "跟踪号" in out and "已投票" in out
    # the device key is sealed: the vault opens only with the passphrase
    from kiosk.vault import Vault, WrongPassphrase

    with pytest.raises(WrongPassphrase):
        Vault.open(kiosk_dir, "another passphrase")
    assert Vault.open(kiosk_dir, "secret passphrase").unseal("device") is not None

    # an election ballot (non-homomorphic): the server and both scrutineers shuffle, each
    # scrutineer checking the rows against the public record first, then decrypt
    from tally.election_ballot import ElectionLayout, decode_ballot, question_json

    layout = ElectionLayout(("张三", "李四"), seats=1, roster_max=3)
    candidates = [{"id": "A", "name": "张三"}, {"id": "B", "name": "李四"}]
    mayor_rules = {"id": "mayor", "kind": "election", "title": "选举镇长", "post": "镇长",
                   "post_type": "head", "organ": "government", "seats": 1,
                   "candidates": candidates}  # fmt: skip
    nh = post(
        "/api/polls",
        {
            "title": "选举镇长",
            "kind": "election",
            "template": {
                "description": "d",
                "name": "选举镇长",
                "questions": [question_json(layout, "镇长")],
            },
            "rules": mayor_rules,  # an election is counted by the rules engine
            "last_press_valid": False,
        },
    )
    nid = nh["poll_id"]
    post(f"/api/polls/{nid}/open")
    _wait("the ballots", lambda: api.get(f"/api/polls/{nid}").json()["state"] == "open")
    _wait("the ballot", lambda: api.get(f"/api/polls/{nid}").json()["received"] == 1)
    post(f"/api/polls/{nid}/close")
    _wait(
        "the shuffles and the tally",
        lambda: api.get(f"/api/polls/{nid}").json()["state"] in ("tallied", "published"),
    )
    ballots = api.get(f"/api/polls/{nid}").json()["result"]["result"][0]
    decoded = decode_ballot(layout, ballots[0])
    assert decoded.marks == (1, 2) and decoded.write_ins == (2,)
    for i in (1, 2):
        assert "已混洗" in (tmp_path / f"trustee-{i}.log").read_text("utf-8")
