"""Livelihood-project votes (民生实事项目票决), forms A, B and C (reference §6).

- Form A: per project 赞成 / 反对 / 弃权 (totals).
- Form B: choose up to N (totals of approvals, or individual ballots: the chosen project
  indices); a ballot choosing more than N, or one project twice, is void (by analogy with
  选举法 第四十四条第二款, [INFERENCE]).
- Form C: ranking (individual ballots: project indices, most wanted first); a project ranked
  within the first N places counts one 赞成; with ``ranking_method: borda`` the order is by
  points (K − position, K projects) while the floor stays on 赞成.

Selection: a project must clear the floor (赞成 from more than half of all deputies, setting
``project_majority_floor``; otherwise at least one 赞成) and rank within the top N. Fewer than
N clear it: the places stay empty and the 主席团 decides. A tie across the cut-off: a re-vote
among the tied, or referral to the 主席团 (``project_tie``). Never broken silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from tally.rules.allocation import allocate
from tally.rules.counts import Counts, OptionTotals, totals_by_id
from tally.rules.errors import RulesError
from tally.rules.model import (
    ProjectForm,
    ProjectPoll,
    ProjectTie,
    RankingMethod,
    Round,
    TieThreshold,
)
from tally.rules.quorum import is_majority
from tally.rules.result import (
    ItemResult,
    ItemStatus,
    NextKind,
    NextPoll,
    tie_revote,
)

VOTE_RULES = "票决办法"


def check_project_poll(poll: ProjectPoll) -> None:
    """Consistency of a project list with N and the 差额 flag (from the 票决办法)."""
    k = len(poll.projects)
    where = f"project vote {poll.id!r}"
    if poll.select is None:
        if poll.form is not ProjectForm.A or poll.round is Round.TIE_REVOTE:
            raise RulesError(f"{where}: forms B and C and re-votes need 'select' (N)")
        if poll.competitive:
            raise RulesError(f"{where}: a 差额 vote needs 'select' (N)")
        return
    if poll.select > k:
        raise RulesError(f"{where}: selects {poll.select} of only {k} projects")
    if (poll.competitive or poll.round is Round.TIE_REVOTE) and k <= poll.select:
        raise RulesError(
            f"{where}: a 差额 vote needs more candidate projects than places "
            f"({k} for {poll.select}; {VOTE_RULES})"
        )


@dataclass(frozen=True)
class ProjectTally:
    totals: tuple[OptionTotals, ...]
    points: tuple[int, ...] | None
    valid: int
    void: int
    void_reasons: tuple[tuple[str, int], ...]


def _from_ballots(poll: ProjectPoll, counts: Counts) -> ProjectTally:
    k = len(poll.projects)
    n = poll.select or k
    ballots = counts.ballots or ()
    if len(ballots) != counts.returned:
        raise RulesError(f"COUNTS: {len(ballots)} ballots given but {counts.returned} returned")
    yes = [0] * k
    points = [0] * k
    void = overvote = duplicate = 0
    for b in ballots:
        if not isinstance(b, tuple):
            raise RulesError(f"COUNTS for {poll.id!r}: project ballots are lists of indices")
        if any(not 0 <= i < k for i in b):
            raise RulesError(f"COUNTS for {poll.id!r}: a ballot names a project index ≥ {k}")
        if len(set(b)) != len(b):
            void += 1
            duplicate += 1
            continue
        if poll.form is ProjectForm.B and len(b) > n:
            void += 1
            overvote += 1
            continue
        for pos, i in enumerate(b):
            if poll.form is ProjectForm.B or pos < n:
                yes[i] += 1
            points[i] += k - pos
    reasons = tuple((r, c) for r, c in (("duplicate", duplicate), ("overvote", overvote)) if c)
    totals = tuple(OptionTotals(yes=y) for y in yes)
    pts = tuple(points) if poll.form is ProjectForm.C else None
    return ProjectTally(totals, pts, counts.returned - void, void, reasons)


def tally_projects(poll: ProjectPoll, counts: Counts) -> ProjectTally:
    if counts.ballots is not None:
        if poll.form is ProjectForm.A:
            raise RulesError(f"COUNTS for {poll.id!r}: form A takes totals, not ballots")
        return _from_ballots(poll, counts)
    if poll.form is ProjectForm.C:
        raise RulesError(f"COUNTS for {poll.id!r}: form C (ranking) needs individual ballots")
    ids = [p.id for p in poll.projects]
    totals = totals_by_id(counts.totals or {}, ids)
    if totals is None:
        raise RulesError(f"COUNTS for {poll.id!r}: totals must list exactly the projects")
    if counts.void > counts.returned:
        raise RulesError("COUNTS: more void ballots than ballots returned")
    valid = counts.returned - counts.void
    for i in ids:
        if totals[i].cast > valid:
            raise RulesError(f"COUNTS: project {i} has {totals[i].cast} marks on {valid} ballots")
    if poll.form is ProjectForm.B and sum(totals[i].yes for i in ids) > valid * (poll.select or 0):
        raise RulesError("COUNTS: more approvals than N per valid ballot allows")
    return ProjectTally(tuple(totals[i] for i in ids), None, valid, counts.void, ())


@dataclass(frozen=True)
class ProjectResult:
    tally: ProjectTally
    items: tuple[ItemResult, ...]
    next_polls: tuple[NextPoll, ...]
    notes: tuple[str, ...]


def _floor(poll: ProjectPoll, total: int) -> tuple[str, Callable[[int], bool]]:
    majority = poll.settings.project_majority_floor
    if poll.round is Round.TIE_REVOTE:
        majority = poll.settings.tie_revote_threshold is TieThreshold.MAJORITY
    if majority:
        return ("赞成 from more than half of all deputies", lambda v: is_majority(v, total))
    return ("at least one 赞成", lambda v: v >= 1)


def decide_projects(poll: ProjectPoll, counts: Counts, total: int) -> ProjectResult:
    tally = tally_projects(poll, counts)
    label, floor = _floor(poll, total)
    use_points = tally.points is not None and poll.settings.ranking_method is RankingMethod.BORDA
    keys = tally.points if use_points and tally.points is not None else None
    cleared = [i for i, t in enumerate(tally.totals) if floor(t.yes)]
    scores = [
        (poll.projects[i].id, keys[i] if keys is not None else tally.totals[i].yes) for i in cleared
    ]
    places = poll.select if poll.select is not None else max(len(scores), 1)
    alloc = allocate(places, scores, lambda _v: True)
    status = {pid: ItemStatus.SELECTED for pid in alloc.elected}
    status.update({pid: ItemStatus.TIED for pid in alloc.tied})
    items = tuple(
        ItemResult(
            id=p.id,
            name=p.name,
            yes=t.yes,
            no=t.no,
            abstain=t.abstain,
            unmarked=t.unmarked,
            points=tally.points[i] if tally.points is not None else None,
            qualified=i in cleared,
            status=status.get(p.id, ItemStatus.NOT_SELECTED),
        )
        for i, (p, t) in enumerate(zip(poll.projects, tally.totals, strict=True))
    )
    nxt: list[NextPoll] = []
    if alloc.tied:
        reason = f"{len(alloc.tied)}个项目赞成票数相等，不能确定最后{alloc.tie_seats}个入选名额"
        if poll.settings.project_tie is ProjectTie.REVOTE:
            spec = replace(
                poll,
                id=f"{poll.id}-revote",
                title=f"{poll.title}（再次投票）",
                projects=tuple(p for p in poll.projects if p.id in alloc.tied),
                select=alloc.tie_seats,
                competitive=False,
                round=Round.TIE_REVOTE,
                parent=poll.id,
            )
            nxt.append(tie_revote(reason, alloc.tied, alloc.tie_seats, spec))
        else:
            nxt.append(
                NextPoll(
                    kind=NextKind.PRESIDIUM,
                    reason=reason,
                    seats=alloc.tie_seats,
                    spec=None,
                    candidates=alloc.tied,
                )
            )
    if poll.select is not None and alloc.unfilled:
        nxt.append(
            NextPoll(
                kind=NextKind.PRESIDIUM,
                reason=(
                    f"达到赞成票要求的项目少于应选数，空缺{alloc.unfilled}项，不自动递补，"
                    "提请主席团决定"
                ),
                seats=alloc.unfilled,
                spec=None,
            )
        )
    order = "points (borda)" if keys is not None else "赞成"
    notes = (f"floor: {label}", f"order: {order}")
    return ProjectResult(tally, items, tuple(nxt), notes)
