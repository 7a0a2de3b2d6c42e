"""The rules engine: a session's 选举办法 / 票决办法 as data, outcomes as pure functions.

Entry point: :func:`tally.rules.outcome.evaluate` (rules, counts) -> Outcome. Everything here is
pure code with integer arithmetic; the only I/O is in :mod:`tally.rules.cli` and
:mod:`tally.rules.documents` (reading a YAML or JSON file).

The modules, lowest first (each imports only those below it; the import-linter contract in
pyproject.toml checks it):

* :mod:`~tally.rules.errors`, :mod:`~tally.rules.model` (the rules as frozen dataclasses);
* :mod:`~tally.rules.nominations` (the law on candidate lists and write-ins),
  :mod:`~tally.rules.quorum`, :mod:`~tally.rules.allocation`, :mod:`~tally.rules.documents`,
  :mod:`~tally.rules.serialize`, :mod:`~tally.rules.result` (outcome and count-report types);
* :mod:`~tally.rules.ballots` (one election ballot read by the law), then
  :mod:`~tally.rules.counts` (the COUNTS document) and :mod:`~tally.rules.validity`;
* the kinds of vote: :mod:`~tally.rules.motion`, :mod:`~tally.rules.election`,
  :mod:`~tally.rules.projects`, :mod:`~tally.rules.confirmation`, :mod:`~tally.rules.removal`,
  and :mod:`~tally.rules.report` (计票结果报告单);
* :mod:`~tally.rules.outcome` (one poll, any kind), then :mod:`~tally.rules.sheet` (one ballot
  for several posts, counted post by post) and :mod:`~tally.rules.loader` (a rules document
  checked and built into the model); :mod:`~tally.rules.cli` on top.
"""
