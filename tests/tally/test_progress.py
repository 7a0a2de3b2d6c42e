"""Progress of long work: bars on stderr only when asked (a terminal, ``RENDA_PROGRESS=1``),
the server's lines in its log, and the counts each kind of work reports."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from keys.group import TEST_256
from tally import progress
from tally.decryption import compute_partial_decryption
from tally.election import generate_uuid, make_election
from tally.encrypted_tally import serialize_encrypted_tally
from tally.shuffle import check_shuffle, shuffle_ciphertexts, shuffle_size

# one election question (non-homomorphic: shuffled before it is decrypted)
NH_TEMPLATE = {
    "description": "d",
    "name": "n",
    "questions": [
        {
            "type": "NonHomomorphic",
            "value": {"answers": ["a", "b", "c"], "question": "pick"},
        }
    ],
}


@pytest.fixture
def bars() -> Iterator[None]:
    """Bars forced on (as at a terminal), then off again for the other tests."""
    progress.configure(True)
    try:
        yield
    finally:
        progress.configure(False)


def _rows(n: int) -> tuple[object, tuple[tuple[object, ...], ...], object]:
    from keys.elgamal import encrypt_element

    g = TEST_256
    x = g.random_exponent()
    y = g.g_pow(x)
    election = make_election(NH_TEMPLATE, uuid=generate_uuid(), group=g, public_key=y)
    rows = (tuple(encrypt_element(g, y, g.g_pow(i + 1), g.random_exponent()) for i in range(n)),)
    return election, rows, x


def test_a_shuffle_counts_every_ciphertext_once() -> None:
    election, rows, _x = _rows(30)
    told: list[int] = []
    shuffle = shuffle_ciphertexts(election, rows, advance=told.append)  # type: ignore[arg-type]
    assert sum(told) == shuffle_size(rows) == 30  # type: ignore[arg-type]
    assert all(n > 0 for n in told) and len(told) > 3  # on the way, not only at the end
    check_shuffle(election, rows, shuffle)  # type: ignore[arg-type]


def test_a_decryption_counts_every_ciphertext() -> None:
    _e, rows, x = _rows(7)
    told: list[int] = []
    compute_partial_decryption(TEST_256, "fp", x, rows, told.append)  # type: ignore[arg-type]
    assert sum(told) == 7 and len(told) == 7


def test_bars_off_draw_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    progress.configure(False)
    election, rows, _x = _rows(30)
    shuffle_ciphertexts(election, rows)  # type: ignore[arg-type]
    assert capsys.readouterr().err == ""


def test_the_scrutineers_tool_shows_its_shuffle_and_decryption(
    bars: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tally import messages as m
    from voting.cli_trustee import GroupShare, KeyFile, Scrutineer

    election, rows, x = _rows(40)
    share = GroupShare(seed="s", dkey="d")
    kf = KeyFile(server="http://x", token="t" * 20, shares={TEST_256.name: share})
    s = Scrutineer(tmp_path / "k.json", kf, check_record=False)
    s.keyfile.private_key = lambda _g: (TEST_256, x)  # type: ignore[method-assign]
    req = m.ShuffleRequest(
        id="q",
        poll_id="p1",
        election=election.raw,  # type: ignore[attr-defined]
        ciphertexts=serialize_encrypted_tally(rows),  # type: ignore[arg-type]
        trustee_id=1,
    )
    s.shuffle(req)
    err = capsys.readouterr().err
    assert "混洗 (shuffling)" in err and "/40 [" in err and "ciphertext" in err
    compute_partial_decryption(TEST_256, "fp", x, rows)  # type: ignore[arg-type]
    assert "解密 (decrypting)" in capsys.readouterr().err


def test_the_server_logs_its_shuffle_at_intervals(caplog: pytest.LogCaptureFixture) -> None:
    from voting.session import tally_jobs

    election, rows, _x = _rows(30)
    caplog.set_level(logging.INFO, logger="renda.tally")
    tally_jobs.server_shuffle(
        election.raw,  # type: ignore[attr-defined]
        True,
        serialize_encrypted_tally(rows),  # type: ignore[arg-type]
        what="poll p1: the server's shuffle",
    )
    lines = [r.getMessage() for r in caplog.records if r.name == "renda.tally"]
    assert lines[0] == "poll p1: the server's shuffle: 30 ciphertext(s) ..."
    assert lines[-1].startswith("poll p1: the server's shuffle: done, 30 ciphertext(s) in ")


def test_logged_lines_at_most_every_interval() -> None:
    now = [0.0]
    records: list[str] = []

    class _Log(logging.Logger):
        def info(self, msg: object, *args: object, **_kw: object) -> None:
            records.append(str(msg) % args)

    log = _Log("x")
    with progress.logged(log, 100, "work", "item", every=10, clock=lambda: now[0]) as advance:
        for _ in range(100):
            now[0] += 1  # one second per item
            advance(1)
    assert records[0] == "work: 100 item(s) ..."
    assert records[1] == "work: 10 of 100 item(s) (10%), 10 s"
    assert len(records) == 2 + 9  # every 10 s up to 90, then the end
    assert records[-1] == "work: done, 100 item(s) in 100.0 s"


def test_a_counter_never_goes_back(bars: None, capsys: pytest.CaptureFixture[str]) -> None:
    with progress.counter(5, "waiting", "tablet") as reached:
        for k in (1, 3, 2, 7):
            reached(k)
    err = capsys.readouterr().err
    assert "waiting" in err and "/5 [" in err


def test_the_session_benchmark_watches_its_tablets(
    bars: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from voting.demo.bench import _watch

    events: list[int] = []

    async def main() -> None:
        async def arrive() -> None:
            for i in range(6):
                events.append(i)
                await asyncio.sleep(0.03)

        what = "平板登记、连接 (tablets enrolled, connected)"
        await _watch(what, 6, events.__len__, arrive(), 30)

    asyncio.run(main())
    err = capsys.readouterr().err
    assert "平板登记、连接 (tablets enrolled, connected)" in err and "/6 [" in err


def test_the_benchmark_wait_times_out() -> None:
    from voting.demo.bench import _watch

    async def main() -> None:
        await _watch("never", 1, lambda: 0, asyncio.sleep(60), 0.3)

    with pytest.raises(TimeoutError, match="never"):
        asyncio.run(main())


def _simulate(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    tmp_path.mkdir()
    template = tmp_path / "template.json"
    template.write_text(json.dumps(NH_TEMPLATE))
    return subprocess.run(
        [
            *(sys.executable, "-m", "voting.cli", "simulate", "--test-group", "--workers", "1"),
            *("--voters", "12", "--template", str(template), "--out", str(tmp_path / "out")),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )


def test_simulate_shows_bars_only_when_asked(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != progress.ENV}
    shown = _simulate(tmp_path / "a", {**env, progress.ENV: "1"})
    assert shown.returncode == 0, shown.stderr
    for what in ("制作选票 (making ballots)", "混洗 (shuffling)", "解密 (decrypting)"):
        assert what in shown.stderr, shown.stderr
    assert "shuffling" not in shown.stdout and "\r" not in shown.stdout
    quiet = _simulate(tmp_path / "b", env)  # not a terminal: nothing but its own words
    assert quiet.returncode == 0, quiet.stderr
    assert "shuffling" not in quiet.stderr and "\r" not in quiet.stderr
    assert quiet.stdout.count("\n") == shown.stdout.count("\n")  # the same report
