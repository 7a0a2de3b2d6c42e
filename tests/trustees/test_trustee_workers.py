"""`renda trustee --workers N`: the processes that check the public archive's ballots before
the scrutineer decrypts (tally.verify's pool, as `renda verify --workers`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from keys.group import group_by_name
from tally import archive_check
from tally import messages as m
from tally.errors import RecordError
from voting import cli_trustee
from voting.cli import build_parser
from voting.cli_trustee import GroupShare, KeyFile, Scrutineer

GROUP = "RENDA-TEST-256"


def _args(*argv: str) -> Any:
    return build_parser("trustee").parse_args(["trustee", "--key", "k.json", *argv])


def test_the_option_is_parsed_with_a_default_of_up_to_two_cpus() -> None:
    assert _args().workers == max(1, min(2, os.cpu_count() or 1))
    assert _args("--workers", "3").workers == 3
    assert _args("decrypt", "--workers", "1").workers == 1


def test_fewer_than_one_worker_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_trustee.run(_args("--workers", "0")) == 2
    assert "--workers must be 1 or more" in capsys.readouterr().err


@pytest.mark.parametrize("workers", [1, 3])
def test_the_archive_check_runs_with_that_many_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    seen: dict[str, Any] = {}

    def check(blob: bytes, **kw: Any) -> Any:
        seen.update(kw, blob=blob)
        raise RecordError("stopped by the test")

    monkeypatch.setattr(archive_check, "check_closed_archive", check)
    kf = KeyFile(
        server="http://127.0.0.1:1",
        token="t" * 20,
        shares={GROUP: GroupShare(seed="s" * 16, dkey="d", trustees="[]")},
    )
    monkeypatch.setattr(kf, "private_key", lambda name: (group_by_name(GROUP, allow_test=True), 1))
    s = Scrutineer(tmp_path / "k.json", kf, workers=workers)
    monkeypatch.setattr(
        s, "_fetch_record", lambda poll_id, uuid: type("R", (), {"content": b"tar"})
    )
    req = m.DecryptionRequest(
        id="d1",
        poll_id="p1",
        uuid="u" * 14,
        trustee_id=1,
        election=json.dumps({"group": GROUP, "uuid": "u" * 14}),
        trustees="[]",
        encrypted_tally="[]",
    )
    with pytest.raises(RecordError, match="stopped by the test"):
        s.check_against_record(req, None)
    assert seen["workers"] == workers and seen["blob"] == b"tar"
