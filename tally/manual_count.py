"""A poll counted by hand when the devices fail: 举手表决 (show of hands) or 纸质选票 (paper).

GB 50799 and 人大 practice (全国人大议事规则 第六十条: "如表决器系统在使用中发生故障，采用举手
方式"; law.md §2): the secretariat enters the figures counted in the hall, the rules engine
evaluates them exactly as after an electronic tally, and the scrutineers sign the count report.
There is no archive and nothing to decrypt, so nothing here can be verified cryptographically:
the figures are what the secretariat entered and the scrutineers signed, and the outcome is
what the session's rules give for them. Who may be counted how:

* a motion and a project vote (forms A and B) by show of hands or on paper;
* a ranking (project form C) only on paper: the ballots are entered one by one;
* an election, a confirmation (表决任免人选) and a removal (罢免) only on paper: they are secret
  ballots (地方组织法 第二十八条 "选举采用无记名投票方式"; 全国人大议事规则 第四十条).

The poll's ``counts`` (stored, published in the record and signed) are :func:`manual_counts`:
``method``, ``total`` (the roster), ``present`` (实到), ``issued`` (发出; by show of hands the
deputies present), ``received`` (收回; by show of hands those who showed a hand), and the
figures by kind (``totals``, ``void``, ``write_in_totals`` with ``names`` and ``roster``, or
``ballots`` for form C). :func:`evaluate_manual` maps them to a COUNTS document and runs
:func:`tally.rules.outcome.evaluate`; :func:`manual_report` is the count report the scrutineers
sign (``uuid`` and ``result_hash`` null, ``method`` named); :func:`check_manual_report` is what
a scrutineer's tool checks before signing, :func:`check_manual_poll` what the auditor checks in
a record. Pure code, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from keys.hashing import sha256_hex
from tally.errors import RecordError
from tally.report_signatures import REPORT_KIND, check_report_signatures, parse_report_text

MAX_FIGURE = 10**7


class Method(StrEnum):
    SHOW_OF_HANDS = "show_of_hands"
    PAPER = "paper"


METHOD_NAMES = {Method.SHOW_OF_HANDS: "举手表决", Method.PAPER: "纸质选票"}
SECRET_KINDS = {"election": "选举", "confirmation": "表决任免人选", "removal": "罢免"}
SECRET_BALLOT = (
    "选举、表决任免人选和罢免应当采用无记名投票（地方组织法 第二十八条：“选举采用无记名投票"
    "方式。”；全国人大议事规则 第四十条），不能举手表决：请用纸质选票，录入收回的选票的计票结果"
)


class ManualCountError(ValueError):
    """Figures that cannot be a count of this poll, in plain Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def method_of(counts: Any) -> Method | None:
    """The manual method of a poll's counts, or None for a poll counted by the devices."""
    value = counts.get("method") if isinstance(counts, Mapping) else None
    try:
        return Method(value) if value is not None else None
    except ValueError:
        return None


def _figure(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise ManualCountError(f"{what}应填写数字")
    try:
        n = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise ManualCountError(f"{what}应填写数字（现为“{str(value)[:20]}”）") from None
    if not 0 <= n <= MAX_FIGURE:
        raise ManualCountError(f"{what}应是0或正整数（现为{n}）")
    return n


def _opt(values: Mapping[str, Any], key: str, what: str) -> int | None:
    value = values.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _figure(value, what)


def _people(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    kind = entry.get("kind")
    key = {"election": "candidates", "projects": "projects"}.get(str(kind), "persons")
    return [p for p in entry.get(key) or [] if isinstance(p, dict)]


def _option_row(raw: Any, who: str) -> dict[str, int]:
    if not isinstance(raw, Mapping):
        raise ManualCountError(f"{who}的票数应分别填写赞成、反对、弃权")
    row = {}
    for key, word in (("yes", "赞成"), ("no", "反对"), ("abstain", "弃权")):
        row[key] = _figure(raw.get(key, 0) if raw.get(key) not in (None, "") else 0, who + word)
    return row


def manual_counts(
    entry: Mapping[str, Any],
    method: Method | str,
    entered: Mapping[str, Any],
    *,
    total: int,
    present: int,
    roster: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The poll's counts from what the secretariat entered (ManualCountError in words).

    ``entered``: ``present`` (实到, default ``present``), ``issued``, ``received``, ``void``;
    ``totals`` (a motion ``{yes, no, abstain}``; per candidate, person or form A project
    ``{ID: {yes, no, abstain}}``; form B ``{ID: n}``); ``write_ins`` (``{seat or name: n}``);
    ``ballots`` (form C: lists of project ids, most wanted first). ``roster`` maps roster
    numbers to names (write-ins by name are matched to a deputy's roster number)."""
    try:
        method = Method(method)
    except ValueError:
        raise ManualCountError("请选择举手表决或纸质选票") from None
    kind = str(entry.get("kind"))
    form = str(entry.get("form", "B")) if kind == "projects" else ""
    if method is Method.SHOW_OF_HANDS and kind in SECRET_KINDS:
        raise ManualCountError(SECRET_BALLOT)
    if method is Method.SHOW_OF_HANDS and form == "C":
        raise ManualCountError("C式（按序号排序）票决只能用纸质选票：请逐张录入收回的选票")
    given = _opt(entered, "present", "实到人数")
    present = given if given is not None else present
    if present > total:
        raise ManualCountError(f"实到人数 {present} 多于应到人数 {total}")
    out: dict[str, Any] = {"method": method.value, "total": total, "present": present}
    issued = _opt(entered, "issued", "发出选票数")
    received = _opt(entered, "received", "收回选票数")
    void = _opt(entered, "void", "无效票数") or 0
    raw_totals = entered.get("totals")
    totals: dict[str, Any] = {}
    if kind == "motion":
        row = _option_row(raw_totals or {}, "")
        totals = row
        shown = row["yes"] + row["no"] + row["abstain"]
        if method is Method.SHOW_OF_HANDS:
            issued = present if issued is None else issued
            received = shown if received is None else received
        if received is not None and received != shown:
            raise ManualCountError(
                f"赞成、反对、弃权合计 {shown}，与收回选票（表决人数）{received} 不一致"
            )
        void = 0
    elif form == "C":
        ids = [str(p["id"]) for p in _people(entry)]
        ballots = []
        for n, b in enumerate(entered.get("ballots") or [], start=1):
            ranking = [str(x).strip() for x in (b if isinstance(b, list | tuple) else [b])]
            unknown = [x for x in ranking if x not in ids]
            if unknown:
                raise ManualCountError(f"第{n}张选票：没有序号为“{unknown[0]}”的候选项目")
            ballots.append([ids.index(x) for x in ranking])
        out["ballots"] = ballots
        received = len(ballots) if received is None else received
        if received != len(ballots):
            raise ManualCountError(f"录入了 {len(ballots)} 张选票，收回选票数为 {received}")
        void = 0
    else:
        people = _people(entry)
        if not isinstance(raw_totals, Mapping):
            raise ManualCountError("请填写每一项的票数")
        for p in people:
            pid, name = str(p["id"]), str(p.get("name") or p["id"])
            raw = raw_totals.get(pid)
            if kind == "projects" and form == "B":
                value = raw.get("yes") if isinstance(raw, Mapping) else raw
                totals[pid] = {"yes": _figure(0 if value in (None, "") else value, name + "赞成")}
            else:
                totals[pid] = _option_row(raw or {}, name)
        extra = set(map(str, raw_totals)) - {str(p["id"]) for p in people}
        if extra:
            raise ManualCountError(f"没有这一项：{sorted(extra)[0]}")
        if method is Method.SHOW_OF_HANDS:
            issued = present if issued is None else issued
            received = present if received is None else received
    if kind == "election" and entry.get("round") != "tie_revote":
        written = _write_ins(entered.get("write_ins") or {}, entry, roster or {})
        if written:
            out["write_in_totals"] = {k: v for k, (_n, v) in written.items()}
            out["names"] = {k: n for k, (n, _v) in written.items()}
            out["roster"] = sorted(roster or {}, key=int)
    if issued is None or received is None:
        raise ManualCountError("请填写发出选票数和收回选票数")
    if method is Method.SHOW_OF_HANDS and issued != present:
        raise ManualCountError(f"举手表决时表决人数（发出）应等于实到人数 {present}")
    if issued > present:
        raise ManualCountError(f"发出选票 {issued} 张，多于实到人数 {present}")
    if method is Method.SHOW_OF_HANDS and received > issued:
        raise ManualCountError(f"举手表决的人数 {received} 多于实到人数 {present}：请重新清点")
    if void > received:
        raise ManualCountError(f"无效票 {void} 张，多于收回选票 {received} 张")
    out.update(issued=issued, received=received)
    if totals:
        out["totals"] = totals
    if void:
        out["void"] = void
    return out


def _write_ins(
    raw: Mapping[str, Any], entry: Mapping[str, Any], roster: Mapping[str, str]
) -> dict[str, tuple[str, int]]:
    """Person id → (display name, votes): a seat number or a deputy's name becomes the
    deputy's roster number; any other name stands for itself."""
    by_name: dict[str, list[str]] = {}
    for number, name in roster.items():
        by_name.setdefault(name, []).append(number)
    listed = {str(c.get("name")) for c in _people(entry)}
    out: dict[str, tuple[str, int]] = {}
    for key, value in raw.items():
        who = str(key).strip()
        if not who:
            continue
        votes = _figure(value, f"另选的“{who}”的票数")
        if who in listed:
            raise ManualCountError(f"“{who}”是正式候选人，不能作为另选他人录入")
        if who.isascii() and who.isdigit():
            pid, name = str(int(who)), roster.get(str(int(who)), who)
        elif len(by_name.get(who, [])) == 1:
            pid, name = by_name[who][0], who
        else:
            pid, name = who, who
        if pid in out:
            raise ManualCountError(f"另选的“{name}”录入了两次")
        out[pid] = (name, votes)
    return out


def counts_document(entry: Mapping[str, Any], counts: Mapping[str, Any]) -> dict[str, Any]:
    """The COUNTS document (tally/rules/counts.py) of a manual count."""
    doc: dict[str, Any] = {
        "poll": entry["id"],
        "total": counts["total"],
        "present": counts["present"],
        "issued": counts["issued"],
        "returned": counts["received"],
    }
    for key in ("totals", "ballots", "void", "write_in_totals", "names", "roster"):
        if key in counts:
            doc[key] = counts[key]
    if "ballots" not in doc and "totals" not in doc:
        doc["totals"] = {}
    return doc


def evaluate_manual(
    rules: dict[str, Any],
    counts: Mapping[str, Any],
    template: dict[str, Any] | None = None,
    *,
    session: str | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """The rules engine's outcome of a manual count, as :func:`tally.poll_outcome.evaluate_poll`
    gives it for an electronic one (the follow-up drafts need the poll's ``template``)."""
    import json

    from tally.poll_counts import rules_document
    from tally.poll_outcome import FOLLOWUPS, followups
    from tally.rules.counts import parse_counts
    from tally.rules.loader import load_rules
    from tally.rules.outcome import evaluate
    from tally.rules.serialize import to_data

    doc, entry = rules_document(rules, dict(counts), session)
    outcome = evaluate(load_rules(doc), parse_counts(counts_document(entry, counts)))
    data: dict[str, Any] = json.loads(json.dumps(to_data(outcome), ensure_ascii=False))
    data[FOLLOWUPS] = followups(entry, template, outcome, title) if template else []
    return data


def manual_report(
    *, session: str, poll_id: str, counts: Mapping[str, Any], outcome: Any
) -> dict[str, Any]:
    """The count report the scrutineers sign for a manual count (tally.report_signatures)."""
    return {
        "kind": REPORT_KIND,
        "session": session,
        "poll_id": poll_id,
        "uuid": None,
        "result_hash": None,
        "method": str(counts.get("method")),
        "counts": dict(counts),
        "outcome": outcome,
    }


def report_fingerprint(text: str) -> str:
    """What stands for a manual poll's record on paper and screens: SHA-256 of the signed
    count report text (there is no archive)."""
    return sha256_hex(text)


def _check_figures(counts: Mapping[str, Any], where: str) -> Method:
    method = method_of(counts)
    if method is None:
        raise RecordError(f"{where}: the counts name no manual method (show_of_hands or paper)")
    try:
        total, present = int(counts["total"]), int(counts["present"])
        issued, received = int(counts["issued"]), int(counts["received"])
    except (KeyError, TypeError, ValueError):
        raise RecordError(
            f"{where}: the manual counts lack total, present, issued or received"
        ) from None
    # on paper, more ballots returned than issued is a fact the rules declare void (§4.4)
    if not (issued <= present <= total and (received <= issued or method is Method.PAPER)):
        raise RecordError(
            f"{where}: the manual counts are not consistent (received {received} ≤ issued "
            f"{issued} ≤ present {present} ≤ total {total})"
        )
    if method is Method.SHOW_OF_HANDS and issued != present:
        raise RecordError(f"{where}: a show of hands must count every deputy present as issued")
    return method


def _strip(outcome: Any) -> Any:
    from tally.poll_outcome import FOLLOWUPS

    if isinstance(outcome, dict):
        return {k: v for k, v in outcome.items() if k != FOLLOWUPS}
    return outcome


def check_manual_report(report: Mapping[str, Any], rules: Any, *, session: str | None) -> Method:
    """What a scrutineer's tool checks before it signs a manual count report: it is this
    session's, a manual count (no uuid, no result), its figures hold together, a show of hands
    is not used for a secret ballot, and its outcome is what the rules engine gives for its
    counts. RecordError naming the first thing it cannot confirm."""
    if report.get("session") != session:
        raise RecordError("the count report names another session")
    if report.get("uuid") is not None or report.get("result_hash") is not None:
        raise RecordError("a manual count report names an archive or a result")
    counts = report.get("counts")
    if not isinstance(counts, Mapping):
        raise RecordError("the count report has no counts")
    method = _check_figures(counts, "the count report")
    if report.get("method") != method.value:
        raise RecordError("the count report's method is not its counts' method")
    if not isinstance(rules, dict):
        raise RecordError("a manual count needs the poll's rules: there is nothing else to check")
    _doc, entry = _entry(rules, counts, report.get("session"))
    if method is Method.SHOW_OF_HANDS and entry.get("kind") in SECRET_KINDS:
        raise RecordError(f"a {entry.get('kind')} is a secret ballot: never a show of hands")
    try:
        mine = evaluate_manual(rules, counts, session=str(session))
    except Exception as exc:  # the rules engine refuses these figures
        raise RecordError(f"the rules engine refuses these counts: {exc}") from None
    if _strip(mine) != _strip(report.get("outcome")):
        raise RecordError(
            "the count report's outcome is not what the rules engine gives for these counts"
        )
    return method


def _entry(
    rules: dict[str, Any], counts: Mapping[str, Any], session: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    from tally.poll_counts import rules_document

    try:
        return rules_document(rules, dict(counts), str(session))
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordError(f"the poll's rules are malformed: {exc}") from None


def check_manual_poll(
    entry: Mapping[str, Any], session: Mapping[str, Any], group: Any
) -> tuple[str, str]:
    """The auditor's check of one manual poll of a record (an outcomes.json entry): no archive,
    the figures hold together and use the roster's total, the outcome is the rules engine's for
    them, the count report is the published one and k scrutineers' signatures of it check
    against the session's trustees. Returns (a line for the summary, a warning that the count
    cannot be verified cryptographically); RecordError otherwise."""
    name = f"poll {entry.get('poll_id')} ({entry.get('title')})"
    counts = entry.get("counts")
    if not isinstance(counts, Mapping):
        raise RecordError(f"{name}: no counts are published")
    method = _check_figures(counts, name)
    if entry.get("uuid") is not None or entry.get("archive") is not None:
        raise RecordError(f"{name}: a manual count has no election and no archive")
    if counts.get("total") != session.get("total"):
        raise RecordError(f"{name}: the total {counts.get('total')!r} is not the roster's")
    if "roster" in counts and list(counts["roster"]) != list(session.get("roster") or []):
        raise RecordError(f"{name}: the roster of the write-ins is not the session's")
    rules = entry.get("rules")
    report = entry.get("report")
    if not isinstance(report, Mapping) or not isinstance(report.get("text"), str):
        raise RecordError(f"{name}: a manual count must have its count report")
    parsed = parse_report_text(report["text"])
    for field in ("poll_id", "counts", "outcome"):
        if parsed.get(field) != entry.get(field):
            raise RecordError(f"{name}: the count report's {field} is not the record's")
    try:
        check_manual_report(parsed, rules, session=str(session.get("session")))
    except RecordError as exc:
        raise RecordError(f"{name}: {exc}") from None
    trustees = session.get("trustees")
    signatures = report.get("signatures")
    if not isinstance(signatures, Sequence):
        raise RecordError(f"{name}: the count report has no list of signatures")
    if isinstance(trustees, str):
        try:
            signers, needed = check_report_signatures(group, trustees, report["text"], signatures)
        except RecordError as exc:
            raise RecordError(f"{name}: {exc}") from None
    elif signatures:
        raise RecordError(f"{name}: signatures, but the session has no scrutineers' key")
    else:
        signers, needed = [], 0
    if report.get("needed") != needed:
        raise RecordError(f"{name}: the count report says {report.get('needed')!r} signatures")
    if len(signers) < needed and entry.get("state") != "void":
        raise RecordError(
            f"{name}: only {len(signers)} of the {needed} scrutineers' signatures needed are "
            "in: the count report is not confirmed"
        )
    label = METHOD_NAMES[method]
    line = (
        f"{entry.get('poll_id')}: {label} ({method.value}), outcome re-evaluated, "
        f"{len(signers)} of {needed} signature(s) check"
    )
    warning = (
        f"{name} was counted by hand ({label}, {method.value}): a manual count that cannot be "
        "verified cryptographically — its figures are as the secretariat entered them and "
        f"{len(signers)} scrutineer(s) signed them; only the outcome was re-evaluated"
    )
    return line, warning


def check_unarchived(
    polls: Sequence[Mapping[str, Any]], session: Mapping[str, Any], group: Any
) -> tuple[list[str], list[str]]:
    """Every poll of the record without an archive: a manual count is checked
    (:func:`check_manual_poll`); any other one with counts is refused (a poll counted by the
    devices is verified from its archive, never taken on trust). Returns (lines, warnings)."""
    lines: list[str] = []
    warnings: list[str] = []
    for entry in polls:
        if entry.get("archive") is not None:
            continue
        if method_of(entry.get("counts")) is None:
            if entry.get("counts") is not None or entry.get("outcome") is not None:
                raise RecordError(
                    f"poll {entry.get('poll_id')} ({entry.get('title')}) has counts but neither "
                    "an archive nor a manual method"
                )
            continue
        line, warning = check_manual_poll(entry, session, group)
        lines.append(line)
        warnings.append(warning)
    return lines, warnings
