"""``renda serve``: run a session server on a session folder."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

HELP = "run the session server (HTTP API and websockets) on a session folder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, type=Path, help="session folder (created if new)")
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
    parser.add_argument("--group", default="BELENIOS-2048", help="Belenios group of the polls")
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
        "--export-record", type=Path, default=None, help="write the session's record and exit"
    )
    parser.add_argument("--init", action="store_true", help="create the folder, print tokens, exit")
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
    )


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

    config = config_from(args)
    assert isinstance(config, ServerConfig)
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
    serve(app, args.host, args.port, limits)
    return 0
