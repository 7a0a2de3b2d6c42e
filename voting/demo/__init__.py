"""``renda demo`` and ``renda bench session``: headless kiosks and scrutineers against a real
server process. The only part of ``voting/`` that imports ``kiosk/``; ``voting/cli.py`` names
these modules by string.

- :mod:`voting.demo.harness`: free port, ``renda serve`` and ``renda trustee`` processes, the
  secretariat's HTTP client;
- :mod:`voting.demo.plan`: the staged town session (pure);
- :mod:`voting.demo.town`: ``renda demo``;
- :mod:`voting.demo.results`: its result tables and record check;
- :mod:`voting.demo.bench`: ``renda bench session``.
"""
