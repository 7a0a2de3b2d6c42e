"""Quorum and majority arithmetic, in integers only (民法典 第一千二百五十九条: 以上 includes).

- quorum (法定人数): ``present * 3 >= total * 2`` (地方组织法 第十四条第四款);
- majority of all deputies (全体代表过半数): ``yes * 2 > total`` (地方组织法 第二十五条);
  exactly half is never a majority.
"""

from __future__ import annotations

QUORUM_ARTICLE = "地方组织法 第十四条第四款"
MAJORITY_ARTICLE = "地方组织法 第二十五条"


def has_quorum(total: int, present: int) -> bool:
    """Two thirds or more of the seated deputies are present (exact two thirds included)."""
    return present * 3 >= total * 2


def quorum_minimum(total: int) -> int:
    """Smallest number present that makes a quorum: ceil(2 * total / 3)."""
    return -((-2 * total) // 3)


def more_than_two_thirds(total: int, count: int) -> bool:
    """Strictly more than two thirds ("超过三分之二", a stricter local wording)."""
    return count * 3 > total * 2


def is_majority(count: int, total: int) -> bool:
    """More than half of ``total`` (过半数): exactly half is not a majority."""
    return count * 2 > total


def majority_minimum(total: int) -> int:
    """Smallest count that is a majority of ``total``: total // 2 + 1."""
    return total // 2 + 1
