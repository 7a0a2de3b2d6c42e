"""Hub.to_many_deputies: every tablet gets its message, and the event loop's other work (a
staff request) runs between the steps instead of after 3,000 sends."""

from __future__ import annotations

import asyncio

from voting.session.hub import Hub


def test_every_deputy_and_the_loop_in_between() -> None:
    async def main() -> tuple[list[int], int]:
        hub = Hub()
        sent: list[int] = []
        seen_by_other: list[int] = []

        async def send(deputy_id: int) -> None:
            sent.append(deputy_id)

        async def other() -> None:  # scheduled before the sends: it must not wait for all
            seen_by_other.append(len(sent))

        asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(other()))
        await hub.to_many_deputies(send, range(1, 1001), step=100)
        return sent, seen_by_other[0]

    sent, at = asyncio.run(main())
    assert sorted(sent) == list(range(1, 1001))
    assert at < 1000
