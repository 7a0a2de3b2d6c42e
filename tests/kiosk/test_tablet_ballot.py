"""What the tablet shows for each kind of poll, and how taps become a plaintext (kiosk/ui)."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from kiosk.choices import election_plaintext, question_plaintext
from kiosk.ui.app import normalize_code
from kiosk.ui.ballot import BallotError, ballot_form, plaintext, read_rules, review
from kiosk.ui.tablet import Screen, Tablet, bulletin_url, chinese
from kiosk.unlock import read_passphrase_file, tablet_passphrase
from kiosk.vault import VaultError
from tally import messages as m
from tally.election import parse_question
from tally.election_ballot import ElectionLayout, question_json

MARKS = ["赞成", "反对", "弃权"]


def q(obj: dict[str, Any]) -> Any:
    return parse_question(obj)


def motion() -> list[Any]:
    return [q({"answers": MARKS, "min": 1, "max": 1, "question": "表决意见"})]


def per_item(names: list[str]) -> list[Any]:
    return [q({"answers": MARKS, "min": 1, "max": 1, "question": n}) for n in names]


def projects(n: int = 12, k: int = 10) -> list[Any]:
    names = [f"项目{i}" for i in range(1, n + 1)]
    return [q({"answers": names, "min": 0, "max": k, "question": "候选项目"})]


def write_in_election() -> list[Any]:
    layout = ElectionLayout(("甲", "乙", "丙"), seats=2, roster_max=255)
    return [q(question_json(layout, "副主席"))]


def form(
    kind: str,
    questions: list[Any],
    rules: dict[str, Any] | None = None,
    last_press_valid: bool = True,
) -> dict[str, Any]:
    return ballot_form(
        "p1",
        "标题",
        kind,
        questions,
        read_rules(json.dumps(rules) if rules else None),
        last_press_valid=last_press_valid,
    )


def test_motion() -> None:
    f = form("motion", motion(), last_press_valid=False)
    assert [s["type"] for s in f["sections"]] == ["motion"]
    assert f["first_press"] and f["kind_title"] == "表决议案"
    assert plaintext(f, motion(), [{"answer": 1}]) == [question_plaintext(motion()[0], [1])]
    with pytest.raises(BallotError, match="还没有选择"):
        plaintext(f, motion(), [{"answer": None}])
    assert review(f, [{"answer": 0}])["lines"][0]["choice"] == "赞成"


def test_projects_choose_up_to_n() -> None:
    qs = projects()
    f = form("projects", qs, {"kind": "projects", "form": "B", "select": 10})
    (s,) = f["sections"]
    assert s["type"] == "choose" and s["max"] == 10 and "最多选10项" in f["rule"]
    assert plaintext(f, qs, [{"chosen": list(range(10))}]) == [
        question_plaintext(qs[0], list(range(10)))
    ]
    with pytest.raises(BallotError, match="最多选10项"):
        plaintext(f, qs, [{"chosen": list(range(11))}])
    with pytest.raises(BallotError):
        plaintext(f, qs, [{"chosen": [0, 0]}])
    r = review(f, [{"chosen": [0, 1, 2, 3, 5, 6, 7, 8, 9, 10]}])
    assert "第5项「项目5」未选" in r["unmarked"] and "第12项「项目12」未选" in r["unmarked"]


def test_per_candidate_election_caps_yes_at_the_seats() -> None:
    names = ["甲", "乙", "丙", "丁"]
    qs = per_item(names)
    f = form("election", qs, {"kind": "election", "seats": 3})
    (s,) = f["sections"]
    assert s["type"] == "marks" and s["seats"] == 3 and f["rule"].startswith("应选3名")
    with pytest.raises(BallotError, match="赞成不能超过3名"):
        plaintext(f, qs, [{"marks": [0, 0, 0, 0]}])
    rows = plaintext(f, qs, [{"marks": [0, 0, 1, None]}])
    assert rows[3] == question_plaintext(qs[3], [2])  # unmarked reads 弃权 by default
    r = review(f, [{"marks": [0, 0, 1, None]}])
    assert "第4项「丁」未选" in r["unmarked"] and "未选的项按弃权计" in r["notes"]
    void = form("election", qs, {"kind": "election", "seats": 3, "settings": {"unmarked": "void"}})
    with pytest.raises(BallotError, match="必须选择"):
        plaintext(void, qs, [{"marks": [0, 0, 1, None]}])


def test_confirmation_and_removal_have_no_seat_cap() -> None:
    qs = per_item(["甲", "乙"])
    f = form("confirmation", qs)
    assert f["sections"][0]["seats"] is None and f["kind_title"] == "表决人选"
    assert len(plaintext(f, qs, [{"marks": [0, 0]}])) == 2
    assert form("other", qs, {"kind": "removal"})["kind_title"] == "罢免"


def test_write_in_election() -> None:
    qs = write_in_election()
    f = form("election", qs, {"kind": "election", "seats": 2, "write_ins": "deputies"})
    (s,) = f["sections"]
    assert s["type"] == "election" and s["seats"] == 2 and "可以另选他人" in f["rule"]
    rows = plaintext(f, qs, [{"marks": [0, 1, 2], "write_ins": [7]}])
    assert rows == [
        election_plaintext(qs[0], {"甲": "赞成", "乙": "反对", "丙": "弃权", "另选他人": [7]})
    ]
    with pytest.raises(BallotError, match="反对"):
        plaintext(f, qs, [{"marks": [0, 2, 2], "write_ins": [7]}])
    with pytest.raises(BallotError, match="合计不能超过2名"):
        plaintext(f, qs, [{"marks": [0, 0, 1], "write_ins": [7]}])
    with pytest.raises(BallotError, match="不在代表名单"):
        plaintext(f, qs, [{"marks": [0, 1, 2], "write_ins": [256]}])
    with pytest.raises(BallotError, match="必须选择"):
        plaintext(f, qs, [{"marks": [0, 1, None], "write_ins": []}])


@pytest.mark.parametrize("bad", [None, [], [{}], [{"answer": 3}], [{"answer": True}], "x"])
def test_a_page_cannot_send_nonsense(bad: Any) -> None:
    f = form("motion", motion())
    with pytest.raises(BallotError):
        plaintext(f, motion(), bad)


def test_enrolment_code_as_typed_or_scanned() -> None:
    assert normalize_code("abcd efgh-ijkl mnpq") == "ABCD-EFGH-IJKL-MNPQ"
    assert normalize_code("ＡＢＣＤ－ＥＦＧＨ ＩＪＫＬ ＭＮＰＱ") == "ABCD-EFGH-IJKL-MNPQ"
    assert normalize_code(" abcd ") == "ABCD"


def test_words_and_urls() -> None:
    assert chinese("回执签名无效 — the receipt is not signed") == "回执签名无效"
    assert bulletin_url("http://s:1/", "a+b/c") == "http://s:1/results?tracker=a%2Bb%2Fc"


def test_larger_text_resets_for_the_next_deputy() -> None:
    def welcome(deputy_id: int) -> m.Welcome:
        return m.Welcome(
            id="w",
            deputy=m.DeputyInfo(deputy_id=deputy_id, name="甲", delegation="一", seat="1"),
            present=True,
            session="会",
            polls=[],
        )

    async def main() -> None:
        t = Tablet("http://s")
        t.enrolled = True
        assert t.screen() is Screen.CONNECTING
        t.on_welcome(welcome(1))
        assert t.screen() is Screen.WAITING
        t.set_large_text(True)
        t.on_welcome(welcome(1))  # the same deputy reconnects: kept
        assert t.large_text
        t.on_welcome(welcome(2))  # another deputy: back to the default size
        assert not t.large_text

    asyncio.run(main())


def test_passphrase_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RENDA_KIOSK_PASSPHRASE", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    path = tmp_path / "etc" / "passphrase"
    with pytest.raises(VaultError):
        tablet_passphrase(path, create=False)
    first = tablet_passphrase(path, create=True)
    assert len(first) >= 40 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert tablet_passphrase(path, create=True) == first  # made once, then kept
    os.chmod(path, 0o644)
    with pytest.raises(VaultError, match="chmod 600"):
        read_passphrase_file(path)
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "renda-kiosk-passphrase").write_text("from-systemd\n")
    os.chmod(creds / "renda-kiosk-passphrase", 0o600)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert tablet_passphrase(None, create=False) == "from-systemd"
