"""The scrutineer's tool and a poll counted by hand (举手表决 / 纸质选票, tally.manual_count).

There is no archive to fetch and nothing was decrypted, so the tool cannot see the ballots or
the hands. What a scrutineer's signature of a manual count report means (docs/trust.md): *I
supervised this count in the hall; the report is of this session and says it was counted by
hand; its figures hold together (收回 ≤ 发出 ≤ 实到 ≤ 应到, a show of hands counts everyone
present, never a secret ballot by show of hands); and its outcome is what the session's rules
give for these figures.* The figures themselves are the scrutineer's word, checked against the
paper tally and the printed 计票结果报告单 they also sign by hand; the tool prints every figure
it signs. Nobody can verify a manual count cryptographically, and ``renda verify`` says so.
"""

from __future__ import annotations

from typing import Any

from tally.errors import RecordError
from tally.manual_count import check_manual_report


def manual_check(
    report: dict[str, Any],
    req: Any,
    session: str | None,
    trustees_raw: str | None,
    group: Any,
    sk: Any,
) -> None:
    """RecordError unless this scrutineer (secret key ``sk``) may sign the manual count report
    ``report`` of the request ``req`` (a tally.messages.ReportRequest)."""
    import json

    from tally.report_signatures import scrutineer_keys
    from tally.trustees import parse_trustees

    if trustees_raw is None:
        raise RecordError("this key file holds no session trustees (no finished ceremony)")
    check_manual_report(report, json.loads(req.rules) if req.rules else None, session=session)
    keys = scrutineer_keys(group, parse_trustees(group, trustees_raw))
    if keys.get(req.trustee_id) != group.g_pow(sk):
        raise RecordError(f"trustee {req.trustee_id} of the session is not this scrutineer's key")
