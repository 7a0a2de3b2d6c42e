"""The kiosk against a fake server over a real loopback websocket (TEST_256 election)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kiosk.backoff import Backoff
from kiosk.choices import Script
from kiosk.client import HeadlessDeputy, Kiosk
from kiosk.identity import Identity, load_credential
from kiosk.outbox import Outbox
from kiosk.vault import Vault
from tally import statements
from tests.kiosk.fake_server import FakeServer, wait_for

pytest.importorskip("tally.ballot")


def _kiosk(tmp_path: Path, server: FakeServer, choice: str = "赞成") -> Kiosk:
    vault = Vault.create(tmp_path / "k", "pw", scrypt_n=2**10)
    key = statements.generate_key()
    server.device_public_key = statements.public_key_hex(key)
    ident = Identity(server.url, server.device_id, key, server.server_public_key, {})
    ident.save(vault)
    deputy = HeadlessDeputy(Script(default=choice))
    return Kiosk(
        tmp_path / "k",
        vault,
        ident,
        deputy,
        backoff=Backoff(initial=0.05, maximum=0.2),
        allow_test_group=True,
    )


async def _run(server: FakeServer, kiosk: Kiosk, until: object) -> None:
    task = asyncio.create_task(kiosk.run())
    try:
        await wait_for(until)
    finally:
        kiosk.stop()
        await asyncio.wait_for(task, 10)
        await server.stop()


def test_votes_and_keeps_the_signed_receipt(tmp_path: Path) -> None:
    async def main() -> None:
        server = FakeServer()
        await server.start()
        kiosk = _kiosk(tmp_path, server)
        await _run(server, kiosk, lambda: kiosk.events.acks == 1)
        assert len(server.stored) == 1
        assert Outbox(tmp_path / "k").pending() == []
        receipt = Outbox(tmp_path / "k").receipt(server.poll_id)
        assert receipt["statement"]["tracker"] == next(iter(server.stored))
        assert kiosk.polls[server.poll_id].issued

    asyncio.run(main())


def test_resend_after_disconnect_is_counted_once(tmp_path: Path) -> None:
    async def main() -> None:
        server = FakeServer(drop_before_first_ack=True)
        await server.start()
        kiosk = _kiosk(tmp_path, server, "反对")
        await _run(server, kiosk, lambda: kiosk.events.acks == 1)
        assert server.casts_received == 2  # sent, connection lost before the ack, sent again
        assert len(server.stored) == 1  # the same ballot: counted once
        assert kiosk.events.connections == 2
        assert Outbox(tmp_path / "k").pending() == []

    asyncio.run(main())


def test_outbox_is_resent_by_a_restarted_kiosk(tmp_path: Path) -> None:
    """A kiosk that crashed after storing its ballot sends it when it starts again."""

    async def main() -> None:
        server = FakeServer(drop_before_first_ack=True)
        await server.start()
        first = _kiosk(tmp_path, server)
        task = asyncio.create_task(first.run())
        await wait_for(lambda: server.casts_received == 1)
        first.stop()  # the "crash": the kiosk object is gone, only its folder remains
        await asyncio.wait_for(task, 10)
        assert len(Outbox(tmp_path / "k").pending()) == 1
        vault = Vault.open(tmp_path / "k", "pw")
        again = Kiosk(
            tmp_path / "k",
            vault,
            Identity.load(vault),
            HeadlessDeputy(Script(default="赞成")),
            backoff=Backoff(initial=0.05, maximum=0.2),
            allow_test_group=True,
        )
        await _run(server, again, lambda: again.events.acks == 1)
        assert server.casts_received == 2 and len(server.stored) == 1
        assert Outbox(tmp_path / "k").pending() == []

    asyncio.run(main())


def test_forged_receipt_is_refused(tmp_path: Path) -> None:
    async def main() -> None:
        server = FakeServer(forge_receipt=True)
        await server.start()
        kiosk = _kiosk(tmp_path, server)
        await _run(server, kiosk, lambda: kiosk.events.refused_receipts == 1)
        assert kiosk.events.acks == 0
        assert len(Outbox(tmp_path / "k").pending()) == 1  # kept, to be sent again
        assert any("回执签名无效" in t for t in kiosk.deputy.messages)  # type: ignore[attr-defined]

    asyncio.run(main())


@pytest.mark.parametrize(
    ("knob", "said"),
    [
        ("omit_credential", "不在公布的名单中"),  # the server has no proof: error wrong_credential
        ("forge_proof", "inclusion proof does not check"),  # a proof of another credential
        (
            "forge_setup",
            "选票的加密设置未经服务器签名",
        ),  # the setup is not signed by the pinned key
    ],
)
def test_no_vote_without_a_signed_setup_and_a_proof_of_the_credential(
    tmp_path: Path, knob: str, said: str
) -> None:
    async def main() -> None:
        server = FakeServer(**{knob: True})
        await server.start()
        kiosk = _kiosk(tmp_path, server)
        await _run(
            server,
            kiosk,
            lambda: (
                kiosk.polls.get("poll-1") is not None and kiosk.polls["poll-1"].refused is not None
            ),
        )
        assert server.casts_received == 0
        assert said in (kiosk.polls["poll-1"].refused or "")
        assert server.proof_requests == (0 if knob == "forge_setup" else 1)

    asyncio.run(main())


def test_poll_ready_is_the_same_size_whatever_the_number_of_voters() -> None:
    """O(N) opening: what a kiosk receives does not grow with the list; its proof is log N."""
    from keys.group import TEST_256
    from tally import messages as m
    from tally.credentials import PublicCredential, serialize_public_credentials
    from tally.merkle import MerkleTree, credential_leaves
    from tally.poll_setup import make_setup_statement

    key = statements.generate_key()
    sizes, proofs = [], []
    for n in (10, 1000, 3000):
        raw = serialize_public_credentials(
            [PublicCredential(TEST_256.g_pow(i + 2)) for i in range(n)]
        )
        setup = make_setup_statement(
            key, session="s", poll_id="p1", uuid="1" * 14, group="G", election="{}",
            trustees="[]", public_credentials=raw, last_press_valid=False,
        )  # fmt: skip
        ready = m.PollReady(
            id="s1", poll_id="p1", uuid="1" * 14, election="{}", trustees="[]", setup=setup,
            last_press_valid=False,
        )  # fmt: skip
        sizes.append(len(m.dump(ready)))
        proofs.append(len(MerkleTree(credential_leaves(raw)).proof(n // 2).path))
    assert max(sizes) - min(sizes) <= 4  # the count's digits
    assert proofs == [4, 10, 12]


def test_private_credential_stays_on_the_tablet(tmp_path: Path) -> None:
    async def main() -> None:
        server = FakeServer()
        await server.start()
        kiosk = _kiosk(tmp_path, server)
        await _run(server, kiosk, lambda: kiosk.events.acks == 1)
        private = load_credential(kiosk.vault, server.poll_id)
        assert private is not None
        assert all(private not in raw for raw in server.stored.values())
        assert not any(private.encode() in p.read_bytes() for p in (tmp_path / "k").iterdir())

    asyncio.run(main())


def test_wrong_server_key_is_refused(tmp_path: Path) -> None:
    async def main() -> None:
        server = FakeServer()
        await server.start()
        kiosk = _kiosk(tmp_path, server)
        server.server_key = statements.generate_key()  # another server answers
        await _run(server, kiosk, lambda: any("密钥不符" in t for t in kiosk.deputy.messages))  # type: ignore[attr-defined]
        assert server.credentials == []

    asyncio.run(main())


def test_kiosk_restarted_between_credential_and_ballot_still_votes(tmp_path: Path) -> None:
    async def main() -> None:
        server = FakeServer(drop_before_poll_ready=True)
        await server.start()
        first = _kiosk(tmp_path, server)
        task = asyncio.create_task(first.run())
        await wait_for(lambda: len(server.credentials) == 1)
        first.stop()  # the tablet restarts before the poll's setup arrives
        await asyncio.wait_for(task, 10)
        vault = Vault.open(tmp_path / "k", "pw")
        again = Kiosk(
            tmp_path / "k",
            vault,
            Identity.load(vault),
            HeadlessDeputy(Script(default="弃权")),
            backoff=Backoff(initial=0.05, maximum=0.2),
            allow_test_group=True,
        )
        server.drop_before_poll_ready = False
        await _run(server, again, lambda: again.events.acks == 1)
        assert len(server.stored) == 1 and len(server.credentials) == 1

    asyncio.run(main())


def test_connection_closed_during_a_send_leaves_no_stray_exception(tmp_path: Path) -> None:
    """The ballot stays in the outbox (resent on reconnect) and no task exception is left
    unretrieved ("Task exception was never retrieved" in the kiosk's log)."""
    import gc

    from websockets.exceptions import ConnectionClosedError

    from keys.credentials import generate_private_credential
    from kiosk.client import PollState
    from tally import messages as m

    class ClosedWs:
        async def send(self, _frame: str) -> None:
            raise ConnectionClosedError(None, None)

    async def main() -> list[dict[str, object]]:
        problems: list[dict[str, object]] = []
        asyncio.get_running_loop().set_exception_handler(lambda _l, ctx: problems.append(ctx))
        server = FakeServer()
        await server.start()
        kiosk = _kiosk(tmp_path, server)
        kiosk._ws = ClosedWs()
        info = m.PollInfo(poll_id=server.poll_id, title="t", kind="motion", state="open")
        state = PollState(info)
        kiosk.polls[server.poll_id] = state
        kiosk._background(kiosk._vote(state, server.election, generate_private_credential()))
        kiosk._background(kiosk._send(m.Ping(id="k-1")))  # any send, closed meanwhile
        await wait_for(lambda: not kiosk._tasks)
        await server.stop()
        assert kiosk.outbox.get(server.poll_id) is not None  # kept for the resend
        gc.collect()
        await asyncio.sleep(0)
        return problems

    assert asyncio.run(main()) == []
