"""From a tallied poll to the rules engine (tally.rules.outcome.evaluate) and back.

A poll's ``rules`` is either one poll entry of a rules document (``{"id", "kind", "title",
...}`` as in tally/rules/examples) or a whole rules document (``{"session", "settings",
"polls"}``; then ``"poll"`` names the entry, default the first). The Belenios result is mapped
to a COUNTS document by the templates' conventions:

* motion: one question, answers 赞成/反对/弃权 (after the blank slot when blank is allowed);
* election / confirmation / removal: one question per candidate (rules order), answers
  赞成/反对/弃权;
* projects: one question whose answers are the projects (rules order); a count is a choice;
* an election with write-ins (另选他人): one non-homomorphic question laid out as in
  docs/ballots.md (``extra.method`` = ``RendaElection``; candidates in rules order). Each
  decrypted vector is read with ``tally.election_ballot.decode_ballot`` and mapped with
  ``tally.rules.ballots.from_vector``, so a malformed or unlawful ballot is counted void, never
  dropped. Write-ins are roster numbers: a deputy's roster number is their seat read as a
  number; the COUNTS get the roster (for deputies-only posts) and the names of those written in.

The outcome's next polls (tie re-vote, 另行选举, re-run) become draft polls linked to this one
when the engine gives their candidates (tally.rules.result.NextPoll).
"""

from __future__ import annotations

import copy
from typing import Any

from voting.models import Poll

DEFAULT_LEVEL = "乡镇"


def _document(
    rules: dict[str, Any], counts: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    if "polls" in rules and "session" in rules:
        doc = {k: v for k, v in rules.items() if k != "poll"}
        wanted = rules.get("poll")
        entries = [p for p in doc["polls"] if wanted is None or p.get("id") == wanted]
        if not entries:
            raise ValueError(f"the rules document has no poll {wanted!r}")
        return doc, entries[0]
    session = {"name": "session", "level": DEFAULT_LEVEL, "total_deputies": counts["total"]}
    return {"session": session, "polls": [rules]}, rules


def roster_numbers(seats: dict[str, str]) -> dict[str, str]:
    """Roster number (a seat made of digits, without leading zeros) → name."""
    return {
        str(int(seat)): name for seat, name in seats.items() if seat.isascii() and seat.isdigit()
    }


def election_layout(template: dict[str, Any]) -> Any:
    """The 人大 election layout of a one-question non-homomorphic template, or None."""
    from tally.election_ballot import layout_from_question

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
) -> list[Any]:
    """The decoded ballots of a write-in election, as tally.rules ElectionBallots."""
    from tally.election_ballot import decode_ballot
    from tally.rules.ballots import from_vector

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


def _ballot_json(ballot: Any) -> dict[str, Any]:
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


def outcome_for(
    rules: dict[str, Any],
    poll: Poll,
    counts: dict[str, Any],
    roster: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The rules engine's outcome (with its count report and follow-ups) as JSON data."""
    import json

    from tally.rules.config import load_rules
    from tally.rules.counts import parse_counts
    from tally.rules.outcome import evaluate
    from tally.rules.serialize import to_data

    template = json.loads(poll.template)
    doc, entry = _document(rules, counts)
    outcome = evaluate(
        load_rules(doc), parse_counts(counts_document(entry, template, counts, roster))
    )
    data: dict[str, Any] = to_data(outcome)
    data["followups"] = followups(entry, template, outcome)
    return data


def followups(
    entry: dict[str, Any], template: dict[str, Any], outcome: Any
) -> list[dict[str, Any]]:
    """Draft polls for the outcome's next polls: template, rules entry, title, relation."""
    out: list[dict[str, Any]] = []
    for nxt in outcome.next_polls:
        kind = str(nxt.kind.value if hasattr(nxt.kind, "value") else nxt.kind)
        if kind == "rerun":
            rules = dict(entry, id=f"{entry['id']}-rerun")
            out.append(
                {
                    "relation": "rerun",
                    "title": template["name"],
                    "template": template,
                    "rules": rules,
                }
            )
            continue
        if kind not in ("tie_revote", "supplementary") or not nxt.candidates:
            continue  # the presidium decides, or new nominations are needed
        people = entry.get("candidates") or entry.get("persons") or []
        index = {p["id"]: i for i, p in enumerate(people)}
        spec_people = getattr(nxt.spec, "candidates", None) if nxt.spec is not None else None
        order = [c.id for c in spec_people] if spec_people else list(nxt.candidates)
        layout = election_layout(template) if entry.get("kind") == "election" else None
        label = "再次投票" if kind == "tie_revote" else "另行选举"
        tmpl = copy.deepcopy(template)
        if layout is not None and spec_people:
            # a write-in ballot: the same layout for the engine's candidates, who may include a
            # person written in (a tie across the last seat with a write-in)
            from tally.election_ballot import ElectionLayout, question_json

            title = str(template["questions"][0]["value"].get("question", template["name"]))
            sub = ElectionLayout(
                tuple(str(c.name or c.id) for c in spec_people),
                int(nxt.seats or layout.seats),
                layout.roster_max,
                layout.allow_unmarked,
            )
            tmpl["questions"] = [question_json(sub, title)]
            tmpl["name"] = f"{template['name']}（{label}）"
            from tally.rules.serialize import to_data

            out.append(
                {
                    "relation": kind,
                    "title": tmpl["name"],
                    "template": tmpl,
                    "rules": to_data(nxt.spec),
                }
            )
            continue
        if not all(c in index for c in order):
            continue
        chosen = [index[c] for c in order]
        tmpl["questions"] = [copy.deepcopy(template["questions"][i]) for i in chosen]
        tmpl["name"] = f"{template['name']}（{label}）"
        if nxt.spec is not None:
            from tally.rules.serialize import to_data

            rules = to_data(nxt.spec)
        else:
            rules = dict(
                entry,
                id=f"{entry['id']}-{kind}",
                title=f"{entry.get('title', template['name'])}（{label}）",
                seats=nxt.seats,
                candidates=[people[i] for i in chosen],
            )
        out.append({"relation": kind, "title": tmpl["name"], "template": tmpl, "rules": rules})
    return out
