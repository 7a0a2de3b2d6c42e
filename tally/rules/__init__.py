"""The rules engine: a session's 选举办法 / 票决办法 as data, outcomes as pure functions.

Entry point: :func:`tally.rules.outcome.evaluate` (rules, counts) -> Outcome. Everything here is
pure code with integer arithmetic; the only I/O is in :mod:`tally.rules.cli` and the file loaders
of :mod:`tally.rules.config` and :mod:`tally.rules.counts`.
"""
