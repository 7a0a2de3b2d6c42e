"""tally.closing_check: how a poll's voting ended, held to its signed deadline (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from tally.closing_check import check_closing
from tally.errors import RecordError

ISSUED = "2026-03-05T01:00:00.000Z"
DEADLINE = "2026-03-05T01:03:00.000Z"  # issued + 180 s


def closing(**kw: Any) -> dict[str, Any]:
    return {"by": "timer", "at": "2026-03-05T01:03:00.120Z", "duration": 180,
            "deadline": DEADLINE, **kw}  # fmt: skip


def check(c: Any, signed: str | None = DEADLINE, issued: str | None = ISSUED) -> str:
    return check_closing("poll p1", c, signed_deadline=signed, issued_at=issued)


def test_what_a_true_record_says() -> None:
    assert "closed by its preset voting time" in check(closing())
    assert "closed by the chair" in check(closing(by="chair", at="2026-03-05T01:02:00.000Z"))
    plain = {"by": "chair", "at": "2026-03-05T01:09:00.000Z", "duration": None, "deadline": None}
    assert check(plain, signed=None) == "poll p1: closed by the chair"


@pytest.mark.parametrize(
    ("entry", "signed", "words"),
    [
        (None, DEADLINE, "does not say how its voting ended"),
        (closing(by="secretary"), DEADLINE, "not chair or timer"),
        (closing(at="yesterday"), DEADLINE, "is not a time"),
        (closing(at="2026-03-05T01:03:00"), DEADLINE, "no time zone"),
        (closing(deadline="2026-03-05T01:05:00.000Z"), DEADLINE, "signed for the tablets"),
        (closing(), None, "signed for the tablets"),
        (closing(duration=None, deadline=None), None, "had none"),
        (closing(duration=200), DEADLINE, "plus 200 s"),
        (closing(at="2026-03-05T01:02:59.999Z"), DEADLINE, "before its deadline"),
        (closing(by="chair"), DEADLINE, "after its time ran out"),
        (closing(duration="180"), DEADLINE, "not a number of seconds"),
    ],
)
def test_a_record_that_lies_about_its_closing_is_refused(
    entry: Any, signed: str | None, words: str
) -> None:
    with pytest.raises(RecordError, match=words):
        check(entry, signed=signed)
