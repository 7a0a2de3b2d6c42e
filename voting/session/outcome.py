"""A tallied poll's outcome on the server: :func:`tally.poll_outcome.evaluate_poll`, the same
pipeline the auditor reruns from the record (``renda verify RECORD/``).

A poll's ``rules`` is either one poll entry of a rules document (``{"id", "kind", "title",
...}`` as in tally/rules/examples) or a whole rules document (``{"session", "settings",
"polls"}``; then ``"poll"`` names the entry, default the first); how a Belenios result becomes
the engine's COUNTS is described in tally/poll_outcome.py. The outcome's next polls (tie
re-vote, 另行选举, re-run) come back under ``"followups"``: draft polls the server links to
this one.
"""

from __future__ import annotations

import json
from typing import Any

from tally.poll_counts import roster_numbers as roster_numbers
from tally.poll_outcome import evaluate_poll
from voting.models import Poll


def outcome_for(
    rules: dict[str, Any],
    poll: Poll,
    counts: dict[str, Any],
    roster: dict[str, str] | None = None,
    *,
    session: str | None = None,
) -> dict[str, Any]:
    """The rules engine's outcome (with its count report and follow-ups) as JSON data; the
    report names ``session``, a re-run keeps the poll's title."""
    return evaluate_poll(
        rules, json.loads(poll.template), counts, roster, session=session, title=poll.title
    )
