"""Seats (or project places) by votes: threshold, most votes first, ties never broken.

地方组织法 第二十九条: more qualifiers than seats ⇒ the most votes win; a tie that prevents
deciding who wins ⇒ a re-vote among the tied; fewer qualifiers than seats ⇒ the rest are left
for another vote. This module does only that arithmetic, for elections and project lists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Allocation:
    qualified: tuple[str, ...]  # passed the threshold, most votes first
    elected: tuple[str, ...]  # sure of a seat
    tied: tuple[str, ...]  # tied across the last seat(s): re-vote among them
    tie_seats: int  # seats the tied compete for
    unfilled: int  # seats left with nobody qualified


def rank(scores: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """Most votes first; equal votes keep their list order (display only, never decisive)."""
    return sorted(scores, key=lambda s: -s[1])


def allocate(
    seats: int, scores: Sequence[tuple[str, int]], qualifies: Callable[[int], bool]
) -> Allocation:
    """Fill ``seats`` from ``scores`` (id, votes): only those who qualify, most votes first.

    When the last seat falls inside a group with equal votes, nobody of that group is elected
    and the group is returned as ``tied`` with the seats it competes for.
    """
    if seats < 1:
        raise ValueError("seats must be at least 1")
    qualified = [s for s in rank(scores) if qualifies(s[1])]
    ids = tuple(s[0] for s in qualified)
    if len(qualified) <= seats:
        return Allocation(ids, ids, (), 0, seats - len(qualified))
    cut = qualified[seats - 1][1]
    above = tuple(i for i, v in qualified if v > cut)
    at = tuple(i for i, v in qualified if v == cut)
    if len(above) + len(at) <= seats:
        return Allocation(ids, above + at, (), 0, seats - len(above) - len(at))
    return Allocation(ids, above, at, seats - len(above), 0)
