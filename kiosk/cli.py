"""``renda kiosk``: the tablet app in a terminal (or headless, driven by a script)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path

from kiosk.choices import ChoiceError, Script
from kiosk.client import Deputy, HeadlessDeputy, Kiosk
from kiosk.enrol import EnrolError, enrol
from kiosk.identity import Identity
from kiosk.vault import PASSPHRASE_ENV, Vault, VaultError, passphrase_from_env_or_prompt

HELP = "run a deputy's kiosk (表决器): enrol, then vote at the terminal or from a script"
EXAMPLES = """examples:
  renda kiosk --server http://127.0.0.1:8750 --enrol CODE --dir ~/.renda-kiosk   # once
  renda kiosk --dir ~/.renda-kiosk                       # then: vote at this terminal
  renda kiosk --dir ~/.renda-kiosk --script choices.yaml # headless (a script of choices)
  renda kiosk --ui --server http://127.0.0.1:8750 --dir ~/.renda-kiosk   # the tablet's page
The vault passphrase is read from $RENDA_KIOSK_PASSPHRASE, else asked for."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", help="server URL, e.g. http://127.0.0.1:8750 (to enrol)")
    parser.add_argument("--enrol", metavar="CODE", help="enrol this kiosk with a one-time code")
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path.home() / ".renda-kiosk",
        help="folder of this kiosk's vault, outbox and receipts (default ~/.renda-kiosk)",
    )
    parser.add_argument(
        "--script",
        type=Path,
        help="headless: a JSON/YAML script of choices per poll (see kiosk/choices.py)",
    )
    parser.add_argument(
        "--enrol-only", action="store_true", help="enrol and exit without connecting"
    )
    parser.add_argument(
        "--verbose", "-v", action="store_true", help="log connection events to stderr"
    )
    parser.add_argument(
        "--ui",
        action="store_true",
        help="serve the touch page (表决器) on 127.0.0.1 for the tablet's browser (docs/tablet.md)",
    )
    parser.add_argument(
        "--port", type=int, default=8760, help="--ui: port of the touch page (8760; 0 = any free)"
    )
    parser.add_argument(
        "--passphrase-file",
        type=Path,
        help="--ui: file holding the vault passphrase (0600; made at the first start)",
    )
    parser.add_argument(
        "--check-record",
        type=Path,
        metavar="RECORD",
        help="check every receipt this tablet kept against a published session record folder "
        "(is each poll, and each ballot cast, in it?) and exit",
    )
    parser.add_argument(
        "--test-group",
        action="store_true",
        help="accept polls in the small RENDA-TEST-256 group (tests only; a real session "
        "never uses it, and the kiosk refuses it without this flag)",
    )


def _no_terminal(args: argparse.Namespace) -> str | None:
    """Why this kiosk cannot run without a terminal, or None."""
    if args.ui or args.check_record:  # the touch page, or a check of the receipts on disk
        return None
    if not os.environ.get(PASSPHRASE_ENV) and not sys.stdin.isatty():
        return (
            "no terminal to ask for the vault passphrase: run it in a terminal, or set "
            f"${PASSPHRASE_ENV}"
        )
    if not args.script and not args.enrol_only and not sys.stdin.isatty():
        return "no terminal to vote at: run it in a terminal, or give --script FILE (headless)"
    return None


def _check_record(folder: Path, record: Path) -> int:
    from kiosk.receipts import check_poll_list, check_receipts

    try:
        checks = check_receipts(folder, record)
        listed = check_poll_list(folder, record)
    except ValueError as exc:
        print(f"renda kiosk: {exc}", file=sys.stderr)
        return 2
    list_bad = listed is not None and not listed.ok
    if listed is not None:
        print(f"{'✓' if listed.ok else '✗'} {listed.poll_id} {listed.tracker}: {listed.message}")
    if not checks:
        print("本机没有回执 — this tablet kept no receipt")
        return 1 if list_bad else 0
    for c in checks:
        print(f"{'✓' if c.ok else '✗'} {c.poll_id} 跟踪号 {c.tracker}: {c.message}")
    bad = sum(not c.ok for c in checks)
    if bad:
        print(f"{bad} 张选票未在公布的记录中找到 — {bad} ballot(s) not found in the record")
        return 1
    print(f"全部 {len(checks)} 张选票都在公布的记录中 — every ballot is in the record")
    return 1 if list_bad else 0


async def _main(args: argparse.Namespace) -> int:
    folder: Path = args.dir
    if args.check_record is not None:
        return _check_record(folder, args.check_record)
    if args.ui:
        if args.enrol or args.script or args.enrol_only:
            print(
                "renda kiosk: --ui enrols on the page; it takes no --enrol or --script",
                file=sys.stderr,
            )
            return 2
        from kiosk.ui.run import run_tablet

        return await run_tablet(
            folder,
            server_url=args.server,
            port=args.port,
            passphrase_file=args.passphrase_file,
            allow_test_group=args.test_group,
        )
    if args.enrol:
        if not args.server:
            print("renda kiosk: --enrol needs --server URL", file=sys.stderr)
            return 2
        passphrase = passphrase_from_env_or_prompt(confirm=True)
        vault, identity = await enrol(args.server, args.enrol, folder, passphrase)
        name = identity.deputy.get("name", "?")
        seat = identity.deputy.get("seat", "?")
        print(f"已登记 (enrolled): {name}，座位 {seat}；device {identity.device_id}")
        print(f"服务器公钥 (pinned server key): {identity.server_public_key}")
        if args.enrol_only:
            return 0
    else:
        vault = Vault.open(folder, passphrase_from_env_or_prompt())
        identity = Identity.load(vault)
        if args.server and args.server.rstrip("/") != identity.server_url:
            print(
                f"renda kiosk: this kiosk is enrolled with {identity.server_url}, "
                f"not {args.server}",
                file=sys.stderr,
            )
            return 2
    deputy: Deputy
    if args.script:
        deputy = HeadlessDeputy(Script.load(args.script), echo=True)
    else:
        from kiosk.prompt import TerminalDeputy

        deputy = TerminalDeputy()
    kiosk = Kiosk(folder, vault, identity, deputy, allow_test_group=args.test_group)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, kiosk.stop)
    print(f"连接 (connecting to) {identity.server_url} …", flush=True)
    await kiosk.run()
    return 0


def run(args: argparse.Namespace) -> int:
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    problem = _no_terminal(args)
    if problem is not None:
        print(f"renda kiosk: {problem}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_main(args))
    except (EnrolError, VaultError, ChoiceError) as exc:
        print(f"renda kiosk: {exc}", file=sys.stderr)
        return 1
