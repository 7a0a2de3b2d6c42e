"""A job of the session that runs in the background of the event loop (the screens' feed, the
voting-time countdown): started once, stopped by cancelling it and waiting for its end."""

from __future__ import annotations

import asyncio
import contextlib


class Background:
    """``_run`` is the job; ``start`` / ``stop`` are the same for every such job."""

    _task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
