"""Exponential backoff with jitter for reconnecting to the server."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays ``initial * factor**k`` capped at ``maximum``, each scaled by a random jitter.

    ``next()`` gives the delay before the next attempt; ``reset()`` after a good connection.
    """

    initial: float = 0.1
    factor: float = 2.0
    maximum: float = 10.0
    jitter: float = 0.25  # each delay is multiplied by a factor in [1 - jitter, 1]
    attempts: int = field(default=0, init=False)
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.factor < 1 or self.maximum < self.initial:
            raise ValueError("backoff needs 0 < initial <= maximum and factor >= 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("backoff jitter must be in [0, 1)")

    def next(self) -> float:
        base = min(self.maximum, self.initial * self.factor**self.attempts)
        self.attempts += 1
        return base * (1 - self.jitter * self._rng.random())

    def reset(self) -> None:
        self.attempts = 0
