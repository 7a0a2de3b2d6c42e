"""voting.session.blame's words: who is named, who is suspected, what the tally waits for."""

from __future__ import annotations

from tally.blame import Verdict, VerdictKind
from tally.result import Result
from voting.session.blame import tallied_message, waiting_message

NAMES = {2: "甲", 3: "乙", 4: "丙"}
RESULT = Result(((1, 0),), (True,))


def _verdict(kind: VerdictKind, **kw: object) -> Verdict:
    base: dict[str, object] = {
        "result": RESULT if kind is VerdictKind.TALLIED else None,
        "used": (),
        "dishonest": (),
        "suspects": (),
        "malformed": (),
        "reason": "why",
    }
    base.update(kw)
    return Verdict(kind, **base)  # type: ignore[arg-type]


def test_an_honest_tally_says_nothing() -> None:
    assert tallied_message(_verdict(VerdictKind.TALLIED, used=(1, 2, 3)), NAMES) == ""


def test_the_dishonest_scrutineer_is_named_and_the_server_is_not_listed() -> None:
    v = _verdict(VerdictKind.TALLIED, used=(1, 2, 4), dishonest=(3,))
    said = tallied_message(v, NAMES)
    assert said.startswith("监票人 2（乙） (scrutineer 2) 的部分解密有误")
    assert "监票人 1（甲） (scrutineer 1)、监票人 3（丙） (scrutineer 3) 的部分解密计票" in said
    assert "服务器" not in said


def test_void_ballots_that_could_not_be_cross_checked_are_said_so() -> None:
    v = _verdict(
        VerdictKind.TALLIED,
        used=(1, 2, 3),
        malformed=((0, 4),),
        reason="…; 1 ballot(s) do not decode to a ballot (void), not cross-checked: no other "
        "trustee can answer",
    )
    said = tallied_message(v, NAMES)
    assert "1 张选票解密后不是有效选票" in said and "not cross-checked" in said


def test_waiting_names_the_suspects_and_what_it_waits_for() -> None:
    v = _verdict(VerdictKind.NEED_ANOTHER, suspects=(2, 4))
    said = waiting_message(v, NAMES, can_ask=True)
    assert "嫌疑 (one of them is wrong): 监票人 1（甲） (scrutineer 1)、监票人 3（丙）" in said
    assert "one more scrutineer's partial decryption tells which" in said
    stuck = waiting_message(v, NAMES, can_ask=False)
    assert "no other scrutineer can decrypt" in stuck
    conflict = waiting_message(_verdict(VerdictKind.CONFLICT, suspects=(2, 3, 4)), NAMES, True)
    assert "waits for the other scrutineers" in conflict
