"""``renda serve``: run a session server on a session folder."""

from __future__ import annotations

import argparse
import asyncio
import errno
import sys
from pathlib import Path

HELP = "run the session server (HTTP API and websockets) on a session folder"
DESCRIPTION = (
    "Run a session's server (会议服务器): the HTTP API, the kiosks', scrutineers' and\n"
    "screens' websockets, on a session folder made once with --init. --export-record writes\n"
    "the session's public record (for renda verify) and exits."
)
EXAMPLES = """examples:
  renda serve --init --data /srv/renda/town-2026     # once: make the folder, print the tokens
  renda serve --data /srv/renda/town-2026            # then: serve on http://127.0.0.1:8750/
  renda serve --data /srv/renda/town-2026 --host 0.0.0.0 --port 8750   # for the hall network
  renda serve --data /srv/renda/town-2026 --export-record record/      # after the session"""

_GROUPS = ["BELENIOS-2048", "RFC-3526-2048", "RENDA-TEST-256"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", required=True, type=Path, help="session folder (made by --init, then reused)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8750, help="port (8750)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL of a PostgreSQL database (default: SQLite in the session folder)",
    )
    parser.add_argument("--schema", default=None, help="PostgreSQL schema to use")
    parser.add_argument(
        "--session-name",
        default="人民代表大会会议",
        help="name shown on every screen, e.g. 青石镇第十九届人民代表大会第三次会议",
    )
    parser.add_argument(
        "--group",
        default="BELENIOS-2048",
        choices=_GROUPS,
        metavar="GROUP",
        help="Belenios group of the polls: %(choices)s (default BELENIOS-2048; the last needs "
        "--test-group)",
    )
    parser.add_argument(
        "--test-group",
        action="store_true",
        help="allow the small RENDA-TEST-256 group (tests only, never a real session)",
    )
    parser.add_argument("--workers", type=int, default=2, help="ballot-checking processes (2)")
    parser.add_argument(
        "--collect-timeout",
        type=float,
        default=30.0,
        help="seconds to wait for kiosks' credentials before issuing ballots anyway (30)",
    )
    parser.add_argument(
        "--scrutineer-timeout",
        type=float,
        default=600.0,
        help="seconds a scrutineer has to answer a shuffle or decryption request before it "
        "goes to another one (600)",
    )
    parser.add_argument(
        "--public-url",
        type=public_url,
        default=None,
        metavar="URL",
        help="the address deputies' phones and auditors reach this server at, put in the QR "
        "codes of the hall screen and the printed documents, e.g. http://10.0.0.5:8750 "
        "(default: the address the hall screen's browser used)",
    )
    parser.add_argument(
        "--export-record", type=Path, default=None, help="write the session's record and exit"
    )
    parser.add_argument(
        "--init", action="store_true", help="create the session folder, print its tokens, exit"
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=LOG_LEVELS,
        help="what the server logs on stderr: %(choices)s (default info: the session's "
        "progress; warning: only problems)",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="also log every HTTP request (off by default)",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=4000,
        help="open sockets at most, HTTP and websockets together (4000)",
    )
    parser.add_argument(
        "--header-timeout",
        type=float,
        default=10.0,
        help="seconds a client has to send request headers or a websocket's first message (10)",
    )


def config_from(args: argparse.Namespace) -> object:
    from voting.config import ServerConfig

    return ServerConfig(
        data_dir=args.data,
        database_url=args.database_url,
        schema=args.schema,
        group="RENDA-TEST-256" if args.test_group and args.group == "BELENIOS-2048" else args.group,
        allow_test_group=args.test_group,
        session_name=args.session_name,
        workers=args.workers,
        collect_timeout=args.collect_timeout,
        scrutineer_timeout=args.scrutineer_timeout,
        public_url=args.public_url,
    )


def public_url(text: str) -> str:
    """``--public-url``: an http(s) address with a host, no query or fragment; no end slash."""
    from urllib.parse import urlsplit

    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an address such as http://10.0.0.5:8750 "
            "(http or https, a host, no ?query or #fragment)"
        )
    return text.strip().rstrip("/")


LOG_LEVELS = ["debug", "info", "warning", "error"]
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    """One plain line per event on stderr: time, level, logger (renda.*, uvicorn.*), message."""
    import logging

    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format=LOG_FORMAT,
        datefmt="%Y-%m-%d %H:%M:%S",
        stream=sys.stderr,
        force=True,
    )
    if level != "debug":  # the migrations' chatter is not the session's
        logging.getLogger("alembic").setLevel(logging.WARNING)


def uvicorn_level(level: str, access_log: bool) -> str:
    """uvicorn logs each websocket it accepts at info: that is access logging, off by default."""
    return level if level in ("debug", "error") or access_log else "warning"


def folder_problem(data: Path, *, init: bool) -> str | None:
    """Why ``data`` cannot be used, in one sentence; None if it can."""
    from voting.config import is_session_folder

    if data.exists() and not data.is_dir():
        return f"--data {data} is a file; it must be a session folder"
    if init:
        return None
    if not is_session_folder(data):
        return (
            f"{data} is not a session folder (it has no tokens.json and server.key); check "
            f"--data, or make a new session with: renda serve --init --data {data}"
        )
    return None


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host:port``, said before it starts; None if it can."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"cannot listen on {host}:{port}: unknown address ({exc})"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"port {port} on {host} is already in use (another renda serve?); stop it "
                    "or choose another --port"
                )
            return f"cannot listen on {host}:{port}: {exc.strerror}"
    return None


def run(args: argparse.Namespace) -> int:
    import os

    os.umask(0o077)  # every file the server makes (database, WAL, archives) is 0600
    from voting.api.app import create_app
    from voting.api.bodies import MAX_HTTP_BODY
    from voting.config import ServerConfig, read_tokens
    from voting.db import DatabaseSettingError
    from voting.limits import ServerLimits, serve
    from voting.session.errors import ActionError
    from voting.session.service import SessionService

    problem = folder_problem(args.data, init=args.init)
    if problem is not None:
        print(f"renda serve: {problem}", file=sys.stderr)
        return 2
    if args.group == "RENDA-TEST-256" and not args.test_group:
        print(
            "renda serve: the group RENDA-TEST-256 is for tests only (add --test-group)",
            file=sys.stderr,
        )
        return 2
    config = config_from(args)
    assert isinstance(config, ServerConfig)
    from tally import progress

    progress.configure(False)  # the server's long work goes to its log, not to bars
    if not (args.init or args.export_record):
        busy = port_problem(args.host, args.port)
        if busy is not None:
            print(f"renda serve: {busy}", file=sys.stderr)
            return 1
        configure_logging(args.log_level)
    try:
        if args.init or args.export_record:
            service = SessionService(config)
            if args.export_record:
                from voting.session.record import export_record

                out = asyncio.run(export_record(service, args.export_record))
                print(f"record written to {out}")
            service.engine.dispose()
            if args.init:
                tokens = read_tokens(config.data_dir)
                print(f"session folder: {config.data_dir}")
                print(f"server public key: {service.server_public_key}")
                for role in ("secretariat", "chair", "display"):
                    print(f"{role} token: {tokens[role]}")
            return 0
        app = create_app(config)
    except ActionError as exc:
        print(f"renda serve: {exc.message}", file=sys.stderr)
        return 1
    except DatabaseSettingError as exc:
        print(f"renda serve: {exc}", file=sys.stderr)
        return 1
    print(f"renda serve: http://{args.host}:{args.port}/ (tokens in {config.data_dir}/tokens.json)")
    limits = ServerLimits(
        max_connections=args.max_connections,
        header_timeout=args.header_timeout,
        ws_first_frame_timeout=args.header_timeout,
        max_http_body=MAX_HTTP_BODY,
    )
    serve(
        app,
        args.host,
        args.port,
        limits,
        log_level=uvicorn_level(args.log_level, args.access_log),
        access_log=args.access_log,
    )
    return 0
