"""A session of two groups through the command line, in the real groups (issue 13, DESIGN §2.2).

``renda serve`` (BELENIOS-2048 for motions, RFC-3526-2048 for elections), two ``renda trustee``
processes (threshold 2) and one ``renda kiosk`` from a script. One ceremony sitting makes the
scrutineers' key in both groups (each tool prints one fingerprint per group); the motion is
encrypted in BELENIOS-2048, the write-in election in RFC-3526-2048; both are tallied, their
count reports signed; the exported record passes ``renda verify``, ``belenios-tool election
verify`` on each poll's archive, and the tablet's ``--check-record``. The tablet pinned each
group's trustees, and its fingerprints are those the scrutineers announced.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_cli_roles import RENDA, Procs, _wait
from tests.e2e.test_cli_roles import procs as procs  # the fixture
from voting.cli import main
from voting.demo.harness import free_port

pytestmark = [pytest.mark.slow, pytest.mark.belenios]

MOTION = {
    "description": "d",
    "name": "关于测试的议案",
    "questions": [
        {"answers": ["赞成", "反对", "弃权"], "min": 1, "max": 1, "question": "表决意见"}
    ],
}


def _fingerprints(log: str) -> dict[str, str]:
    """Group -> fingerprint, as `renda trustee ceremony` printed them."""
    return dict(re.findall(r"^  ([A-Z0-9-]+): ((?:[0-9A-F]{4} ){7}[0-9A-F]{4})$", log, re.M))


def test_one_ceremony_two_groups_verified(tmp_path: Path, procs: Procs, belenios_tool: str) -> None:
    from tally.election_ballot import ElectionLayout, decode_ballot, question_json

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = tmp_path / "server"
    assert main(["serve", "--data", str(data), "--init"]) == 0
    server_log = procs.start("server", ["serve", "--data", str(data), "--port", str(port)])
    _wait("the server", lambda: (data / "tokens.json").exists() and httpx.get(url + "/docs"))
    # the server's own trustee key in each group
    assert (data / "trustee.key").exists() and (data / "trustee-RFC-3526-2048.key").exists()
    tokens = json.loads((data / "tokens.json").read_text())
    api = httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {tokens['secretariat']}"}, timeout=60
    )

    def post(path: str, body: object = None, ok: bool = True) -> dict:  # type: ignore[type-arg]
        r = api.post(path, json=body if body is not None else {})
        if ok:
            assert r.status_code < 400, (path, r.text, server_log.read_text()[-2000:])
        return r.json()  # type: ignore[no-any-return]

    deputies = post("/api/roster", {"csv": "name,delegation,seat\n王五,一组,1\n赵六,一组,2\n"})
    code = deputies["deputies"][0]["enrolment_code"]
    keys, envs = [], []
    for name in ("监票人甲", "监票人乙"):
        s = post("/api/scrutineers", {"name": name})
        keys.append(tmp_path / f"scrutineer-{s['index']}.json")
        envs.append(
            {"RENDA_TRUSTEE_PASSPHRASE": f"pass-{s['index']}", "RENDA_TRUSTEE_TOKEN": s["token"]}
        )
        procs.start(
            f"ceremony-{s['index']}",
            ["trustee", "ceremony", "--server", url, "--key", str(keys[-1])],
            env=envs[-1],
        )
    logs = [tmp_path / f"ceremony-{i}.log" for i in (1, 2)]
    _wait("the scrutineers to connect", lambda: all("已连接" in f.read_text() for f in logs))

    # before the ceremony: no poll opens, in either group
    motion = post(
        "/api/polls",
        {"title": "议案", "kind": "motion", "template": MOTION,
         "rules": {"id": "m", "kind": "motion", "title": "议案"}, "last_press_valid": False},
    )  # fmt: skip
    ids = [d["deputy_id"] for d in deputies["deputies"]]
    post(f"/api/deputies/{ids[0]}/checkin")
    post(f"/api/deputies/{ids[1]}/checkin")
    refused = post(f"/api/polls/{motion['poll_id']}/open", ok=False)
    assert refused["detail"]["code"] == "no_ceremony", refused

    # one sitting: the key in BELENIOS-2048, then in RFC-3526-2048
    post("/api/ceremony", {"threshold": 2})
    _wait("the ceremony", lambda: api.get("/api/ceremony").json()["state"] == "done", 300)
    _wait("the key files", lambda: all("密钥仪式完成" in f.read_text() for f in logs))
    announced = [_fingerprints(f.read_text("utf-8")) for f in logs]
    assert announced[0] == announced[1] and set(announced[0]) == {"BELENIOS-2048", "RFC-3526-2048"}
    for i, key in enumerate(keys, start=1):
        procs.start(f"trustee-{i}", ["trustee", "--key", str(key)], env=envs[i - 1])

    script = tmp_path / "script.json"
    script.write_text(
        json.dumps(
            {"polls": [
                {"match": "议案", "choice": "反对"},
                {"match": "选举", "choice": {"张三": "赞成", "李四": "反对", "另选他人": [2]}},
            ]},
            ensure_ascii=False,
        )
    )  # fmt: skip
    kiosk_dir = tmp_path / "kiosk"
    kiosk_env = {"RENDA_KIOSK_PASSPHRASE": "secret passphrase"}
    kiosk_log = procs.start(
        "kiosk",
        ["kiosk", "--server", url, "--enrol", code, "--dir", str(kiosk_dir), "--script",
         str(script)],
        env=kiosk_env,
    )  # fmt: skip
    _wait("the kiosk to enrol", lambda: "已登记" in kiosk_log.read_text("utf-8"))

    layout = ElectionLayout(("张三", "李四"), seats=1, roster_max=2)
    election = post(
        "/api/polls",
        {"title": "选举镇长", "kind": "election",
         "template": {"description": "d", "name": "选举镇长",
                      "questions": [question_json(layout, "镇长")]},
         "rules": {"id": "mayor", "kind": "election", "title": "选举镇长", "post": "镇长",
                   "post_type": "head", "organ": "government", "seats": 1,
                   "candidates": [{"id": "A", "name": "张三"}, {"id": "B", "name": "李四"}]},
         "last_press_valid": False},
    )  # fmt: skip
    groups = {}
    for poll in (motion, election):
        pid = poll["poll_id"]
        post(f"/api/polls/{pid}/open")
        _wait("the ballot", lambda p=pid: api.get(f"/api/polls/{p}").json()["received"] == 1)
        post(f"/api/polls/{pid}/close")
        _wait(
            "the tally",
            lambda p=pid: api.get(f"/api/polls/{p}").json()["state"] == "tallied",
            300,
        )
        groups[pid] = api.get(f"/api/polls/{pid}").json()["group"]
        post(f"/api/polls/{pid}/publish")
    assert groups == {motion["poll_id"]: "BELENIOS-2048", election["poll_id"]: "RFC-3526-2048"}
    result = api.get(f"/api/polls/{election['poll_id']}").json()["result"]["result"][0]
    assert decode_ballot(layout, result[0]).write_ins == (2,)
    for pid in groups:  # both scrutineers sign each count report
        _wait(
            "the count report's signatures",
            lambda p=pid: api.get(f"/api/polls/{p}").json()["report"]["complete"],
            300,
        )

    # the tablet pinned one set of trustees per group: the fingerprints announced
    from kiosk.trustee_pins import load_pins
    from kiosk.vault import Vault

    vault = Vault.open(kiosk_dir, kiosk_env["RENDA_KIOSK_PASSPHRASE"])
    server_key = api.get("/api/session").json()["server_public_key"]
    pins = load_pins(vault.unseal("trustees"), server_key)
    assert {g: p["fingerprint"] for g, p in pins.items()} == announced[0]

    procs.stop()
    record = tmp_path / "record"
    assert main(["serve", "--data", str(data), "--export-record", str(record)]) == 0
    session = json.loads((record / "session.json").read_text("utf-8"))
    assert session["group"] == "BELENIOS-2048" and session["election_group"] == "RFC-3526-2048"
    assert session["trustees"] != session["election_trustees"]
    assert len(session["election_trustees_signatures"]) == 2
    verify = subprocess.run(
        [*RENDA, "verify", str(record)], capture_output=True, text=True, timeout=600, check=False
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "VERIFIED" in verify.stdout
    for pid in groups:
        folder = record / "polls" / pid
        out = subprocess.run(
            [belenios_tool, "election", "verify", "--dir", str(folder)],
            capture_output=True, text=True, timeout=300, check=False,
            env={"BELENIOS_USE_URANDOM": "1", "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        assert out.returncode == 0, out.stderr + out.stdout
    check = subprocess.run(
        [*RENDA, "kiosk", "--dir", str(kiosk_dir), "--check-record", str(record)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    assert "全部 2 张选票都在公布的记录中" in check.stdout
