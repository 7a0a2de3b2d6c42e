"""Small builders for rules and counts in tests."""

from __future__ import annotations

from typing import Any

from tally.rules.counts import Counts, parse_counts
from tally.rules.loader import load_rules
from tally.rules.model import SessionRules
from tally.rules.outcome import evaluate
from tally.rules.result import Outcome


def rules(
    *polls: dict[str, Any], level: str = "township", total: int = 45, **settings: Any
) -> SessionRules:
    doc: dict[str, Any] = {
        "session": {"name": "测试会议", "level": level, "total_deputies": total},
        "polls": list(polls),
    }
    if settings:
        doc["settings"] = settings
    return load_rules(doc)


def candidates(*ids: str) -> list[dict[str, str]]:
    return [{"id": i, "name": f"候选人{i}"} for i in ids]


def election(
    pid: str = "e",
    *,
    seats: int,
    cands: list[str],
    post_type: str = "deputy",
    organ: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": pid,
        "kind": "election",
        "title": pid,
        "post": pid,
        "post_type": post_type,
        "organ": organ
        or {"member": "standing_committee", "higher_deputy": "higher_congress"}.get(
            post_type, "government"
        ),
        "seats": seats,
        "candidates": candidates(*cands),
        **extra,
    }


def counts(
    poll: str,
    *,
    total: int = 45,
    present: int | None = None,
    issued: int | None = None,
    returned: int | None = None,
    **rest: Any,
) -> Counts:
    present = total if present is None else present
    issued = present if issued is None else issued
    returned = issued if returned is None else returned
    return parse_counts(
        {
            "poll": poll,
            "total": total,
            "present": present,
            "issued": issued,
            "returned": returned,
            **rest,
        }
    )


def yes_totals(votes: dict[str, int], returned: int) -> dict[str, dict[str, int]]:
    """Totals where every valid ballot not 赞成 is 反对."""
    return {k: {"yes": v, "no": returned - v} for k, v in votes.items()}


def run(r: SessionRules, c: Counts) -> Outcome:
    return evaluate(r, c)


COMMITTEE = [f"M{i}" for i in range(1, 9)]
COMMITTEE_VOTES = dict(zip(COMMITTEE, [100, 95, 90, 85, 80, 75, 70, 70], strict=True))
COMMITTEE_POLL = election("cm", seats=7, cands=COMMITTEE, post_type="member")


def committee_tie(**count: Any) -> Outcome:
    """7 standing-committee members from 8 candidates, 120 county deputies; M7 and M8 tie
    at 70 votes for the last seat. ``count`` changes the counts (e.g. ``returned``)."""
    returned = count.get("returned", 120)
    return run(
        rules(COMMITTEE_POLL, level="county", total=120),
        counts("cm", total=120, totals=yes_totals(COMMITTEE_VOTES, returned), **count),
    )
