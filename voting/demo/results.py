"""The demo's result tables and its check of the record (``renda verify``, ``belenios-tool``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "") -> str:
    """A plain-text table that lines up Chinese (double-width) characters."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        all(r[i].lstrip("-").isdigit() for r in cells[1:]) and len(cells) > 1
        for i in range(len(headers))
    ]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [title] if title else []
    out.append(line)
    for k, row in enumerate(cells):
        out.append(
            "| "
            + " | ".join(_pad(c, widths[i], numeric[i] and k > 0) for i, c in enumerate(row))
            + " |"
        )
        if k == 0:
            out.append(line)
    out.append(line)
    return "\n".join(out)


@dataclass
class PollReport:
    poll_id: str
    title: str
    kind: str
    data: dict[str, Any]
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)


# -- result tables ------------------------------------------------------------------------------

STATUS = {
    "passed": "通过",
    "not_passed": "未通过",
    "elected": "当选",
    "not_elected": "未当选",
    "tied": "票数相等，再次投票",
    "selected": "入选",
    "not_selected": "未入选",
    "none": "—",
}


def outcome_items(outcome: Any) -> list[dict[str, Any]]:
    if isinstance(outcome, dict) and isinstance(outcome.get("items"), list):
        return [i for i in outcome["items"] if isinstance(i, dict)]
    return []


def _counts(report: PollReport, template: dict[str, Any]) -> list[list[int]]:
    """Per question, the decrypted Belenios counts (blank flag removed)."""
    result = report.data.get("result")
    rows = result.get("result") if isinstance(result, dict) else result
    if not isinstance(rows, list):
        return []
    out: list[list[int]] = []
    for q, row in zip(template["questions"], rows, strict=False):
        if "type" in q:  # a non-homomorphic question: decrypted ballots, not counts
            out.append([])
            continue
        values = [int(x) for x in row]
        out.append(values[1:] if q.get("blank") else values)
    return out


def render_result(report: PollReport, template: dict[str, Any], expected: int | None = None) -> str:
    """The poll's result as the hall's screen shows it, with the rules engine's verdicts."""
    d = report.data
    outcome = d.get("outcome") or {}
    items = outcome_items(outcome)
    counts = _counts(report, template)
    raw_figures = d.get("counts")
    figures: dict[str, Any] = raw_figures if isinstance(raw_figures, dict) else {}
    total = expected if expected is not None else figures.get("total", "")
    present = outcome.get("present", figures.get("present", ""))
    issued = outcome.get("issued", figures.get("issued", d.get("issued", "")))
    returned = outcome.get("returned", figures.get("received", d.get("received", "")))
    unpressed = (
        int(issued) - int(returned) if str(issued).isdigit() and str(returned).isdigit() else ""
    )
    head = ["应到", "实到", "发出", "收回", "未按"]
    base = [total, present, issued, returned, unpressed]
    verdict = outcome.get("verdict")
    lines = []
    title = f"【{report.title}】 结果 (result)"
    if verdict and verdict != "valid":
        title += f" — 本次表决无效 ({verdict})"
    if isinstance(outcome, dict) and outcome.get("error"):
        title += f" — 规则引擎未给出结论 (rules engine: {outcome['error']})"
    if report.kind == "motion":
        my, mn, ma = ([*counts[0], 0, 0, 0] if counts else ["", "", ""])[:3]
        verdict_label = STATUS.get(str(items[0].get("status")), "") if items else ""
        lines.append(
            table(
                [*head, "赞成", "反对", "弃权", "结果"],
                [[*base, my, mn, ma, verdict_label]],
                title=title,
            )
        )
    elif report.kind == "projects":
        lines.append(table(head, [base], title=title))
        names = template["questions"][0]["answers"]
        chosen: list[Any] = list(counts[0]) if counts else [""] * len(names)
        labels = {str(i.get("name")): STATUS.get(str(i.get("status")), "") for i in items}
        rows = sorted(
            ([n, y, labels.get(n, "")] for n, y in zip(names, chosen, strict=False)),
            key=lambda r: -int(r[1]) if str(r[1]).isdigit() else 0,
        )
        lines.append(
            table(["名次", "候选项目", "赞成", "结果"], [[k, *r] for k, r in enumerate(rows, 1)])
        )
    elif items:  # an election (ballot by ballot) or per-person votes: the engine's counts
        valid, void = outcome.get("valid_ballots", ""), outcome.get("void_ballots", "")
        lines.append(table([*head, "有效", "无效"], [[*base, valid, void]], title=title))
        rows = [
            [
                str(i.get("name") or i.get("id")) + ("（另选）" if i.get("write_in") else ""),
                i.get("yes", 0),
                i.get("no", 0),
                i.get("abstain", 0),
                STATUS.get(str(i.get("status")), ""),
            ]
            for i in items
        ]
        lines.append(table(["候选人", "赞成", "反对", "弃权", "结果"], rows))
    else:
        lines.append(table(head, [base], title=title))
        rows = []
        for q, c in zip(template["questions"], counts or [[]] * 99, strict=False):
            cy, cn, ca = ([*c, "", "", ""])[:3]
            rows.append([q.get("question", ""), cy, cn, ca, ""])
        lines.append(table(["候选人", "赞成", "反对", "弃权", "结果"], rows))
    nxt = outcome.get("next_polls") if isinstance(outcome, dict) else None
    if nxt:
        for n in nxt:
            if isinstance(n, dict):
                lines.append(f"   下一步 (next): {n.get('kind')} — {n.get('reason', '')}")
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in report.phases.items())
    lines.append(f"   ({report.seconds:.1f} s from opening to the published result: {steps})")
    return "\n".join(lines)


# -- verification ---------------------------------------------------------------------------------


def verify_record(
    folders: Sequence[Path], say: Callable[[str], None], record: Path | None = None
) -> bool:
    """``renda verify`` on every poll's archive, and ``belenios-tool election verify``; with
    ``record``, ``renda verify`` on the whole session record too (its last row).

    All are single-process here and run two at a time (one per core)."""
    tool = shutil.which("belenios-tool")
    env = dict(os.environ, BELENIOS_USE_URANDOM="1")
    jobs: list[tuple[Path, str, list[str]]] = []
    for folder in folders:
        jobs.append(
            (
                folder,
                "renda verify",
                [sys.executable, "-m", "voting.cli", "verify", "--quiet", "--workers", "1",
                 str(folder)],
            )
        )  # fmt: skip
        if tool:
            jobs.append(
                (folder, "belenios-tool", [tool, "election", "verify", "--dir", str(folder)])
            )
    if record is not None:
        cmd = [sys.executable, "-m", "voting.cli", "verify", "--quiet", "--workers", "1"]
        jobs.append((record, "renda verify", [*cmd, str(record)]))

    def one(job: tuple[Path, str, list[str]]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(job[2], capture_output=True, text=True, check=False, env=env)

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(one, jobs))
    verdicts: dict[tuple[str, str], bool] = {}
    for (folder, name, _cmd), r in zip(jobs, done, strict=True):
        verdicts[(folder.name, name)] = r.returncode == 0
        if r.returncode != 0:
            say(f"{name} {folder.name}: {(r.stdout + r.stderr).strip()[-800:]}")
    rows = []
    for folder in [*folders, *([record] if record is not None else [])]:
        cells = [folder.name if folder is not record else f"{folder.name} (会议记录 session)"]
        for name in ("renda verify", "belenios-tool"):
            v = verdicts.get((folder.name, name))
            if folder is record and name == "belenios-tool":
                cells.append("—")
                continue
            cells.append(
                "未安装 (not installed)" if v is None else "通过 (ok)" if v else "失败 (FAILED)"
            )
        rows.append(cells)
    say(table(["记录 (record)", "renda verify", "belenios-tool"], rows, title="记录核验"))
    return all(verdicts.values()) and any(k[1] == "renda verify" for k in verdicts)
