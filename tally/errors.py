"""Errors about the public record, each with a message an auditor can read."""

from __future__ import annotations


class RecordError(ValueError):
    """A record item (election, ballot, event, proof, result…) that is malformed or invalid.

    The message says in plain words what is wrong and, where known, which item.
    """
