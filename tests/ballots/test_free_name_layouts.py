"""Issue 13, item 2: which ballot the server makes (version 2, room for a free name, where
"其他任何代表或者选民" may be elected; version 1 for deputies-only posts), and a free name through
the kiosk's path: the tablet's answer, the terminal kiosk, the script, encoded and decoded."""

from __future__ import annotations

import asyncio
import io
import json
from types import SimpleNamespace
from typing import Any

import pytest

from keys.embedding import max_values
from keys.group import RFC_3526_2048, TEST_256
from kiosk.choices import ChoiceError, election_plaintext
from kiosk.prompt import TerminalDeputy
from kiosk.ui.ballot import BallotError, ballot_form, plaintext, read_rules, review
from tally import messages as m
from tally.election import parse_question
from tally.election_ballot import (
    ElectionBallot,
    ElectionLayout,
    Mark,
    decode_ballot,
    encode_ballot,
    free_name_chars,
    name_problem,
    question_json,
)
from tally.poll_counts import election_layout
from tally.poll_description import (
    ElectionDescription,
    ballot_form_problem,
    derive,
    imported_polls,
)
from tally.poll_outcome import FOLLOWUPS, evaluate_poll
from tally.rules.model import Organ, PostType, WriteInPolicy

Y, N, A = Mark.FOR, Mark.AGAINST, Mark.ABSTAIN


def _desc(organ: Organ, policy: WriteInPolicy | None = None, **kw: Any) -> ElectionDescription:
    values: dict[str, Any] = {
        "title": "选举",
        "post": "副镇长",
        "post_type": PostType.DEPUTY,
        "organ": organ,
        "seats": 2,
        "candidates": ("甲", "乙", "丙"),
        "write_in_policy": policy,
    }
    values.update(kw)
    return ElectionDescription(**values)


def _version(template: dict[str, Any]) -> tuple[int, int]:
    extra = template["questions"][0]["extra"]
    return extra["version"], extra.get("names", 0)


def test_the_rules_choose_the_ballot() -> None:
    assert max_values(RFC_3526_2048) == 254 and max_values(TEST_256) == 30
    for organ in (
        Organ.GOVERNMENT,
        Organ.SUPERVISORY_COMMISSION,
        Organ.COURT,
        Organ.PROCURATORATE,
    ):  # 地方组织法 第二十八条
        assert _version(derive(_desc(organ), entry_id="e", roster_max=45).template) == (2, 8)
    higher = _desc(Organ.HIGHER_CONGRESS, post_type=PostType.HIGHER_DEPUTY)  # 选举法 第三十三条
    assert _version(derive(higher, entry_id="e", roster_max=45).template) == (2, 8)
    for organ in (Organ.TOWNSHIP_CONGRESS, Organ.STANDING_COMMITTEE):  # 第十八条, 第四十七条
        assert _version(derive(_desc(organ), entry_id="e", roster_max=45).template) == (1, 0)
    # the 选举办法 may keep a government post to deputies: version 1
    kept = _desc(Organ.GOVERNMENT, WriteInPolicy.DEPUTIES)
    assert _version(derive(kept, entry_id="e", roster_max=45).template) == (1, 0)


def test_a_large_election_gets_fewer_characters_or_seat_numbers_only() -> None:
    # c + S·k + S·3L ≤ 254
    assert free_name_chars(3, 2, 45) == 8  # 3 + 2·(1 + 24) = 53
    assert free_name_chars(12, 9, 45) == 8  # 12 + 9·25 = 237
    assert free_name_chars(12, 10, 45) == 7  # 12 + 10·(1 + 21) = 232; 8 would be 262
    assert free_name_chars(36, 30, 1200) == 0  # 36 + 60 = 96: room for 2 characters only
    many = _desc(Organ.HIGHER_CONGRESS, post_type=PostType.HIGHER_DEPUTY, seats=30,
                 candidates=tuple(f"候选人{i}" for i in range(36)))  # fmt: skip
    d = derive(many, entry_id="e", roster_max=1200)
    assert _version(d.template) == (1, 0)  # by seat number, as before
    assert election_layout(d.template).length == 96  # type: ignore[union-attr]
    # the test group holds 30 integers: 3 + 2·(1 + 3·4) = 29
    small = derive(_desc(Organ.GOVERNMENT), entry_id="e", roster_max=4, max_ints=30)
    assert _version(small.template) == (2, 4)


def test_every_imported_election_gets_the_ballot_its_rules_allow() -> None:
    from tally.rules.documents import read_document

    doc = read_document("tally/rules/examples/town-session.yaml", "rules")
    assert isinstance(doc, dict)
    polls = imported_polls(doc, roster_max=45, total=45)
    seen = set()
    for p, entry in zip(polls, doc["polls"], strict=True):
        if entry["kind"] != "election":
            continue
        version = _version(p.template)
        seen.add(version)
        assert version == ((1, 0) if entry["organ"] == "township_congress" else (2, 8))
        assert ballot_form_problem(p.kind, p.template, p.rules) is None
    assert seen == {(1, 0), (2, 8)}


def test_a_name_on_a_deputies_only_ballot_is_refused_when_saved() -> None:
    chair = derive(_desc(Organ.TOWNSHIP_CONGRESS), entry_id="e", roster_max=45)
    mayor = derive(_desc(Organ.GOVERNMENT), entry_id="e", roster_max=45)
    problem = ballot_form_problem("election", mayor.template, chair.rules)
    assert problem is not None and "第十八条" in problem and "版本2" in problem
    assert ballot_form_problem("election", chair.template, mayor.rules) is None  # seats only
    assert ballot_form_problem("election", mayor.template, mayor.rules) is None


def test_a_tie_re_vote_keeps_the_free_names() -> None:
    d = derive(_desc(Organ.GOVERNMENT), entry_id="e", roster_max=6)
    layout = election_layout(d.template)
    assert layout is not None
    ballots = [ElectionBallot(m, (None, None)) for m in ((Y, Y, N), (Y, N, Y), (N, Y, Y))] * 2
    n = len(ballots)
    counts = {"total": n, "present": n, "issued": n, "received": n,
              "result": [[encode_ballot(layout, b) for b in ballots]]}  # fmt: skip
    roster = {str(i): f"代表{i}" for i in range(1, n + 1)}
    out = evaluate_poll(d.rules, d.template, counts, roster, session="测试会议")
    (follow,) = out[FOLLOWUPS]
    assert follow["relation"] == "tie_revote"
    assert _version(follow["template"]) == (2, 8)


# -- the kiosk's path ---------------------------------------------------------------------------

V2 = ElectionLayout(("甲", "乙", "丙"), seats=2, roster_max=45, name_chars=8)
V1 = ElectionLayout(("甲", "乙", "丙"), seats=2, roster_max=45)


def _form(layout: ElectionLayout, settings: dict[str, Any] | None = None) -> tuple[Any, Any]:
    qs = [parse_question(question_json(layout, "副镇长"))]
    rules = {"kind": "election", "seats": 2, "write_ins": "anyone", "settings": settings or {}}
    form = ballot_form("p1", "选举", "election", qs, read_rules(json.dumps(rules)),
                       last_press_valid=True)  # fmt: skip
    return form, qs


def test_the_tablet_encodes_a_free_name_that_decodes_back() -> None:
    form, qs = _form(V2)
    (section,) = form["sections"]
    assert section["names"] == 8 and "按座位号或姓名" in form["rule"]
    answers = [{"marks": [0, 1, 1], "write_ins": ["欧阳建国"]}]
    (row,) = plaintext(form, qs, answers)
    decoded = decode_ballot(V2, row)
    assert decoded.problems == () and decoded.write_ins == ("欧阳建国", None)
    assert decoded.marks == (1, 2, 2)
    lines = review(form, answers)["lines"]
    assert lines[-1] == {"item": "另选他人", "choice": "欧阳建国（按姓名另选，非代表）",
                         "mark": 0, "unmarked": False}  # fmt: skip
    # a seat number and a name on one ballot
    (row,) = plaintext(form, qs, [{"marks": [1, 1, 1], "write_ins": [5, "王小五"]}])
    assert decode_ballot(V2, row).write_ins == (5, "王小五")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "请输入被选人的姓名"),
        ("   ", "请输入被选人的姓名"),
        (" 王五", "前后不能有空格"),
        ("阿不都热合曼买买提", "最多8个字，现在是9个字"),
        ("王\u0007五", "控制字符"),
        ("王\u200b五", "控制字符"),
        ("12", "不能只有数字"),
        ("甲", "是候选人"),
    ],
)
def test_the_tablet_refuses_a_name_that_cannot_be_written(name: str, message: str) -> None:
    form, qs = _form(V2)
    with pytest.raises(BallotError, match=message):
        plaintext(form, qs, [{"marks": [0, 1, 2], "write_ins": [name]}])


def test_the_tablet_keeps_the_pairing_rule_and_the_seats_for_names() -> None:
    form, qs = _form(V2)
    with pytest.raises(BallotError, match="须对一位候选人投反对票"):
        plaintext(form, qs, [{"marks": [0, 2, 2], "write_ins": ["王小五"]}])
    with pytest.raises(BallotError, match="合计不能超过2名"):
        plaintext(form, qs, [{"marks": [0, 1, 1], "write_ins": ["王小五", "李小六"]}])
    with pytest.raises(BallotError, match="不能另选两次"):
        plaintext(form, qs, [{"marks": [1, 1, 1], "write_ins": ["王小五", "王小五"]}])
    # a 选举办法 whose write-ins need no 反对 (write_in_pairing: free)
    free, qs = _form(V2, {"write_in_pairing": "free"})
    assert free["sections"][0]["pairing"] is False
    (row,) = plaintext(free, qs, [{"marks": [0, 2, 2], "write_ins": ["王小五"]}])
    assert decode_ballot(V2, row).write_ins == ("王小五", None)
    # a deputies-only ballot (version 1) takes seat numbers only
    v1, qs1 = _form(V1)
    assert v1["sections"][0]["names"] == 0
    with pytest.raises(BallotError, match="只能按座位号"):
        plaintext(v1, qs1, [{"marks": [0, 1, 2], "write_ins": ["王小五"]}])


def test_the_kiosk_script_writes_a_name_in() -> None:
    q = parse_question(question_json(V2, "副镇长"))
    row = election_plaintext(
        q, {"甲": "赞成", "乙": "反对", "丙": "反对", "另选他人": [7, "王小五"]}
    )
    assert decode_ballot(V2, row).write_ins == (7, "王小五")
    with pytest.raises(ChoiceError, match="roster number"):
        election_plaintext(parse_question(question_json(V1, "副镇长")),
                           {"甲": "反对", "另选他人": ["王小五"]})  # fmt: skip
    with pytest.raises(ChoiceError, match="1 to 8 characters"):
        election_plaintext(q, {"甲": "反对", "另选他人": ["一二三四五六七八九"]})


def _typed(layout: ElectionLayout, lines: list[str]) -> tuple[list[list[int]] | None, str]:
    out = io.StringIO()
    it = iter(lines)

    def take(prompt: str) -> str:
        out.write(prompt)
        try:
            return next(it)
        except StopIteration:  # the prompt asked again: fail instead of hanging its thread
            raise EOFError("the prompt asked for more lines than were typed") from None

    deputy = TerminalDeputy(take, out)
    raw = question_json(layout, "副镇长")
    question = SimpleNamespace(question="副镇长", answers=raw["value"]["answers"],
                               extra=raw["extra"])  # fmt: skip
    poll = m.PollInfo(poll_id="p1", title="选举", kind="election", state="open")  # type: ignore[arg-type]
    return asyncio.run(deputy.choose(poll, SimpleNamespace(questions=[question]))), out.getvalue()


def test_the_terminal_kiosk_takes_a_free_name() -> None:
    # 反对 for all three; then 王小五 by name and deputy 5 by number
    pt, shown = _typed(V2, ["2", "2", "2", "王小五 5"])
    assert pt is not None and decode_ballot(V2, pt[0]).write_ins == ("王小五", 5)
    assert "代表编号或姓名" in shown
    # on a deputies-only ballot a name is refused, then a seat number is taken
    pt, shown = _typed(V1, ["1", "2", "3", "王小五", "1", "2", "3", "5"])
    assert pt is not None and decode_ballot(V1, pt[0]).write_ins == (5, None)
    assert "只能填代表编号" in shown


def test_name_problem_says_it_plainly() -> None:
    assert name_problem("王小五", 8) == ""
    assert name_problem("阿不都·热合曼", 8) == ""  # a minority name with its dot
    assert "最多3个字" in name_problem("欧阳建国", 3)
