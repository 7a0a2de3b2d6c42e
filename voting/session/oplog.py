"""The operator's log: what the secretariat needs to follow a session, one plain line each.

Logger ``renda.session`` (``renda serve --log-level info`` shows it on stderr): the server
started, the roster imported, attendance (counts), scrutineers connected, the key ceremony,
each poll opened / ballots issued / ballots received so far / closed / tallied / published,
and each refusal with its code (logger ``renda.refusal``).

Never a choice, a credential, a tracker or a token, and never a deputy: attendance and
ballots are logged as counts, so that no line (nor the order of lines) tells which deputy cast
which ballot (docs/decisions.md). The audit log's actions (:meth:`SessionContext.audit`) are
logged after their transaction commits.
"""

from __future__ import annotations

import logging

log = logging.getLogger("renda.session")
refusals = logging.getLogger("renda.refusal")

# audit action -> the line to log (``{detail}`` is the audit row's detail); None: not logged
# here (attendance is logged as counts; an enrolment code names a deputy)
_LINES: dict[str, str | None] = {
    "roster_import": "roster imported (名单已导入): {detail}",
    "new_enrolment_code": None,
    "new_cards": "new enrolment cards (重新生成登记卡): {detail}",
    "enrol": "a tablet enrolled (平板已登记)",
    "add_scrutineer": "scrutineer added (监票人): {detail}",
    "ceremony_done": "key ceremony done (密钥仪式完成): {detail}",
    "poll_create": "poll {detail} created",
    "poll_open": "poll opened (开始投票), {detail}",
    "poll_start": "ballots issued (发出选票), poll {detail}",
    "poll_close": "poll {detail} closed (投票结束)",
    "poll_tallied": "poll {detail} tallied (计票完成)",
    "poll_publish": "poll {detail} published (结果公布)",
    "report_signed": "count report signed (计票结果报告单签名), poll {detail}",
}


def audit_line(action: str, detail: str) -> str | None:
    """The operator's line for an audit action, or None if it is not logged."""
    if action.startswith("attendance_"):
        return None
    line = _LINES.get(action, f"{action.replace('_', ' ')}: {{detail}}")
    return None if line is None else line.format(detail=detail)


def received(poll_id: str, count: int, issued: int) -> None:
    """Ballots received so far: at every tenth of those issued (and the last), never each."""
    step = max(1, issued // 10)
    if count == issued or count % step == 0:
        log.info("poll %s: %d of %d ballots received (已收到)", poll_id, count, issued)


def refused(where: str, code: object, message: str) -> None:
    refusals.info("refused (拒绝) %s: %s: %s", where, getattr(code, "value", code), message[:300])
