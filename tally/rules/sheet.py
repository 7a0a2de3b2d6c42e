"""One ballot for several posts (一次投票，分别计算, reference §4.3).

A session's 选举办法 may put several elections on one ballot paper (for example 镇长 and
副镇长): each election names the same ``ballot`` in the rules. The ballots are still counted
post by post: each post is evaluated on its own with :func:`tally.rules.outcome.evaluate`,
from its own section of each ballot. What an overfilled section (more 赞成 and write-ins than
that post's seats, 选举法 第四十四条第二款) voids is a setting of the 选举办法,
``overfilled_section``: ``section`` (the default; only that section is void, the others count,
as ballot-reading practice voids "only the section that is overfilled") or ``sheet`` (the whole
ballot is void for every post on it, reason ``sheet_void``).

SHEET COUNTS (JSON or YAML)::

    sheet: ID                 # the ``ballot`` the elections name
    total: 45                 # 实有代表数 (default: session.total_deputies)
    present: 45               # 实到
    issued: 45                # ballot papers issued
    returned: 45              # ballot papers returned
    ballots:                  # one per returned paper, a section per post (by poll id)
      - {mayor: {marks: [yes, no]}, vice: {marks: [yes, yes, no, no], write_ins: []}}
    roster: [...]             # as in a poll's COUNTS
    names: {...}
    signatories: {...}

Pure code; the only I/O is the caller's reading of the document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from tally.rules.ballots import ElectionBallot, VoidReason, read_ballot
from tally.rules.counts import Counts, parse_counts
from tally.rules.errors import RulesError
from tally.rules.model import ElectionPoll, OverfilledSection, SessionRules
from tally.rules.outcome import evaluate
from tally.rules.result import Outcome

SHEET_KEYS = {"sheet", "total", "present", "issued", "returned", "ballots", "roster", "names",
              "signatories"}  # fmt: skip


def sheet_polls(rules: SessionRules, sheet: str) -> tuple[ElectionPoll, ...]:
    """The elections on ballot paper ``sheet``, in the rules' order."""
    posts = tuple(p for p in rules.polls if isinstance(p, ElectionPoll) and p.ballot == sheet)
    if not posts:
        raise RulesError(f"the rules put no election on ballot {sheet!r}")
    return posts


def is_sheet_counts(data: object) -> bool:
    return isinstance(data, Mapping) and "sheet" in data


def evaluate_sheet(rules: SessionRules, data: object) -> tuple[Outcome, ...]:
    """Count a ballot paper for several posts, post by post: one outcome per election."""
    if not isinstance(data, Mapping) or not isinstance(data.get("sheet"), str):
        raise RulesError("SHEET COUNTS: 'sheet' (the ballot paper's id) is required")
    unknown = set(data) - SHEET_KEYS
    if unknown:
        raise RulesError(f"SHEET COUNTS: unknown key(s) {', '.join(sorted(unknown))}")
    posts = sheet_polls(rules, data["sheet"])
    raw = data.get("ballots")
    if not isinstance(raw, list):
        raise RulesError("SHEET COUNTS ballots: expected a list, one entry per ballot paper")
    ids = [p.id for p in posts]
    common = {k: v for k, v in data.items() if k not in ("sheet", "ballots")}
    per_post: dict[str, list[Any]] = {pid: [] for pid in ids}
    for n, paper in enumerate(raw):
        if not isinstance(paper, Mapping) or set(paper) != set(ids):
            raise RulesError(
                f"SHEET COUNTS ballots[{n}]: expected one section per post ({', '.join(ids)})"
            )
        for pid in ids:
            per_post[pid].append(paper[pid])
    # each post's COUNTS, parsed as a poll's (the same checks, the same plain messages)
    counts = {pid: parse_counts({"poll": pid, **common, "ballots": per_post[pid]}) for pid in ids}
    overfilled = _overfilled(posts, counts)
    outcomes = []
    for post in posts:
        c = counts[post.id]
        if post.settings.overfilled_section is OverfilledSection.SHEET:
            c = _void_with_sheet(c, post.id, overfilled)
        outcomes.append(evaluate(rules, c))
    return tuple(outcomes)


def _overfilled(posts: tuple[ElectionPoll, ...], counts: dict[str, Counts]) -> list[set[str]]:
    """For each ballot paper, the posts whose section is overfilled."""
    n = len(next(iter(counts.values())).ballots or ())
    out: list[set[str]] = [set() for _ in range(n)]
    for post in posts:
        c = counts[post.id]
        for i, ballot in enumerate(c.ballots or ()):
            assert isinstance(ballot, ElectionBallot)
            if ballot.problems or len(ballot.marks) != len(post.candidates):
                continue  # malformed: the post's own evaluation says so
            if VoidReason.OVERVOTE in read_ballot(post, ballot, c.roster).reasons:
                out[i].add(post.id)
    return out


def _void_with_sheet(c: Counts, post: str, overfilled: list[set[str]]) -> Counts:
    """The post's ballots with those voided by another post's overfilled section."""
    ballots = tuple(
        replace(b, sheet_void=True)
        if isinstance(b, ElectionBallot) and overfilled[i] - {post}
        else b
        for i, b in enumerate(c.ballots or ())
    )
    return replace(c, ballots=ballots)
