"""``renda verify DIR|FILE.bel``: check a public record, print every check, exit 0 iff all pass.

DIR is a poll's folder (one ``.bel``) or a whole session record (it holds ``session.json``:
tally.session_record checks every archive, the issuance log, outcomes, statements and
signatures).

The output is Chinese first, with the English words after it (as the demo's tables are): each
check's line, then for a session record which polls were checked and which could not be and
why, then the verdict. A path that is not a record (missing, empty, or one file of a session
record) gets one plain line and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tally.record_files import (
    ISSUANCE_FILE,
    OUTCOMES_FILE,
    REPORT_FILE,
    RULES_FILE,
    SESSION_FILE,
)
from tally.session_record import is_session_record, verify_session
from tally.verify import Check, VerificationReport, verify_archive
from tally.verify_words import CHECKS_ZH, bilingual

HELP = "verify a Belenios archive (.bel), or a whole session record (a folder with session.json)"
DESCRIPTION = (
    "核验 (verify) a public record with no trust in the server: a poll's Belenios archive\n"
    "(a .bel file, or a folder holding one), or a whole session record (a folder with\n"
    "session.json). Every check is printed; the exit status is 0 only if all pass\n"
    "(验证通过 VERIFIED), 1 if the record is refused (拒绝 REFUSED), 2 if PATH is not a record."
)
EXAMPLES = """examples:
  renda verify renda-demo-record/                  # a whole session (after ./run.sh demo)
  renda verify renda-demo-record/polls/p1/         # one poll's archive
  renda verify --previous earlier/ renda-demo-record/polls/p1/   # nothing removed since
What to do after a refusal: docs/auditing.md ("After a refusal")."""

# status -> the mark before each check: Chinese, then the English word
_MARK = {
    "pass": "通过 ok  ",
    "fail": "失败 FAIL",
    "skip": "不适用 skip",
    "not run": "未查 ----",
}

# check name (tally.verify, tally.session_record) -> its Chinese label
LABELS: dict[str, str] = {
    **CHECKS_ZH,
    "the record's files": "记录的文件",
    "every poll's archive": "各表决的存档",
    "the session's trustees, signed by the scrutineers": "监票人签署的会议监票人名单",
    "the server's signed list of polls": "服务器签署的表决清单",
    "the server's signed poll setups (Merkle root of the credentials)": (
        "服务器签署的表决设置（凭证的 Merkle 根）"
    ),
    "issuance statements": "发出选票的签名声明",
    "published counts against the archives": "公布的票数与存档核对",
    "rules outcomes re-evaluated": "按表决规则重算结果",
    "the server's result statements": "服务器签署的结果声明",
    "the scrutineers' count report signatures": "监票人对计票结果报告单的签名",
    "linked polls": "关联的表决（重新投票、另行选举）",
}
_ARCHIVE_OF = "archive of "

# files a session record holds, besides the archives (tally.session_record's layout)
_RECORD_FILES = {SESSION_FILE, ISSUANCE_FILE, OUTCOMES_FILE, RULES_FILE, REPORT_FILE}


def label(name: str) -> str:
    """``中文 (English)`` for a check's name."""
    if name.startswith(_ARCHIVE_OF):
        return f"表决存档 ({name})"
    chinese = LABELS.get(name)
    return f"{chinese} ({name})" if chinese else name


def check_line(check: Check) -> str:
    line = f"[{_MARK.get(check.status, check.status)}] {label(check.name)}"
    if check.detail:
        line += f": {bilingual(check.detail) if check.failed else check.detail}"
    if check.status in ("pass", "fail") and check.seconds >= 0.05:
        line += f"  ({check.seconds:.2f} s)"
    return line


def archive_words(report: VerificationReport) -> str:
    """``存档 F（投票「name」，uuid U）：``: which poll's archive a refusal is about."""
    if not report.archive_file:
        return ""
    if not report.election_name:
        return f"存档 {report.archive_file}："
    return f"存档 {report.archive_file}（投票「{report.election_name}」，uuid {report.uuid}）："


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", metavar="DIR|FILE.bel", help="an archive, a folder with one, or a session record"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="processes checking ballot proofs (default 2)"
    )
    parser.add_argument("--quiet", action="store_true", help="print only the verdict")
    parser.add_argument(
        "--previous",
        metavar="DIR|FILE.bel",
        default=None,
        help="an earlier copy of the same record: check that nothing was removed since",
    )
    parser.add_argument(
        "--trackers",
        action="store_true",
        help="also print every ballot's tracker (跟踪号), grouped as the tablet shows it",
    )
    parser.add_argument("--test-group", action="store_true", help=argparse.SUPPRESS)


def print_trackers(path: str) -> None:
    """Each archive's ballots: position, tracker in groups of four (as the tablet shows it), the
    same hash in hex (as belenios-tool's compute-ballot-summary prints it), whether it counts."""
    from pathlib import Path

    from tally.archive import find_archive, read_archive
    from tally.box import box_entries, tracker_hex
    from tally.errors import RecordError
    from tally.tracker import group_tracker

    root = Path(path)
    if is_session_record(path):
        archives = sorted((root / "polls").glob("*/*.bel"))
    else:
        archives = [find_archive(path)]
    for archive_path in archives:
        name = (
            f"{archive_path.parent.name}/{archive_path.name}"
            if is_session_record(path)
            else (archive_path.name)
        )
        try:
            entries = box_entries(read_archive(archive_path))
        except RecordError as exc:
            print(f"trackers of {name}: cannot be read: {exc}")
            continue
        counted = sum(1 for e in entries if e.counted)
        print(f"trackers of {name}: {len(entries)} ballot(s), {counted} counted")
        for e in entries:
            note = "" if e.counted else "  (replaced by a later ballot of the same voter)"
            print(f"  {e.position:>5}  {group_tracker(e.tracker)}  {tracker_hex(e.tracker)}{note}")


def _record_of(path: Path) -> Path | None:
    """The session record that ``path`` (a file or folder) lies in, if any."""
    for parent in [path, *path.parents][:4]:
        if parent.is_dir() and is_session_record(parent):
            return parent
    return None


def not_a_record(path: Path) -> str | None:
    """One plain sentence when ``path`` cannot be a record, else None."""
    if not path.exists():
        return f"找不到 (not found): {path} — 没有这个文件或文件夹 (no such file or folder)"
    if path.is_dir():
        if is_session_record(path):
            return None
        entries = list(path.iterdir())
        if not entries:
            return f"文件夹是空的 (the folder is empty): {path}"
        if any(e.name.endswith(".bel") for e in entries):
            return None
        record = _record_of(path)
        hint = ""
        if record is not None:
            hint = f"; 您是要核验整个记录吗 (did you mean the record?) renda verify {record}"
        return (
            f"此文件夹没有存档，也没有 {SESSION_FILE} (this folder has no .bel archive and no "
            f"{SESSION_FILE}): {path}{hint}"
        )
    if path.name.endswith(".bel"):
        return None
    folder = path.parent
    record = _record_of(folder)
    if record is not None or path.name in _RECORD_FILES:
        target = record if record is not None else folder
        return (
            f"{path.name} 是记录中的一个文件 (is one file of a record)。您是要核验文件夹吗 "
            f"(did you mean the folder?) renda verify {target}"
        )
    return f"不是 Belenios 存档 (not a Belenios archive, which ends in .bel): {path}"


def _poll_name(entry: dict[str, Any]) -> str:
    return f"poll {entry.get('poll_id')} ({entry.get('title')})"


def poll_lines(root: Path, report: VerificationReport) -> list[str]:
    """Which polls of a session record were checked, and which could not be and why."""
    try:
        polls = json.loads((root / OUTCOMES_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(polls, list):
        return []
    archive_checks = {
        c.name[len(_ARCHIVE_OF) :]: c for c in report.checks if c.name.startswith(_ARCHIVE_OF)
    }
    refused = report.first_failure
    checked: list[str] = []
    unchecked: list[str] = []
    for entry in polls:
        if not isinstance(entry, dict):
            continue
        name = _poll_name(entry)
        check = archive_checks.get(name)
        if refused is not None and name in refused.detail:
            unchecked.append(f"  {name}: 被拒绝 (refused, see below)")
        elif entry.get("archive") is None:
            unchecked.append(
                f"  {name}: 没有存档 (no archive: the poll is {entry.get('state', 'not held')})"
            )
        elif check is None or check.status == "not run":
            unchecked.append(f"  {name}: 未查 (not checked: an earlier check failed)")
        elif check.status == "skip":
            unchecked.append(f"  {name}: 存档未查 (archive not checked: {check.detail})")
        elif refused is not None:
            unchecked.append(
                f"  {name}: 存档通过，其余未完成 (its archive verifies; the record "
                "as a whole is refused)"
            )
        else:
            checked.append(f"  {name}")
    lines = [f"已核验的表决 (polls checked): {len(checked)}", *checked]
    if unchecked:
        lines += [f"未能核验的表决 (polls not checked): {len(unchecked)}", *unchecked]
    return lines


def run(args: argparse.Namespace) -> int:
    path = Path(args.path)
    problem = not_a_record(path)
    if problem is not None:
        print(f"renda verify: {problem}", file=sys.stderr)
        return 2

    def show(check: Check) -> None:
        if not args.quiet:
            print(check_line(check), flush=True)

    session = path.is_dir() and is_session_record(path)
    if session:
        if args.previous is not None:
            print(
                "renda verify: --previous 只适用于一个存档 (applies to one archive, not a "
                "session record)",
                file=sys.stderr,
            )
            return 2
        report = verify_session(
            path, workers=max(1, args.workers), allow_test_group=args.test_group, on_check=show
        )
    else:
        report = verify_archive(
            path,
            workers=max(1, args.workers),
            allow_test_group=args.test_group,
            on_check=show,
            previous=args.previous,
        )
    for warning in report.warnings:
        print(f"注意 (warning): {warning}", file=sys.stderr)
    if session and not args.quiet:
        for line in poll_lines(path, report):
            print(line)
    if args.trackers:
        print_trackers(args.path)
    failure = report.first_failure
    if failure is None and report.ok:
        print("验证通过 (VERIFIED): 全部检查通过 (all checks passed)")
        return 0
    if failure is not None:
        where = "" if session else archive_words(report)
        print(f"拒绝 (REFUSED): {label(failure.name)}: {where}{bilingual(failure.detail)}")
    else:
        print("拒绝 (REFUSED): 并非每项检查都已完成 (not every check ran)")
    print(
        "请看 docs/auditing.md「After a refusal」: 先别公布, 告诉大会秘书处和总监票人 "
        "(do not publish; tell the secretariat and the chief scrutineer)"
    )
    return 1
