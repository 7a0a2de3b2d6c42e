"""The outcome pipeline of one tallied poll: the function the server runs after a close and the
auditor reruns from the public record (``renda verify RECORD/``).

:func:`evaluate_poll` takes the poll's ``rules`` (one poll entry of a rules document, or a whole
rules document whose ``"poll"`` names the entry), its Belenios ``template``, its ``counts`` (the
roster figures and the Belenios result, as published in ``outcomes.json``) and, for an
election with write-ins, its ``roster`` (roster number → name). It maps the result to a COUNTS
document (:mod:`tally.poll_counts`), evaluates it with :func:`tally.rules.outcome.evaluate` and
returns the outcome as JSON data with the draft polls its follow-ups call for (``followups``:
tie re-vote, 另行选举, re-run). The result is JSON data exactly as the record publishes it.

The mapping from a Belenios result to COUNTS follows the templates' conventions:

* motion: one question, answers 赞成/反对/弃权 (after the blank slot when blank is allowed);
* confirmation / removal: one question per person (rules order), answers 赞成/反对/弃权 (an
  election in this layout is refused when it is made, tally.poll_description.
  ballot_form_problem; it is still read in a record made before);
* projects: one question whose answers are the projects (rules order); a count is a choice;
* an election: the 人大 election ballot, one non-homomorphic question laid out as in
  docs/ballots.md (``extra.method`` = ``RendaElection``; candidates in rules order). Each
  decrypted vector is read with :func:`tally.election_ballot.decode_ballot` and mapped with
  :func:`tally.rules.ballots.from_vector`, so a malformed or unlawful ballot is counted void,
  never dropped. Write-ins are roster numbers: a deputy's roster number is their seat read as a
  number; the COUNTS get the roster (for deputies-only posts) and the names of those written in.

Pure code: no I/O. A rules document or counts that the engine refuses raise its error
(:class:`tally.rules.errors.RulesError`, or ``ValueError`` for a result that does not fit the
template); the caller decides what to publish.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from tally.election_ballot import ElectionLayout, question_json
from tally.poll_counts import counts_document, election_layout, rules_document
from tally.rules.counts import parse_counts
from tally.rules.loader import load_rules
from tally.rules.outcome import evaluate
from tally.rules.result import NextKind, Outcome
from tally.rules.serialize import to_data

FOLLOWUPS = "followups"


def evaluate_poll(
    rules: dict[str, Any],
    template: dict[str, Any],
    counts: dict[str, Any],
    roster: dict[str, str] | None = None,
    *,
    session: str | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """The rules engine's outcome of a tallied poll (with its count report) as JSON data, and
    under ``"followups"`` the draft polls it calls for. ``session`` is the session's name (for
    rules given as one poll entry; the count report names it), ``title`` the poll's title (a
    re-run keeps it; default the template's name)."""
    return poll_outcome(rules, template, counts, roster, session=session, title=title)[1]


def poll_outcome(
    rules: dict[str, Any],
    template: dict[str, Any],
    counts: dict[str, Any],
    roster: dict[str, str] | None = None,
    *,
    session: str | None = None,
    title: str | None = None,
) -> tuple[Outcome, dict[str, Any]]:
    """:func:`evaluate_poll` with the engine's :class:`Outcome` too (its count report as a
    table: ``renda rules evaluate --table``)."""
    doc, entry = rules_document(rules, counts, session)
    outcome = evaluate(
        load_rules(doc), parse_counts(counts_document(entry, template, counts, roster))
    )
    data: dict[str, Any] = json.loads(json.dumps(to_data(outcome), ensure_ascii=False))
    data[FOLLOWUPS] = followups(entry, template, outcome, title)
    return outcome, data


def followups(
    entry: dict[str, Any], template: dict[str, Any], outcome: Outcome, title: str | None = None
) -> list[dict[str, Any]]:
    """Draft polls for the outcome's next polls: template, rules entry, title, relation."""
    out: list[dict[str, Any]] = []
    for nxt in outcome.next_polls:
        kind = NextKind(nxt.kind)
        if kind is NextKind.RERUN:
            rules = dict(entry, id=f"{entry['id']}-rerun")
            out.append(
                {
                    "relation": kind.value,
                    "title": title or template["name"],
                    "template": template,
                    "rules": rules,
                }
            )
            continue
        if kind not in (NextKind.TIE_REVOTE, NextKind.SUPPLEMENTARY) or not nxt.candidates:
            continue  # the presidium decides, or new nominations are needed
        people = entry.get("candidates") or entry.get("persons") or []
        index = {p["id"]: i for i, p in enumerate(people)}
        spec_people = getattr(nxt.spec, "candidates", None) if nxt.spec is not None else None
        order = [c.id for c in spec_people] if spec_people else list(nxt.candidates)
        layout = election_layout(template) if entry.get("kind") == "election" else None
        label = "再次投票" if kind is NextKind.TIE_REVOTE else "另行选举"
        tmpl = copy.deepcopy(template)
        tmpl["name"] = f"{template['name']}（{label}）"
        if nxt.spec is not None:
            rules = to_data(nxt.spec)
        elif all(c in index for c in order):
            chosen = [index[c] for c in order]
            rules = dict(
                entry,
                id=f"{entry['id']}-{kind.value}",
                title=f"{entry.get('title', template['name'])}（{label}）",
                seats=nxt.seats,
                candidates=[people[i] for i in chosen],
            )
        else:
            continue
        if layout is not None:
            # the election ballot again, for the engine's candidates (who may include a person
            # written in: a tie across the last seat with a write-in)
            names = [str(c.get("name") or c.get("id")) for c in rules.get("candidates", [])]
            question = str(template["questions"][0]["value"].get("question", template["name"]))
            sub = ElectionLayout(
                tuple(names),
                int(nxt.seats or layout.seats),
                layout.roster_max,
                layout.allow_unmarked,
                layout.name_chars,
            )
            tmpl["questions"] = [question_json(sub, question)]
        else:
            if not all(c in index for c in order):
                continue
            tmpl["questions"] = [copy.deepcopy(template["questions"][index[c]]) for c in order]
        out.append(
            {"relation": kind.value, "title": tmpl["name"], "template": tmpl, "rules": rules}
        )
    return out
