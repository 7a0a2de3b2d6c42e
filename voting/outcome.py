"""From a tallied poll to the rules engine (tally.rules.outcome.evaluate) and back.

A poll's ``rules`` is either one poll entry of a rules document (``{"id", "kind", "title",
...}`` as in tally/rules/examples) or a whole rules document (``{"session", "settings",
"polls"}``; then ``"poll"`` names the entry, default the first). The Belenios result is mapped
to a COUNTS document by the templates' conventions:

* motion: one question, answers 赞成/反对/弃权 (after the blank slot when blank is allowed);
* election / confirmation / removal: one question per candidate (rules order), answers
  赞成/反对/弃权;
* projects: one question whose answers are the projects (rules order); a count is a choice.

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


def counts_document(
    entry: dict[str, Any], template: dict[str, Any], counts: dict[str, Any]
) -> dict[str, Any]:
    result: list[list[int]] = counts["result"]
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


def outcome_for(rules: dict[str, Any], poll: Poll, counts: dict[str, Any]) -> dict[str, Any]:
    import json

    from tally.rules.config import load_rules
    from tally.rules.counts import parse_counts
    from tally.rules.outcome import evaluate
    from tally.rules.serialize import to_data

    template = json.loads(poll.template)
    doc, entry = _document(rules, counts)
    outcome = evaluate(load_rules(doc), parse_counts(counts_document(entry, template, counts)))
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
        if not all(c in index for c in order):
            continue
        chosen = [index[c] for c in order]
        label = "再次投票" if kind == "tie_revote" else "另行选举"
        tmpl = copy.deepcopy(template)
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
