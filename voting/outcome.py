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

from tally.poll_counts import DEFAULT_LEVEL as DEFAULT_LEVEL
from tally.poll_counts import counts_document as counts_document
from tally.poll_counts import election_layout as election_layout
from tally.poll_counts import roster_numbers as roster_numbers
from tally.poll_counts import rules_document as _document
from voting.models import Poll


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
