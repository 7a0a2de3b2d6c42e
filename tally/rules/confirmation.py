"""Confirmation votes (表决票, 表决通过人选): per person 赞成 / 反对 / 弃权, no write-ins;
each person passes with 赞成 from more than half of all deputies (reference §5.4)."""

from __future__ import annotations

from tally.rules.counts import Counts, totals_by_id
from tally.rules.errors import RulesError
from tally.rules.model import ConfirmationPoll, Person, RemovalPoll
from tally.rules.quorum import is_majority
from tally.rules.result import ItemResult, ItemStatus


def per_person(
    poll: ConfirmationPoll | RemovalPoll, counts: Counts, total: int
) -> tuple[ItemResult, ...]:
    """Each person: 赞成 × 2 > all deputies ⇒ PASSED (confirmed, or removed)."""
    if counts.totals is None:
        raise RulesError(f"COUNTS for {poll.id!r}: totals per person are required")
    ids = [p.id for p in poll.persons]
    totals = totals_by_id(counts.totals, ids)
    if totals is None:
        raise RulesError(
            f"COUNTS for {poll.id!r}: totals must list exactly the persons {', '.join(ids)}"
        )
    items = []
    for person in poll.persons:
        t = totals[person.id]
        if t.cast > counts.returned:
            raise RulesError(
                f"COUNTS: {person.id} has {t.cast} marks on {counts.returned} ballots returned"
            )
        ok = is_majority(t.yes, total)
        items.append(_item(person, t.yes, t.no, t.abstain, t.unmarked, ok))
    return tuple(items)


def _item(person: Person, yes: int, no: int, abstain: int, unmarked: int, ok: bool) -> ItemResult:
    return ItemResult(
        id=person.id,
        name=person.name,
        yes=yes,
        no=no,
        abstain=abstain,
        unmarked=unmarked,
        qualified=ok,
        status=ItemStatus.PASSED if ok else ItemStatus.NOT_PASSED,
    )


def decide_confirmation(
    poll: ConfirmationPoll, counts: Counts, total: int
) -> tuple[ItemResult, ...]:
    return per_person(poll, counts, total)
