"""What the console reads and prepares besides the session's own actions (voting/service.py):
the session's level (for the law checks), the audit log, the poll record's fingerprint, the
count report's printable input, and the whole record as one archive.

The audit log holds who (a role) did what to which poll or deputy and when; never a choice, a
credential or a token (the server writes no such thing into it, and this module shows only its
four columns).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tally.rules.model import Level
from voting.models import AuditLog, Meta, Staff
from voting.printing.count_report import ReportInput, SignatureLine
from voting.session.desk import local_time

if TYPE_CHECKING:
    from voting.session.service import SessionService

ROLE_NAMES = {
    "secretariat": "秘书处",
    "chair": "会议主持人",
    "display": "显示屏",
    "scrutineer": "监票人",
    "server": "服务器",
    "public": "表决器",
}
ACTION_NAMES = {
    "roster_import": "导入代表名册",
    "enrol": "表决器登记",
    "new_enrolment_code": "补发登记卡（旧表决器作废）",
    "new_cards": "重新生成未登记代表的登记卡（原卡作废）",
    "attendance_present": "签到",
    "attendance_late": "补签到",
    "attendance_leave": "请假",
    "attendance_absent": "缺席",
    "attendance_left": "中途退场",
    "attendance_return": "返回会场",
    "add_scrutineer": "登记监票人",
    "ceremony_start": "开始密钥生成",
    "poll_create": "新建表决事项",
    "poll_open": "开始投票",
    "poll_close": "结束投票",
    "poll_publish": "公布结果",
    "poll_withdraw": "撤回",
    "poll_void": "作废",
    "poll_rerun": "重新选举",
    "web_login": "登录控制台",
    "web_logout": "退出控制台",
    "session_level": "设置会议级别",
    "hand_count": "录入举手表决/纸质选票结果",
    "partial_decryption_rejected": "监票人部分解密有误（点名，未采用）",
    "partial_decryptions_inconsistent": "部分解密合不出结果（待查明）",
    "ballots_not_decoding": "选票解密后无效",
}
MAX_AUDIT_ROWS = 5000


def level_of(service: SessionService) -> Level:
    value = service.ctx.meta("level")
    try:
        return Level(value) if value else Level.TOWNSHIP
    except ValueError:
        return Level.TOWNSHIP


async def set_level(service: SessionService, level: Level, role: str) -> None:
    def run(s: Session) -> None:
        s.merge(Meta(key="level", value=level.value))
        service.ctx.audit(s, role, "session_level", level.value)

    await service.db(run)


@dataclass(frozen=True)
class AuditEntry:
    at: str
    when: str  # Beijing time, in words
    role: str
    role_name: str
    action: str
    action_name: str
    detail: str


async def audit_log(
    service: SessionService, role: str = "", action: str = "", text: str = ""
) -> list[AuditEntry]:
    """The log, newest first, filtered by role, action and a text in the detail."""

    def run(s: Session) -> list[AuditEntry]:
        query = select(AuditLog).order_by(AuditLog.id.desc()).limit(MAX_AUDIT_ROWS)
        if role:
            query = query.where(AuditLog.role == role)
        if action:
            query = query.where(AuditLog.action == action)
        if text:
            query = query.where(AuditLog.detail.contains(text))
        return [
            AuditEntry(
                r.at,
                local_time(r.at),
                r.role,
                ROLE_NAMES.get(r.role, r.role),
                r.action,
                ACTION_NAMES.get(r.action, r.action),
                r.detail,
            )
            for r in s.scalars(query)
        ]

    return await service.db(run)


def audit_csv(entries: list[AuditEntry]) -> bytes:
    """The log as CSV for Excel (UTF-8 with a byte-order mark)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["时间（北京时间）", "时间（UTC）", "角色", "操作", "内容"])
    for e in entries:
        w.writerow([e.when, e.at, e.role_name, e.action_name, e.detail])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def fingerprint(service: SessionService, poll_id: str) -> str:
    """SHA-256 of the poll's Belenios archive (its record), hex; "" if there is none."""
    path = service.archive_path(poll_id)
    if not path.is_file():
        return ""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


async def scrutineer_names(service: SessionService) -> dict[int, str]:
    """Trustee index → name (1 = the first registered, the 总监票人)."""

    def run(s: Session) -> dict[int, str]:
        return {
            int(st.trustee_index): st.name
            for st in s.scalars(select(Staff).where(Staff.trustee_index.is_not(None)))
            if st.trustee_index is not None
        }

    return await service.db(run)


async def report_input(
    service: SessionService, poll: dict[str, Any], base_url: str, printed_at: str
) -> ReportInput | None:
    """The printable count report of a tallied or published poll (None before the tally)."""
    outcome = poll.get("outcome") or {}
    report = outcome.get("report") if isinstance(outcome, dict) else None
    if not isinstance(report, dict):
        return None
    names = await scrutineer_names(service)
    signed: dict[int, str] = {}
    info = poll.get("report") or {}
    # belenios trustee ids: 1 is the server's own key, scrutineer i is i + 1
    for sig in info.get("signatures", []):
        digest = hashlib.sha256(json.dumps(sig["signature"], sort_keys=True).encode()).hexdigest()
        signed[int(sig["trustee_id"]) - 1] = digest[:16]
    lines: list[SignatureLine] = []
    for index in sorted(names):
        role = "总监票人" if index == min(names) else "监票人"
        mark = f"已电子签名 {signed[index]}" if index in signed else "未电子签名"
        lines.append(SignatureLine(role, names[index], mark))
    if not lines:
        lines.append(SignatureLine("总监票人", ""))
    lines.append(SignatureLine("计票人", ""))
    from tally.manual_count import method_of, report_fingerprint

    manual = method_of(poll.get("counts"))
    base = base_url.rstrip("/")
    if manual is not None:  # counted by hand: no archive; the signed report stands for it
        text = str(info.get("text", ""))
        digest = report_fingerprint(text) if text else ""
        url = f"{base}/results#poll-{poll['poll_id']}"
    else:
        digest = fingerprint(service, str(poll["poll_id"]))
        url = f"{base}/record/polls/{poll['poll_id']}/{poll['uuid']}.bel"
    method = manual.value if manual is not None else "device"
    return ReportInput(
        session=service.session_name,
        poll_id=str(poll["poll_id"]),
        report=report,
        fingerprint=digest,
        record_url=url,
        signatures=tuple(lines),
        method=method,
        printed_at=printed_at,
    )


async def record_archive(service: SessionService) -> bytes:
    """The session record (``renda serve --export-record`` layout) as a .tar.gz, under
    ``record/``."""
    from voting.session.record import export_record

    with tempfile.TemporaryDirectory(prefix="renda-record-") as tmp:
        out = Path(tmp) / "record"
        await export_record(service, out)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            tar.add(out, arcname="record")
        return buf.getvalue()
