"""Every server statement the kiosk acts on is signed (issue 15, "The tablet trusts only what
is signed"): a ``poll_closed`` makes the kiosk forget its credential and drop a ballot not yet
acknowledged, so a machine in the middle could make a tablet silently lose its deputy's vote
while the poll is still open. The kiosk now acts on it only when the server's signed list of
polls (tally/poll_list.py) says the poll closed.

The real kiosk (kiosk.client.Kiosk) against a test double of the server over a real loopback
websocket (tests/kiosk/fake_server.py), which answers the ballot with a ``poll_closed``
instead of the receipt: unsigned, or with a list signed by another key, it is ignored (the
ballot stays in the outbox, to be sent again, the credential kept); with the server's signed
list it is acted on.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kiosk import poll_list
from kiosk.identity import load_credential
from kiosk.outbox import Outbox
from tests.kiosk.fake_server import FakeServer, wait_for
from tests.kiosk.test_kiosk_protocol import _kiosk


@pytest.mark.parametrize("how", ["unsigned", "forged", "signed"])
def test_a_poll_closed_is_acted_on_only_when_signed(tmp_path: Path, how: str) -> None:
    async def main() -> None:
        server = FakeServer(close_instead_of_ack=how)
        await server.start()
        kiosk = _kiosk(tmp_path, server)
        task = asyncio.create_task(kiosk.run())
        try:
            await wait_for(lambda: server.casts_received >= 1)
            if how == "signed":
                await wait_for(lambda: kiosk.polls[server.poll_id].closed)
            else:
                ignored = ("unsigned", f"poll_closed {server.poll_id} not signed")
                await wait_for(lambda: ignored in kiosk.events.errors)
        finally:
            kiosk.stop()
            await asyncio.wait_for(task, 10)
            await server.stop()
        pending = [p.poll_id for p in Outbox(tmp_path / "k").pending()]
        credential = load_credential(kiosk.vault, server.poll_id)
        if how == "signed":
            assert pending == [] and credential is None
            assert poll_list.ended(tmp_path / "k", server.poll_id)
        else:  # ignored: the ballot waits to be sent again, the credential is kept
            assert pending == [server.poll_id] and credential is not None
            assert not kiosk.polls[server.poll_id].closed
            assert poll_list.kept(tmp_path / "k") is None

    asyncio.run(main())
