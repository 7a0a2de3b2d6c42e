"""The tracker in readable groups and back (tally/tracker.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keys.hashing import hjson
from tally.tracker import TrackerError, group_tracker, tracker_groups, ungroup_tracker

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def test_a_real_tracker_in_groups_of_four() -> None:
    tracker = hjson("ballot")
    assert len(tracker) == 43
    grouped = group_tracker(tracker)
    assert grouped.split(" ")[0] == tracker[:4]
    assert [len(g) for g in grouped.split(" ")] == [4] * 10 + [3]
    assert tracker_groups(tracker) == grouped.split(" ")
    assert ungroup_tracker(grouped) == tracker


def test_examples() -> None:
    assert group_tracker("4RgpZs2G4i7M") == "4Rgp Zs2G 4i7M"
    assert group_tracker("abcde") == "abcd e"
    assert group_tracker("") == ""
    assert tracker_groups("") == []
    assert ungroup_tracker("  4Rgp\u3000Zs2G\t4i7M\n") == "4RgpZs2G4i7M"


@pytest.mark.parametrize("text", ["", "   ", "4Rgp-Zs2G", "跟踪号", "abc=", "a%2Fb"])
def test_not_a_tracker(text: str) -> None:
    with pytest.raises(TrackerError):
        ungroup_tracker(text)


@given(st.text(alphabet=B64, min_size=1, max_size=100))
def test_round_trip(tracker: str) -> None:
    grouped = group_tracker(tracker)
    assert ungroup_tracker(grouped) == tracker
    assert all(1 <= len(g) <= 4 for g in grouped.split(" "))
    assert "  " not in grouped
