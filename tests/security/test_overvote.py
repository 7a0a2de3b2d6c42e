"""A modified tablet overvotes in an election: the ballot box takes it, the count voids it.

A real server (``renda serve`` as a subprocess, RFC-3526-2048: the group of the 人大 election
ballot), real headless kiosks and scrutineers over websockets (the demo's machinery). Three
tablets are modified to send, with valid proofs, ballots the law voids (选举法 第四十四条第二款):
赞成 for all four candidates of three seats; 赞成 for two and two people written in; and a mark
that says 赞成 and 反对 for the same candidate (a code the ballot has no meaning for). The
server cannot see inside an encrypted ballot, so it acknowledges each; after the shuffles and
the ballot-by-ballot decryption the rules engine counts each VOID and for nobody — had they
counted, 吴海燕 would have been elected. ``renda verify`` (the whole session record) and
belenios-tool (the election's archive) both accept the record.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from kiosk.client import HeadlessDeputy
from tally.election_ballot import ElectionBallot, Mark, encode_ballot, layout_of_question
from voting.demo import plan
from voting.demo.harness import Api, ServerProcess
from voting.demo.results import verify_record
from voting.demo.town import SESSION_TITLE, Demo, election_rules, prepare_out

pytestmark = pytest.mark.slow

N = 9  # 8 present (one absent); 全体代表过半数 of 9 is 5
Y, NO, AB = plan.YES, plan.NO, plan.ABSTAIN
A, B, C, D = plan.CANDIDATES
HONEST: list[Any] = [  # A 5, B 5, D 4 赞成: A and B elected, D one short
    {A: Y, B: Y, C: NO, D: Y},
    {A: Y, B: Y, C: NO, D: Y},
    {A: Y, B: Y, C: AB, D: Y},
    {A: Y, B: Y, C: NO, D: Y},
    {A: Y, B: Y, C: NO, D: NO},
]
BOTH = 12  # "赞成 and 反对" for one candidate: no such mark exists (1 赞成, 2 反对, 3 弃权)


class ModifiedTablet(HeadlessDeputy):
    """A tablet whose software was changed: it casts ``marks`` and ``write_ins`` whatever the
    deputy chose (the ballot's encryption and proofs are still the kiosk's own, valid)."""

    def __init__(self, marks: list[int], write_ins: list[int]) -> None:
        super().__init__(None)
        self.marks, self.write_ins = marks, write_ins

    async def choose(self, poll: Any, election: Any) -> list[list[int]] | None:
        layout = layout_of_question(election.questions[0])
        assert layout is not None
        slots = (*self.write_ins, *([None] * (layout.seats - len(self.write_ins))))
        if BOTH in self.marks:  # encode_ballot refuses a mark it has no code for
            vector = encode_ballot(
                layout, ElectionBallot(tuple(Mark.FOR for _ in self.marks), slots)
            )
            vector[self.marks.index(BOTH)] = BOTH
            return [vector]
        ballot = ElectionBallot(tuple(Mark(x) for x in self.marks), slots)
        return [encode_ballot(layout, ballot)]


MODIFIED = [
    ModifiedTablet([1, 1, 1, 1], []),  # 4 赞成 for 3 seats
    ModifiedTablet([1, 1, 2, 2], [1, 2]),  # 2 赞成 + 2 written in: 4 names for 3 seats
    ModifiedTablet([1, 1, 2, BOTH], []),  # 赞成 and 反对 for 吴海燕
]


async def _session(base: Path) -> dict[str, Any]:
    out, work = base / "record", base / "work"
    prepare_out(out)
    work.mkdir(mode=0o700)
    demo = Demo(N, out, work, quiet=True)
    server = ServerProcess(
        work / "server",
        work / "server.log",
        ("--session-name", SESSION_TITLE, "--group", "RFC-3526-2048"),
    )
    server.data_dir.mkdir(mode=0o700)
    server.init()
    server.start()
    api: Api | None = None
    found: dict[str, Any] = {}
    try:
        tokens = await server.ready()
        api = Api(server.url, str(tokens["secretariat"]))
        await demo.roster(api)
        await demo.enrol_kiosks(server.url)
        await demo.ceremony(api, server.url)
        present = await demo.attendance(api)
        assert len(present) == len(HONEST) + len(MODIFIED)
        for seat, tablet in zip(present[len(HONEST) :], MODIFIED, strict=True):
            seat.kiosk.deputy = tablet
        await demo.start_kiosks()

        # the per-candidate homomorphic layout is refused: its proofs cannot exclude this
        per_candidate = {
            "title": plan.ELECTION_TITLE,
            "kind": "election",
            "template": {
                "description": plan.ELECTION_TITLE,
                "name": plan.ELECTION_TITLE,
                "questions": [
                    {"answers": [Y, NO, AB], "min": 1, "max": 1, "question": c}
                    for c in plan.CANDIDATES
                ],
            },
            "rules": election_rules(),
            "last_press_valid": False,
        }
        r = await api.client.post("/api/polls", json=per_candidate)
        found["refused"] = (r.status_code, r.json())

        template = plan.election_template(plan.ELECTION_TITLE, plan.CANDIDATES, N)
        # the modified tablets ignore their deputy's choice (run_poll waits for all 8 ballots)
        choices = [*HONEST, *([Y] * len(MODIFIED))]
        report = await demo.run_poll(
            api, present, plan.ELECTION_TITLE, "election", template, election_rules(), choices
        )
        found["poll"] = report.data
        found["acks"] = [s.kiosk.events.acks for s in present]  # signed receipts checked
        found["folders"] = await demo.export_record(server.url, api)
    finally:
        await demo.stop()
        if api is not None:
            await api.close()
        server.stop()
    found["out"] = out
    return found


@pytest.fixture(scope="module")
def tallied(tmp_path_factory: pytest.TempPathFactory, belenios_tool: str) -> dict[str, Any]:
    os.environ.setdefault("BELENIOS_USE_URANDOM", "1")
    path = str(Path(belenios_tool).parent) + os.pathsep + os.environ.get("PATH", "")
    os.environ["PATH"] = path
    assert shutil.which("belenios-tool")
    return asyncio.run(_session(tmp_path_factory.mktemp("overvote")))


def test_the_per_candidate_layout_is_refused_citing_article_44(tallied: dict[str, Any]) -> None:
    status, body = tallied["refused"]
    assert status == 422
    error = body["detail"]  # the documented error shape (docs/protocol.md §4)
    assert error["code"] == "bad_template", body
    assert "选举法 第四十四条" in error["message"]


def test_the_overvotes_are_in_the_box_and_counted_void(tallied: dict[str, Any]) -> None:
    poll = tallied["poll"]
    assert poll["state"] == "published"
    assert poll["received"] == len(HONEST) + len(MODIFIED)  # every tablet's ballot was taken
    assert all(n == 1 for n in tallied["acks"])  # each tablet got its signed receipt
    outcome = poll["outcome"]
    assert outcome["returned"] == 8 and outcome["valid_ballots"] == len(HONEST)
    assert outcome["void_ballots"] == len(MODIFIED)
    assert dict(map(tuple, outcome["void_reasons"])) == {"overvote": 2, "malformed": 1}
    items = {i["name"]: i for i in outcome["items"]}
    # the honest ballots only: 吴海燕 would have 6 赞成 and a seat with the two overvotes
    assert {n: items[n]["yes"] for n in plan.CANDIDATES} == {A: 5, B: 5, C: 0, D: 4}
    assert {n: items[n]["status"] for n in plan.CANDIDATES} == {
        A: "elected",
        B: "elected",
        C: "not_elected",
        D: "not_elected",
    }
    assert not any(i.get("write_in") for i in outcome["items"])  # seats 1 and 2 got nothing
    assert outcome["report"]["void"] == len(MODIFIED)
    (follow,) = outcome["followups"]  # the unfilled seat: 另行选举, on the election ballot too
    assert follow["relation"] == "supplementary"
    assert follow["template"]["questions"][0]["type"] == "NonHomomorphic"
    # the decrypted ballots are published as cast: the three void ones among them
    vectors = [[int(v) for v in vec] for vec in poll["result"]["result"][0]]
    assert sum(1 for v in vectors if v[:4] == [1, 1, 1, 1]) == 1
    assert sum(1 for v in vectors if BOTH in v[:4]) == 1


def test_both_verifiers_accept_the_record(tallied: dict[str, Any]) -> None:
    lines: list[str] = []
    assert verify_record(tallied["folders"], lines.append, tallied["out"]), "\n".join(lines)
    table = "\n".join(lines)
    assert "失败" not in table and table.count("通过 (ok)") == 3, table
    outcomes = json.loads((tallied["out"] / "outcomes.json").read_text("utf-8"))
    election, supplementary = outcomes  # one seat unfilled: a 另行选举 draft
    assert election["outcome"]["void_ballots"] == len(MODIFIED)
    assert supplementary["relation"] == "supplementary" and supplementary["state"] == "draft"
