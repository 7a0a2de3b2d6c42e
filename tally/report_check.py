"""What a scrutineer checks in a count report before signing it: every field, not only the result.

:func:`check_report_fields` compares the report (tally.report_signatures) with the poll's public
archive and with what this scrutineer checked itself:

* ``counts.result`` and ``result_hash``: the archive's Result event;
* ``counts.issued``: the archive's public credentials; ``counts.received``: its ballots tallied;
* ``counts.total`` and ``counts.present``: the figures of the server's signed ``poll_closed``
  statement this scrutineer checked before decrypting (when it did), otherwise
  issued ≤ present ≤ total;
* ``outcome``: the rules engine re-run on the poll's rules and these counts (the same pure
  function the auditor runs, tally.rules.outcome.evaluate); no outcome without rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tally.archive import Archive
from tally.errors import RecordError
from tally.poll_outcome import FOLLOWUPS
from tally.report_signatures import check_report_against_result


def rerun_outcome(
    rules: Any,
    counts: Mapping[str, Any],
    election_raw: str,
    roster: Mapping[str, str] | None,
    session: str | None = None,
) -> Any:
    """The rules engine's outcome, by the one pipeline the server and the auditor run; the
    count report names ``session``."""
    from tally.poll_outcome import evaluate_poll

    return evaluate_poll(
        rules,
        json.loads(election_raw),
        dict(counts),
        dict(roster or {}) or None,
        session=session,
    )


def check_report_fields(
    report: Mapping[str, Any],
    archive: Archive,
    *,
    figures: Mapping[str, Any] | None,
    rules: Any,
    roster: list[str] | None = None,
) -> None:
    """RecordError naming the first field of the report that this scrutineer cannot confirm."""
    result = archive.result()
    if result is None:
        raise RecordError("the public record has no result yet")
    check_report_against_result(report, result[1])
    counts = report.get("counts")
    if not isinstance(counts, dict):
        raise RecordError("the count report has no counts")
    _setup, election_raw, _trustees, creds = archive.setup()
    sized = archive.sized_encrypted_tally()
    issued = len(json.loads(creds))
    implied = {
        "issued": issued,
        "received": sized[1].num_tallied if sized is not None else None,
    }
    if figures:
        implied.update({k: figures[k] for k in ("total", "present") if k in figures})
    for name, value in implied.items():
        if counts.get(name) != value:
            raise RecordError(
                f"the count report says {name} = {counts.get(name)!r}, but {value!r} is what "
                "this scrutineer checked"
            )
    present, total = counts.get("present"), counts.get("total")
    if not (isinstance(present, int) and isinstance(total, int) and issued <= present <= total):
        raise RecordError("the count report's present and total are not consistent")
    outcome = report.get("outcome")
    if rules is None:
        if outcome is not None:
            raise RecordError("the count report has an outcome, but the poll has no rules")
        return
    names = {
        str(i["id"]): str(i.get("name") or i["id"])
        for i in (outcome or {}).get("items", [])
        if isinstance(i, dict) and i.get("write_in")
    }
    numbers = {str(n): names.get(str(n), str(n)) for n in roster or []}
    if not isinstance(outcome, dict):
        raise RecordError("the poll has rules, but the count report has no outcome")
    try:
        session = report.get("session")  # checked against the session's name by the tool
        mine = rerun_outcome(
            rules, counts, election_raw, numbers, str(session) if session else None
        )
    except Exception as exc:  # the rules engine refuses these counts: so must the report
        if "error" in outcome:
            return
        raise RecordError(f"the rules engine refuses this poll's counts: {exc}") from None
    mine.pop(FOLLOWUPS, None)
    if mine != {k: v for k, v in outcome.items() if k != FOLLOWUPS}:
        raise RecordError(
            "the count report's outcome is not what the rules engine gives for these counts"
        )
