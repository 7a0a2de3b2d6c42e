"""Small elections in the TEST_256 group for fast ballot tests."""

from __future__ import annotations

from typing import Any

from gmpy2 import mpz

from keys.group import TEST_256
from tally.election import Election, make_election

UUID = "TestUuid1234567"

TEMPLATE: dict[str, Any] = {
    "description": "关于《决议草案》的表决",
    "name": "第一次会议",
    "questions": [
        {"answers": ["赞成", "反对"], "blank": True, "min": 1, "max": 1, "question": "是否通过？"},
        {"answers": [f"候选人{i}" for i in range(12)], "min": 0, "max": 10, "question": "选举"},
        {"answers": ["A", "B", "C"], "min": 1, "max": 2, "question": "Q3"},
        {
            "type": "NonHomomorphic",
            "value": {"answers": ["甲", "乙", "丙"], "question": "排序"},
        },
    ],
}

SECRET_KEY = mpz(123456789123456789)


def small_election(template: dict[str, Any] | None = None) -> Election:
    return make_election(
        template or TEMPLATE, uuid=UUID, group=TEST_256, public_key=TEST_256.g_pow(SECRET_KEY)
    )


VALID_VOTE = [[0, 1, 0], [1] * 10 + [0, 0], [1, 0, 1], [3, 0, 255]]
