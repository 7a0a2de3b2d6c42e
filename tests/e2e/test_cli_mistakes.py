"""A person's mistakes at the command line: one plain sentence, a non-zero exit, no traceback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from voting.cli import SUBCOMMANDS, main


def _renda(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voting.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def _plain(res: subprocess.CompletedProcess[str], code: int) -> str:
    assert res.returncode == code, res.stdout + res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    return res.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unknown_group_lists_the_choices(tmp_path: Path) -> None:
    err = _plain(_renda("serve", "--init", "--data", str(tmp_path / "s"), "--group", "X"), 2)
    assert "invalid choice: 'X'" in err and "BELENIOS-2048" in err
    assert not (tmp_path / "s").exists()
    assert "BELENIOS-2048" in _renda("serve", "--help").stdout


def test_data_pointing_at_a_file(tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("x")
    err = _plain(_renda("serve", "--data", str(file)), 2)
    assert "is a file" in err and err.count("\n") == 1


def test_export_with_a_mistyped_data_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "sesion"
    code = main(["serve", "--data", str(typo), "--export-record", str(tmp_path / "record")])
    assert code == 2
    assert "is not a session folder" in capsys.readouterr().err
    assert not typo.exists() and not (tmp_path / "record").exists()


def test_serve_refuses_a_folder_that_is_not_a_session(tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    err = _plain(_renda("serve", "--data", str(tmp_path / "other")), 2)
    assert "renda serve --init --data" in err
    assert list((tmp_path / "other").iterdir()) == []


def test_a_port_in_use_is_said_before_the_banner(tmp_path: Path) -> None:
    data = tmp_path / "s"
    assert main(["serve", "--init", "--data", str(data), "--test-group"]) == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = _renda("serve", "--data", str(data), "--test-group", "--port", str(port))
    err = _plain(res, 1)
    assert f"port {port} on 127.0.0.1 is already in use" in err
    assert "http://" not in res.stdout  # no banner


def test_kiosk_with_no_terminal(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "RENDA_KIOSK_PASSPHRASE"}
    err = _plain(_renda("kiosk", "--dir", str(tmp_path / "k"), env=env), 2)
    assert "no terminal" in err and "RENDA_KIOSK_PASSPHRASE" in err
    env["RENDA_KIOSK_PASSPHRASE"] = "secret"
    err = _plain(_renda("kiosk", "--dir", str(tmp_path / "k"), env=env), 2)
    assert "no terminal to vote at" in err and "--script" in err


def test_a_failed_enrolment_leaves_no_vault(tmp_path: Path) -> None:
    env = dict(os.environ, RENDA_KIOSK_PASSPHRASE="first")
    folder = tmp_path / "k"
    url = f"http://127.0.0.1:{_free_port()}"  # nobody listens there
    args = ("kiosk", "--server", url, "--enrol", "CODE", "--enrol-only", "--dir", str(folder))
    err = _plain(_renda(*args, env=env), 1)
    assert "cannot reach the server" in err
    assert not folder.exists()
    env["RENDA_KIOSK_PASSPHRASE"] = "second"  # the retry is not met by "wrong passphrase"
    err = _plain(_renda(*args, env=env), 1)
    assert "wrong passphrase" not in err and not folder.exists()


def test_trustee_says_it_is_retrying_where_and_why(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    env = dict(os.environ, RENDA_TRUSTEE_TOKEN="t" * 20, RENDA_TRUSTEE_PASSPHRASE="pw")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voting.cli",
            "trustee",
            "ceremony",
            "--server",
            url,
            "--key",
            str(tmp_path / "k.json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    seen: list[str] = []
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the first retry (after sealing the key file)
            line = proc.stderr.readline()
            seen.append(line)
            if not line or "retrying in" in line:
                break
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _out, rest = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _out, rest = proc.communicate()
    err = "".join(seen) + rest
    assert "retrying in" in err and f"ws://127.0.0.1:{url.rsplit(':', 1)[1]}/ws/trustee" in err
    assert "connection refused" in err
    assert "Traceback" not in err


def test_trustee_with_no_terminal_says_so(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RENDA_TRUSTEE_")}
    args = ("trustee", "ceremony", "--server", "http://127.0.0.1:9", "--key", str(tmp_path / "k"))
    err = _plain(_renda(*args, env=env), 1)
    assert "no terminal to ask for the scrutineer token" in err
    assert not (tmp_path / "k").exists()


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_subcommand_has_help_with_an_example(name: str) -> None:
    res = _renda(name, "--help")
    assert res.returncode == 0, res.stderr
    assert "example" in res.stdout, res.stdout
    assert ":8000" not in res.stdout


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``renda serve`` (test group, no pool) on a free port; its URL."""
    data = tmp_path_factory.mktemp("live") / "s"
    assert main(["serve", "--init", "--data", str(data), "--test-group"]) == 0
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voting.cli",
            "serve",
            "--data",
            str(data),
            "--test-group",
            "--port",
            str(port),
            "--workers",
            "0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize("token", ["short", "x" * 43])
def test_trustee_with_a_short_or_wrong_token(live_server: str, tmp_path: Path, token: str) -> None:
    key = tmp_path / "k.json"
    env = dict(os.environ, RENDA_TRUSTEE_TOKEN=token, RENDA_TRUSTEE_PASSPHRASE="pw")
    res = _renda("trustee", "ceremony", "--server", live_server, "--key", str(key), env=env)
    err = _plain(res, 1)
    said = "this is not a scrutineer token" if len(token) < 16 else "server refused"
    assert said in err and err.strip().count("\n") == 0, err
    assert not key.exists()  # the retry starts clean


@pytest.mark.parametrize("code", ["AB", "WRONG-CODE-12345"])
def test_kiosk_with_a_short_or_wrong_code(live_server: str, tmp_path: Path, code: str) -> None:
    folder = tmp_path / "k"
    env = dict(os.environ, RENDA_KIOSK_PASSPHRASE="pw")
    res = _renda(
        "kiosk",
        "--server",
        live_server,
        "--enrol",
        code,
        "--enrol-only",
        "--dir",
        str(folder),
        env=env,
    )
    err = _plain(res, 1)
    assert "enrolment code" in err or "enrolment refused" in err, err
    assert not folder.exists()
