"""``renda kiosk --ui``: the kiosk process with its touch page on 127.0.0.1 (docs/tablet.md).

One asyncio loop runs both the page's HTTP server (uvicorn, kiosk/ui/app.py) and the kiosk's
websocket client (kiosk/client.py) with :class:`kiosk.ui.tablet.Tablet` as its deputy. If the
tablet is not enrolled yet, the page shows the enrolment screen and the kiosk starts as soon as
the secretariat has enrolled it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from pathlib import Path
from typing import Any

from kiosk.client import Kiosk
from kiosk.enrol import enrol
from kiosk.identity import DEVICE, Identity
from kiosk.ui.app import create_app
from kiosk.ui.tablet import Tablet
from kiosk.unlock import tablet_passphrase
from kiosk.vault import HEADER, Vault

log = logging.getLogger("renda.kiosk")
HOST = "127.0.0.1"


async def run_tablet(
    folder: Path,
    *,
    server_url: str | None,
    port: int,
    passphrase_file: Path | None,
    allow_test_group: bool = False,
) -> int:
    """Serve the tablet until SIGINT/SIGTERM; returns the exit code."""
    import uvicorn

    passphrase = tablet_passphrase(passphrase_file, create=not (folder / HEADER).exists())
    tablet = Tablet(server_url or "")
    kiosk_box: dict[str, Kiosk] = {}
    tasks: set[asyncio.Task[Any]] = set()

    def start(vault: Vault, identity: Identity) -> None:
        tablet.enrolled = True
        tablet.server_url = identity.server_url
        tablet.deputy = {
            "name": identity.deputy.get("name", ""),
            "seat": identity.deputy.get("seat", ""),
            "delegation": identity.deputy.get("delegation", ""),
            "deputy_id": identity.deputy.get("deputy_id"),
        }

        async def on_event(kind: str, data: dict[str, Any]) -> None:
            await tablet.on_event(kind, data, kiosk)

        kiosk = Kiosk(
            folder, vault, identity, tablet, on_event=on_event, allow_test_group=allow_test_group
        )
        kiosk_box["kiosk"] = kiosk
        key = identity.server_public_key.upper()
        tablet.about = {
            "server_key": " ".join(key[i : i + 4] for i in range(0, 32, 4)),
            "trustees": kiosk.trustees_info(),
        }
        tablet.restore(kiosk.outbox.pending())  # a ballot kept before a restart: "sending"
        task = asyncio.create_task(kiosk.run())
        tasks.add(task)
        tablet.changed()

    if (folder / HEADER).exists():
        vault = Vault.open(folder, passphrase)
        if vault.unseal(DEVICE) is not None:
            identity = Identity.load(vault)
            if server_url and server_url.rstrip("/") != identity.server_url:
                log.warning(
                    "this tablet is enrolled with %s, not %s", identity.server_url, server_url
                )
            start(vault, identity)

    async def do_enrol(server: str, code: str) -> None:
        vault, identity = await enrol(server, code, folder, passphrase)
        log.info("enrolled: device %s", identity.device_id)
        start(vault, identity)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(128)  # connections wait in the backlog until uvicorn serves them
    bound = sock.getsockname()[1]
    hosts = {f"{HOST}:{bound}", f"localhost:{bound}"}
    app = create_app(tablet, do_enrol, allowed_hosts=hosts)
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)

    def stop() -> None:
        server.should_exit = True
        if "kiosk" in kiosk_box:
            kiosk_box["kiosk"].stop()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop)
    print(f"平板页面 (tablet page): http://{HOST}:{bound}/", flush=True)
    try:
        await server.serve(sockets=[sock])
    finally:
        stop()
        for task in list(tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5)
        sock.close()
    return 0
