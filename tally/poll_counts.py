"""A tallied poll's COUNTS document (tally/rules/counts.py) from its Belenios result.

Pure functions of the outcome pipeline :func:`tally.poll_outcome.evaluate_poll`, which the
server runs after a close and the auditor reruns from the public record; the conventions are
described there.
"""

from __future__ import annotations

from typing import Any

from tally.election_ballot import ElectionLayout, decode_ballot, layout_from_question
from tally.rules.ballots import ElectionBallot, from_vector

DEFAULT_LEVEL = "乡镇"


def rules_document(
    rules: dict[str, Any], counts: dict[str, Any], session: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The whole rules document and the poll's entry in it. ``rules`` is a whole document
    (``"poll"`` names the entry, default the first) or one poll entry, which is put in a
    township session named ``session`` (the session's name), of ``counts["total"]`` deputies."""
    if "polls" in rules and "session" in rules:
        doc = {k: v for k, v in rules.items() if k != "poll"}
        wanted = rules.get("poll")
        entries = [p for p in doc["polls"] if wanted is None or p.get("id") == wanted]
        if not entries:
            raise ValueError(f"the rules document has no poll {wanted!r}")
        return doc, entries[0]
    meta = {
        "name": session or "session",
        "level": DEFAULT_LEVEL,
        "total_deputies": counts["total"],
    }
    return {"session": meta, "polls": [rules]}, rules


def roster_numbers(seats: dict[str, str]) -> dict[str, str]:
    """Roster number (a seat made of digits, without leading zeros) → name."""
    return {
        str(int(seat)): name for seat, name in seats.items() if seat.isascii() and seat.isdigit()
    }


def election_layout(template: dict[str, Any]) -> ElectionLayout | None:
    """The 人大 election layout of a one-question non-homomorphic template, or None."""
    questions = template.get("questions", [])
    if len(questions) != 1 or not isinstance(questions[0], dict):
        return None
    question = questions[0]
    if question.get("type") != "NonHomomorphic":
        return None
    value = question.get("value", {})
    return layout_from_question(value.get("answers", []), question.get("extra"))


def _nh_ballots(
    entry: dict[str, Any], template: dict[str, Any], counts: dict[str, Any]
) -> list[ElectionBallot]:
    """The decoded ballots of a write-in election, as tally.rules ElectionBallots."""
    layout = election_layout(template)
    if layout is None:
        raise ValueError(
            "a non-homomorphic election must use the 人大 election ballot layout "
            "(docs/ballots.md: extra.method RendaElection)"
        )
    people = entry.get("candidates") or []
    if len(people) != len(layout.candidates):
        raise ValueError(
            f"the ballot lists {len(layout.candidates)} candidates, the rules {len(people)}"
        )
    if entry.get("seats") is not None and entry["seats"] != layout.seats:
        raise ValueError(f"the ballot has {layout.seats} write-in slots for {entry['seats']} seats")
    out = []
    for vector in counts["result"][0]:
        d = decode_ballot(layout, [int(v) for v in vector])
        out.append(from_vector(d.marks, d.write_ins, d.problems))
    return out


def _ballot_json(ballot: ElectionBallot) -> dict[str, Any]:
    return {
        "marks": [str(mark) for mark in ballot.marks],
        "write_ins": [str(w) for w in ballot.write_ins],
        "problems": list(ballot.problems),
    }


def counts_document(
    entry: dict[str, Any],
    template: dict[str, Any],
    counts: dict[str, Any],
    roster: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The COUNTS document (tally/rules/counts.py) of a tallied poll. ``roster`` maps roster
    numbers to names (only needed for write-in elections)."""
    result: list[Any] = counts["result"]
    kind = entry.get("kind")
    questions = template["questions"]

    def row(i: int) -> list[int]:
        values = [int(v) for v in result[i]]
        return values[1:] if questions[i].get("blank") else values

    doc: dict[str, Any] = {
        "poll": entry["id"],
        "total": counts["total"],
        "present": counts["present"],
        "issued": counts["issued"],
        "returned": counts["received"],
    }
    if kind == "motion":
        yes, no, abstain = row(0)[:3]
        totals: dict[str, Any] = {"yes": yes, "no": no, "abstain": abstain}
        if questions[0].get("blank"):
            totals["blank"] = int(result[0][0])
        doc["totals"] = totals
    elif kind == "election" and any(isinstance(q, dict) and "type" in q for q in questions):
        ballots = _nh_ballots(entry, template, counts)
        doc["ballots"] = [_ballot_json(b) for b in ballots]
        written = {str(w) for b in ballots for w in b.write_ins}
        numbers = roster or {}
        doc["roster"] = sorted(numbers, key=int)
        doc["names"] = {n: numbers[n] for n in sorted(written & set(numbers), key=int)}
    elif kind == "projects" and entry.get("form") == "A":  # one 赞成/反对/弃权 per project
        ids = [p["id"] for p in entry.get("projects", [])]
        if len(ids) != len(questions):
            raise ValueError("a form A project vote needs one question per project of its rules")
        doc["totals"] = {
            pid: dict(zip(("yes", "no", "abstain"), row(i)[:3], strict=True))
            for i, pid in enumerate(ids)
        }
    elif kind == "projects":
        ids = [p["id"] for p in entry.get("projects", [])]
        doc["totals"] = {pid: {"yes": n} for pid, n in zip(ids, row(0), strict=True)}
    else:
        people = entry.get("candidates") or entry.get("persons") or []
        ids = [p["id"] for p in people]
        if len(ids) != len(questions):
            raise ValueError("the election needs one question per candidate of its rules")
        doc["totals"] = {
            pid: dict(zip(("yes", "no", "abstain"), row(i)[:3], strict=True))
            for i, pid in enumerate(ids)
        }
    return doc
