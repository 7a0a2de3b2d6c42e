"""The count report (计票结果报告单, reference §8.3): data, JSON and a plain-text table.

Fields: the session and the poll; post and seats; candidates; 应到 (all deputies), 实到
(present), the quorum and majority figures; ballots issued and returned; valid and void
ballots (with the reasons) and blank ones; per candidate 赞成 / 反对 / 弃权 (and unmarked);
write-in tallies; who passed the threshold; who is elected (or what passed); ties and
re-votes, 另行选举 or re-run called for; the verdict on the whole vote; how unmarked boxes were
read; and signature lines for the 总监票人, 监票人 and 计票人.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from tally.rules.ballots import VOID_LABELS, VoidReason
from tally.rules.counts import Counts
from tally.rules.model import ElectionPoll, Poll, PollKind, SessionRules, Unmarked
from tally.rules.nominations import POST_LABELS
from tally.rules.quorum import majority_minimum, quorum_minimum
from tally.rules.result import (
    NEXT_LABELS,
    STATUS_LABELS,
    VERDICT_LABELS,
    CountReport,
    FollowUp,
    ItemStatus,
    Outcome,
    ReportRow,
    Signature,
    Verdict,
    VoidLine,
)
from tally.rules.serialize import to_data

KIND_LABELS = {
    PollKind.MOTION: "表决议案",
    PollKind.PROJECTS: "民生实事项目票决",
    PollKind.ELECTION: "选举",
    PollKind.CONFIRMATION: "表决通过人选",
    PollKind.REMOVAL: "罢免",
}
UNMARKED_LABELS = {Unmarked.ABSTAIN: "弃权", Unmarked.YES: "赞成", Unmarked.VOID: "废票"}
SOURCE_LABELS = {
    "listed": "",
    "first_round_order": "按第一次投票得票多少的顺序确定",
    "nomination": "原候选人不足，须依法重新提名",
    "presidium": "按得票顺序确定时遇票数相等，由主席团决定",
}
PROJECT_VOID = {"duplicate": "同一项目重复选择", "overvote": "所选项目多于应选数"}


def _void_lines(reasons: tuple[tuple[str, int], ...]) -> tuple[VoidLine, ...]:
    lines = []
    for reason, count in reasons:
        try:
            label = VOID_LABELS[VoidReason(reason)]
        except ValueError:
            label = PROJECT_VOID.get(reason, reason)
        lines.append(VoidLine(reason, label, count))
    return tuple(lines)


def _summary(outcome: Outcome) -> str:
    if outcome.verdict is not Verdict.VALID:
        return f"本次投票{VERDICT_LABELS[outcome.verdict]}，应重新投票。"
    names = {i.id: i.name for i in outcome.items}
    parts: list[str] = []
    if outcome.kind is PollKind.MOTION:
        item = outcome.items[0]
        res = STATUS_LABELS[item.status]
        parts.append(
            f"赞成{item.yes}票，反对{item.no}票，弃权{item.abstain}票，"
            f"未按{outcome.issued - outcome.returned}人；{res}"
        )
    else:
        groups: dict[ItemStatus, list[str]] = {}
        for i in outcome.items:
            groups.setdefault(i.status, []).append(i.name)
        for status in (ItemStatus.ELECTED, ItemStatus.SELECTED, ItemStatus.PASSED):
            if status in groups:
                parts.append(f"{STATUS_LABELS[status]}：{'、'.join(groups[status])}")
        if outcome.kind in (PollKind.CONFIRMATION, PollKind.REMOVAL) and (
            ItemStatus.NOT_PASSED in groups
        ):
            parts.append(f"未通过：{'、'.join(groups[ItemStatus.NOT_PASSED])}")
        if not any(
            s in groups for s in (ItemStatus.ELECTED, ItemStatus.SELECTED, ItemStatus.PASSED)
        ):
            parts.append("无人当选" if outcome.kind is PollKind.ELECTION else "无")
    for nxt in outcome.next_polls:
        who = "、".join(names.get(c, c) for c in nxt.candidates)
        unit = "项" if outcome.kind is PollKind.PROJECTS else "名"
        text = f"{NEXT_LABELS[nxt.kind]}{nxt.seats}{unit}" if nxt.seats else NEXT_LABELS[nxt.kind]
        parts.append(f"{text}（{who}）" if who else text)
    return "；".join(parts) + "。"


def build_report(rules: SessionRules, poll: Poll, outcome: Outcome, counts: Counts) -> CountReport:
    election = poll if isinstance(poll, ElectionPoll) else None
    rows = tuple(
        ReportRow(
            id=i.id,
            name=i.name,
            write_in=i.write_in,
            yes=i.yes,
            no=i.no,
            abstain=i.abstain,
            unmarked=i.unmarked,
            points=i.points,
            qualified=i.qualified,
            status=i.status,
            result=STATUS_LABELS[i.status],
        )
        for i in outcome.items
    )
    decided = tuple(
        i.id
        for i in outcome.items
        if i.status in (ItemStatus.ELECTED, ItemStatus.SELECTED, ItemStatus.PASSED)
    )
    names = {i.id: i.name for i in outcome.items}
    follow = tuple(
        FollowUp(
            kind=n.kind.value,
            label=NEXT_LABELS[n.kind],
            reason=n.reason,
            seats=n.seats,
            candidates=tuple(names.get(c, c) for c in n.candidates),
            candidate_source=n.candidate_source.value,
            min_candidates=n.min_candidates,
            max_candidates=n.max_candidates,
        )
        for n in outcome.next_polls
    )
    sig = counts.signatories
    signatures = (
        Signature("总监票人", sig.chief),
        *(Signature("监票人", s) for s in (sig.scrutineers or ("",))),
        *(Signature("计票人", s) for s in (sig.counters or ("",))),
    )
    seats = election.seats if election else getattr(poll, "select", None)
    candidates = tuple(c.name for c in election.candidates) if election else ()
    return CountReport(
        session=rules.name,
        poll=poll.id,
        kind=poll.kind,
        kind_label=KIND_LABELS[poll.kind],
        title=poll.title,
        post=election.post if election else "",
        post_type=POST_LABELS[election.post_type] if election else "",
        seats=seats,
        candidates=candidates,
        total=outcome.total,
        present=outcome.present,
        quorum_minimum=quorum_minimum(outcome.total),
        majority_minimum=majority_minimum(outcome.total),
        issued=outcome.issued,
        returned=outcome.returned,
        not_returned=max(outcome.issued - outcome.returned, 0),
        valid=outcome.valid_ballots,
        void=outcome.void_ballots,
        void_reasons=_void_lines(outcome.void_reasons),
        blank=outcome.blank_ballots,
        unmarked_read_as=UNMARKED_LABELS[poll.settings.unmarked] if election else None,
        election_method=poll.settings.election_method.value if election else None,
        verdict=outcome.verdict,
        verdict_label=VERDICT_LABELS[outcome.verdict],
        rows=rows,
        qualified=tuple(i.id for i in outcome.items if i.qualified),
        decided=decided,
        tied=tuple(i.id for i in outcome.items if i.status is ItemStatus.TIED),
        follow_ups=follow,
        summary=_summary(outcome),
        notes=outcome.notes,
        signatures=signatures,
    )


def report_to_data(report: CountReport) -> dict[str, Any]:
    data: dict[str, Any] = to_data(report)
    return data


def report_to_json(report: CountReport) -> str:
    return json.dumps(report_to_data(report), ensure_ascii=False, indent=2)


# --- plain-text table -----------------------------------------------------------------------


def width(text: str) -> int:
    """Display width: CJK and full-width characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, cols: int, right: bool = False) -> str:
    fill = " " * max(cols - width(text), 0)
    return fill + text if right else text + fill


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    cols = [max(width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "+" + "+".join("-" * (c + 2) for c in cols) + "+"
    out = [line]
    for j, r in enumerate([header, *rows]):
        cells = [_pad(v, cols[i], right=(i > 0 and v.isdigit())) for i, v in enumerate(r)]
        out.append("| " + " | ".join(cells) + " |")
        if j == 0:
            out.append(line)
    out.append(line)
    return out


def report_to_text(report: CountReport) -> str:
    """The 计票结果报告单 as a plain-text table with Chinese labels."""
    election = report.kind is PollKind.ELECTION
    lines = ["计票结果报告单", ""]
    head: list[tuple[str, str]] = [
        ("会议", report.session),
        ("事项", f"{report.title}（{report.kind_label}）"),
    ]
    if election:
        head += [
            ("职务", f"{report.post}（{report.post_type}）"),
            ("应选人数", str(report.seats)),
            ("候选人", "、".join(report.candidates)),
        ]
    elif report.seats is not None:
        head.append(("应选项目数", str(report.seats)))
    not_returned = "未按" if report.kind is PollKind.MOTION else "未投"
    head += [
        ("应到代表（实有代表数）", str(report.total)),
        ("实到代表", str(report.present)),
        ("法定人数", f"{report.quorum_minimum}（三分之二以上）"),
        ("过半数", f"{report.majority_minimum}票（全体代表过半数）"),
        ("发出票数", str(report.issued)),
        ("收回票数", str(report.returned)),
        (not_returned, str(report.not_returned)),
        ("有效票", str(report.valid)),
        ("无效票", str(report.void)),
    ]
    head += [(f"  其中：{v.label}", str(v.count)) for v in report.void_reasons]
    if report.blank:
        head.append(("空白票", str(report.blank)))
    if report.unmarked_read_as:
        head.append(("未标记视为", report.unmarked_read_as))
    head.append(("本次投票", report.verdict_label))
    lines += _table(["项目", "内容"], [[k, v] for k, v in head])
    lines.append("")
    has_points = any(r.points is not None for r in report.rows)
    has_unmarked = any(r.unmarked for r in report.rows)
    header = ["姓名" if report.kind is not PollKind.PROJECTS else "项目", "赞成", "反对", "弃权"]
    if has_unmarked:
        header.append("未标记")
    if has_points:
        header.append("积分")
    header += ["过半数", "结果"]
    body = []
    for r in report.rows:
        name = f"{r.name}（另选）" if r.write_in else r.name
        row = [name, str(r.yes), str(r.no), str(r.abstain)]
        if has_unmarked:
            row.append(str(r.unmarked))
        if has_points:
            row.append("" if r.points is None else str(r.points))
        row += ["是" if r.qualified else "否", r.result]
        body.append(row)
    if report.verdict is Verdict.VALID:
        lines += _table(header, body)
    else:
        lines.append("本次投票无效，不计票。")
    lines += ["", f"结果：{report.summary}"]
    for f in report.follow_ups:
        lines.append(f"{f.label}：{f.reason}")
        source = SOURCE_LABELS.get(f.candidate_source, "")
        who = "、".join(f.candidates)
        if who or source:
            label = "候选项目" if report.kind is PollKind.PROJECTS else "候选人"
            lines.append(f"  {label}：" + "：".join(x for x in (source, who) if x))
        if f.kind == "supplementary":
            upper = f"至{f.max_candidates}" if f.max_candidates else "以上"
            lines.append(f"  候选人数：{f.min_candidates}{upper}名，应选{f.seats}名")
    lines.append("")
    for s in report.signatures:
        lines.append(f"{s.role}：{s.name or ''}    签名：{s.signature or '________'}")
    return "\n".join(lines) + "\n"
