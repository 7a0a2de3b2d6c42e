"""The smart ballot tracker (跟踪号) written for people: groups of four characters.

A Belenios tracker is ``H_JSON`` of the ballot (spec §4.15): 43 characters of unpadded Base64.
Read aloud or compared by eye, 43 characters in one run are hard to follow, so every screen
(the tablet's receipt, the public bulletin board ``/results``) shows it in groups of
:data:`GROUP` characters separated by single spaces — ``4Rgp Zs2G 4i7M …`` — and every field
that accepts a tracker accepts it grouped or not (:func:`ungroup_tracker`).
"""

from __future__ import annotations

import re

GROUP = 4
_BASE64 = re.compile(r"[A-Za-z0-9+/]+\Z")
_SPACES = re.compile(r"[\s\u3000]+")


class TrackerError(ValueError):
    """A text that is not a tracker."""


def group_tracker(tracker: str, size: int = GROUP) -> str:
    """``tracker`` in groups of ``size`` characters separated by single spaces."""
    if size < 1:
        raise ValueError("a group has at least one character")
    return " ".join(tracker[i : i + size] for i in range(0, len(tracker), size))


def tracker_groups(tracker: str, size: int = GROUP) -> list[str]:
    """The groups of :func:`group_tracker` as a list (for screens that size them apart)."""
    return group_tracker(tracker, size).split(" ") if tracker else []


def ungroup_tracker(text: str) -> str:
    """The tracker written in ``text``, grouped or not (spaces, including full-width ones, are
    dropped); :class:`TrackerError` if what remains is not unpadded Base64."""
    tracker = _SPACES.sub("", text)
    if not tracker or not _BASE64.match(tracker):
        raise TrackerError("a tracker is written in letters, digits, '+' and '/' only")
    return tracker
