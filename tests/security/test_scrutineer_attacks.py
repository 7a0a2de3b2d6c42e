"""Attacks of a dishonest server on the scrutineers (issue 15 §1), against the real tool.

Three scrutineers run voting.cli_trustee.Scrutineer — the code of ``renda trustee`` — over real
websockets and HTTP against tests/security/fake_session.FakeSession, which holds a real key
ceremony (BELENIOS-2048, 2 of 3) and makes real polls. The honest poll is decrypted and its
archive accepted by renda verify and belenios-tool; every attack is refused by the tool.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from keys.group import BELENIOS_2048
from tally.verify import verify_archive
from tests.belenios import verify as belenios_verify
from tests.security.fake_session import FakeSession
from voting.cli_trustee import KeyFile, Scrutineer

pytestmark = pytest.mark.slow

YES, NO, ABSTAIN = [[1, 0, 0]], [[0, 1, 0]], [[0, 0, 1]]


def run_session(
    tmp_path: Path, scenario: Callable[[FakeSession, list[Scrutineer]], Awaitable[None]]
) -> None:
    async def main() -> None:
        fs = FakeSession(BELENIOS_2048, tmp_path)
        await fs.start()
        scrs = [
            Scrutineer(tmp_path / f"s{i}.json", KeyFile(server=fs.url, token=fs.token(i)))
            for i in range(1, fs.n + 1)
        ]
        tasks = [asyncio.create_task(s.run()) for s in scrs]
        try:
            await fs.connected(fs.n)
            await fs.ceremony(scrs)
            await scenario(fs, scrs)
        finally:
            for s in scrs:
                s.stop()
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
            await fs.stop()

    asyncio.run(main())


def test_honest_poll_is_decrypted_and_both_verifiers_accept(
    tmp_path: Path, belenios_tool: str
) -> None:
    async def scenario(fs: FakeSession, scrs: list[Scrutineer]) -> None:
        poll = fs.poll([YES, YES, NO, ABSTAIN], voters=5)
        first = await fs.decrypt(poll, 1, scrs[0])
        assert first is not None and first.check is not None, scrs[0].errors
        # the second scrutineer is shown the first one's signed archive check: it agrees
        second = await fs.decrypt(poll, 2, scrs[1], checks=[first.check])
        assert second is not None, scrs[1].errors
        assert fs.finish(poll) == ((2, 1, 1),)
        assert KeyFile.load(scrs[0].key_path).decided[poll.election.uuid]["received"] == 4
        report = verify_archive(poll.path)
        assert report.ok, report.first_failure
        folder = tmp_path / "belenios"
        folder.mkdir()
        shutil.copy(poll.path, folder / f"{poll.election.uuid}.bel")
        belenios_verify(belenios_tool, folder)

    run_session(tmp_path, scenario)


async def _refused(fs: FakeSession, s: Scrutineer, index: int, poll: Any, **kw: Any) -> str:
    reply = await fs.decrypt(poll, index, s, **kw)
    assert reply is None, "the scrutineer's tool decrypted what it should have refused"
    return s.errors[-1]


def test_one_ballot_fake_polls_are_refused(tmp_path: Path) -> None:
    """The server copies each real ballot into a fake one-ballot poll of its own, or serves
    the real poll again with one ballot, to have it decrypted alone: every tool refuses."""

    async def scenario(fs: FakeSession, scrs: list[Scrutineer]) -> None:
        real = fs.poll([YES, NO, NO])
        for i, s in enumerate(scrs[:2], start=1):
            assert await fs.decrypt(real, i, s) is not None, s.errors
        for n, ballot in enumerate(real.ballots):
            # a new poll (new uuid) holding one deputy's ballot: its proofs name the real
            # election, so the archive does not verify
            fake = fs.poll([YES], ballots=[ballot], poll_id=f"fake{n}")
            for i, s in enumerate(scrs, start=1):
                why = await _refused(fs, s, i, fake)
                assert "does not verify" in why, why
            # the real election again, its archive reduced to this one ballot (and figures
            # signed to match): a poll is decrypted once only
            again = fs.poll([YES], election=real.election, ballots=[ballot], poll_id=real.poll_id)
            for i, s in enumerate(scrs[:2], start=1):
                why = await _refused(fs, s, i, again)
                assert "decrypted once only" in why, why

    run_session(tmp_path, scenario)


def test_tampered_polls_are_refused(tmp_path: Path) -> None:
    async def scenario(fs: FakeSession, scrs: list[Scrutineer]) -> None:
        s1, s2 = scrs[0], scrs[1]
        # encrypted to a key only the server holds (with trustees of its own)
        x, own = fs.x_server, fs.server_trustee
        from tally.trustees import SingleTrustee, Trustees, serialize_trustees

        alone = serialize_trustees(Trustees((SingleTrustee(own),)))
        mine = fs.poll([YES, NO], election=fs.election(public_key=own.public_key))
        mine.trustees_raw = alone
        assert "not the session's" in await _refused(fs, s1, 1, mine)
        del x
        # the ballot box is not closed
        open_poll = fs.poll([YES, NO], close=False)
        open_poll.tally_raw = fs.poll([YES, NO]).tally_raw
        assert "not closed" in await _refused(fs, s1, 1, open_poll)
        # figures: not the archive's, or not signed by the pinned server key
        poll = fs.poll([YES, NO, YES], voters=4)
        assert "received" in await _refused(fs, s1, 1, poll, closing=fs.closing(poll, received=1))
        assert "issued" in await _refused(fs, s1, 1, poll, closing=fs.closing(poll, issued=3))
        from tally import statements

        other = statements.sign_statement(statements.generate_key(), fs.closing(poll).statement)
        assert "not signed by the server" in await _refused(fs, s1, 1, poll, closing=other)
        # a tally that is one deputy's ballot, not the product of the archive's ballots
        single = fs.poll([YES], election=poll.election, ballots=poll.ballots[:1])
        fs.served[(poll.poll_id, poll.election.uuid)] = poll.path.read_bytes()
        why = await _refused(fs, s1, 1, poll, tally_raw=single.tally_raw)
        assert "not the product of the ballots" in why, why
        # none of these refusals used up the poll: the honest request is answered
        first = await fs.decrypt(poll, 1, s1)
        assert first is not None, s1.errors
        # another scrutineer is shown an archive without the last ballot: the first
        # scrutineer's signed check names another archive, so it refuses
        fewer = fs.poll(
            [YES], election=poll.election, ballots=poll.ballots[:2], poll_id=poll.poll_id
        )
        assert first.check is not None
        why = await _refused(fs, s2, 2, fewer, checks=[first.check])
        assert "checked another archive" in why, why
        # a forged check (not signed by scrutineer 1's certificate key) is refused too
        forged = first.check.model_copy(update={"ballots_hash": "0" * 64})
        fs.served[(poll.poll_id, poll.election.uuid)] = poll.path.read_bytes()
        why = await _refused(fs, s2, 2, poll, checks=[forged])
        assert "not its signature" in why, why

    run_session(tmp_path, scenario)


def test_a_count_report_is_signed_only_when_every_field_checks(tmp_path: Path) -> None:
    from tally import messages as m
    from tally.archive import read_archive
    from tally.report_check import rerun_outcome
    from tally.report_signatures import count_report, report_text

    rules = {"id": "m", "kind": "motion", "title": "关于预算的议案"}

    async def scenario(fs: FakeSession, scrs: list[Scrutineer]) -> None:
        poll = fs.poll([YES, YES, NO], voters=4)
        for i, s in enumerate(scrs[:2], start=1):
            assert await fs.decrypt(poll, i, s) is not None, s.errors
        fs.finish(poll)
        fs.served[(poll.poll_id, poll.election.uuid)] = poll.path.read_bytes()
        result = read_archive(poll.path).result()
        assert result is not None
        counts = {"total": 4, "present": 4, "issued": 4, "received": 3}
        counts["result"] = json.loads(result[1])["result"]
        # the server's outcome: its count report names the session
        outcome = rerun_outcome(rules, counts, poll.election.raw, None, fs.session)

        async def ask(s: Scrutineer, index: int, **change: Any) -> Any:
            report = count_report(
                session=fs.session,
                poll_id=poll.poll_id,
                uuid=poll.election.uuid,
                result_raw=result[1],
                counts={**counts, **change.pop("counts", {})},
                outcome=change.pop("outcome", outcome),
            )
            req = m.ReportRequest(
                id=fs.nid(),
                poll_id=poll.poll_id,
                report=report_text(report),
                trustee_id=index + 1,
                rules=json.dumps(rules, ensure_ascii=False),
            )
            return await fs.ask(index, req, s)

        s1 = scrs[0]
        for bad in ({"present": 3}, {"total": 5}, {"issued": 3}, {"received": 4}):
            assert await ask(s1, 1, counts=bad) is None, bad
            assert "not signed" in s1.errors[-1], s1.errors[-1]
        passed = {**outcome, "passed": not outcome.get("passed")}
        assert await ask(s1, 1, outcome=passed) is None
        assert "rules engine" in s1.errors[-1], s1.errors[-1]
        # the honest report is signed, also by a scrutineer that did not decrypt this poll
        assert isinstance(await ask(s1, 1), m.ReportSignature), s1.errors
        assert isinstance(await ask(scrs[2], 3), m.ReportSignature), scrs[2].errors

    run_session(tmp_path, scenario)
