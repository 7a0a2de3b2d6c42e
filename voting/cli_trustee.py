"""``renda trustee``: one scrutineer (监票人) — key ceremony and decryption of totals.

``renda trustee ceremony --server URL --token-file T --key FILE`` connects to ``/ws/trustee`` and
runs this scrutineer's side of the session's Pedersen key ceremony (belenios-tool's steps 1,
3 and 5: certificate, polynomial, verification output), writing the key file (mode 0600) as it
goes, so that a crash in the middle loses nothing. It returns when the server sends
``ceremony_done``. ``renda trustee --server URL --key FILE`` then stays connected and answers
every ``decryption_request`` with a partial decryption made with this scrutineer's key, after
checking that the key is the one the poll's trustees list names for that trustee id.

The key file (voting/trustee_keyfile.py) is sealed with the scrutineer's passphrase and holds
one share per group of the session (motions in one group, elections in another: the ceremony
runs in both in one sitting), with the server URL and token. It never leaves the scrutineer's
machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import os
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import Any

from tally import messages as m
from tally.session_trustees import trustees_fingerprint
from voting.trustee_keyfile import GroupShare as GroupShare
from voting.trustee_keyfile import KeyFile as KeyFile
from voting.trustee_secrets import DESCRIPTION as DESCRIPTION  # renda trustee --help
from voting.trustee_secrets import EXAMPLES as EXAMPLES
from voting.trustee_secrets import (
    TOKEN_ENV,
    TrusteeError,
    ask_secret,
    check_token,
    describe_report,
    passphrase_from_env_or_prompt,
    token_from,
    why_not_connected,
)

HELP = "a scrutineer's key: run the key ceremony, answer decryption requests"
RECORD_ATTEMPTS = 5  # downloads of a poll's public archive before giving up
RECORD_BACKOFF = 0.5  # seconds before the second attempt, doubled each time (at most 8)
log = logging.getLogger("renda.trustee")


def _ws_url(server: str) -> str:
    base = server.rstrip("/")
    for a, b in (("https://", "wss://"), ("http://", "ws://")):
        if base.startswith(a):
            return b + base[len(a) :] + "/ws/trustee"
    return base + "/ws/trustee"


class Scrutineer:
    """One scrutineer's client; ``await run()`` until :meth:`stop` (or the ceremony's end)."""

    def __init__(
        self,
        key_path: Path,
        keyfile: KeyFile,
        *,
        until_ceremony_done: bool = False,
        announce: bool = False,
        check_record: bool = True,
        workers: int = 1,
    ) -> None:
        self.announce = announce  # print connection and decryption events (CLI)
        self.check_record = check_record
        self.workers = max(1, workers)  # processes checking the archive's ballot proofs
        self.key_path = key_path
        self.keyfile = keyfile
        self.until_ceremony_done = until_ceremony_done
        self._stop = asyncio.Event()
        self._ws: Any = None
        self._ids = itertools.count(1)
        self._prefix = secrets.token_hex(3)
        self.authenticated = asyncio.Event()
        self.ceremony_done = asyncio.Event()
        self.decryptions = 0
        self.reports_signed = 0
        self.errors: list[str] = []
        self.checks: dict[str, m.ArchiveCheck] = {}  # uuid -> this scrutineer's archive check
        self.session: str | None = None  # the session's name, as the server authenticated it
        self.name = ""  # this scrutineer's name, as the server authenticated its token

    @property
    def me(self) -> str:
        """Who this scrutineer is, said the same way in every line it prints."""
        who = f"监票人 {self.keyfile.trustee_index} (scrutineer {self.keyfile.trustee_index}"
        return f"{who}, {self.name})" if self.name else f"{who})"

    def stop(self) -> None:
        self._stop.set()
        if self._ws is not None:
            task = asyncio.ensure_future(self._ws.close())
            task.add_done_callback(lambda _t: None)

    def _id(self) -> str:
        return f"t{self._prefix}-{next(self._ids)}"

    async def run(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException

        delay = 0.1
        while not self._stop.is_set():
            try:
                async with connect(
                    _ws_url(self.keyfile.server), max_size=m.MAX_SERVER_FRAME, open_timeout=10
                ) as ws:
                    self._ws = ws
                    await self._session(ws)
                    delay = 0.1
            except (TimeoutError, OSError, WebSocketException) as exc:
                log.info("scrutineer: connection lost (%s)", exc)
                if self.announce and not self._stop.is_set():
                    print(
                        f"renda trustee: 连不上服务器，{delay:.1f} 秒后重试 (cannot reach the "
                        f"server at {_ws_url(self.keyfile.server)}: "
                        f"{why_not_connected(exc)}; retrying in {delay:.1f} s)",
                        file=sys.stderr,
                        flush=True,
                    )
            finally:
                self._ws = None
                self.authenticated.clear()
            if self._stop.is_set():
                break
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
            delay = min(delay * 2, 10.0)

    async def _send(self, msg: Any) -> None:
        await self._ws.send(m.dump(msg))

    async def _session(self, ws: Any) -> None:
        await self._send(m.Auth(id=self._id(), token=self.keyfile.token))
        first = m.parse_server_message(await ws.recv())
        if isinstance(first, m.Error):
            self.stop()
            raise TrusteeError(f"服务器拒绝 (server refused): {first.code}: {first.message}")
        if not isinstance(first, m.Authenticated) or first.role != "scrutineer":
            self.stop()
            raise TrusteeError("this token is not a scrutineer's token")
        if self.keyfile.trustee_index not in (None, first.trustee_index):
            self.stop()
            raise TrusteeError(
                f"this key file belongs to scrutineer {self.keyfile.trustee_index}, "
                f"but the token is scrutineer {first.trustee_index}'s"
            )
        pinned = self.keyfile.server_public_key
        if pinned is not None and first.server_public_key != pinned:
            self.stop()
            raise TrusteeError(
                "服务器密钥不符 — the server's key is not the one this key file pinned; "
                "refusing to work with it"
            )
        self.keyfile.trustee_index = first.trustee_index
        self.session = first.session
        if pinned is None and first.server_public_key is not None:
            self.keyfile.server_public_key = first.server_public_key
            self.keyfile.save(self.key_path)
        self.name = first.name
        self.authenticated.set()
        if self.announce:
            print(f"已连接 (connected): {self.me}", flush=True)
        async for frame in ws:
            try:
                msg = m.parse_server_message(frame)
            except m.MessageError as exc:
                log.warning("scrutineer: unreadable server message: %s", exc)
                continue
            try:
                await self._handle(msg)
            except TrusteeError as exc:
                self.errors.append(str(exc))
                log.warning("scrutineer: %s", exc)
            if self.until_ceremony_done and self.ceremony_done.is_set():
                self.stop()
                return

    async def _handle(self, msg: Any) -> None:
        if isinstance(msg, m.CeremonyRequest):
            data = await asyncio.to_thread(self.ceremony_step, msg)
            await self._send(
                m.CeremonyReply(
                    id=self._id(),
                    reply_to=msg.id,
                    ceremony_id=msg.ceremony_id,
                    step=msg.step,
                    data=data,
                    group=msg.group,
                )
            )
        elif isinstance(msg, m.CeremonyDone):
            self.finish_ceremony(msg)
            for signed in self.trustees_signatures(msg):
                await self._send(signed)
            self.ceremony_done.set()
        elif isinstance(msg, m.DecryptionRequest):
            raw = await asyncio.to_thread(self.decrypt, msg)
            await self._send(
                m.PartialDecryptionMsg(
                    id=self._id(),
                    reply_to=msg.id,
                    poll_id=msg.poll_id,
                    trustee_id=msg.trustee_id,
                    partial_decryption=raw,
                    check=self.checks.get(msg.uuid),
                )
            )
            self.decryptions += 1
            if self.announce:
                figures = self.keyfile.decided.get(msg.uuid, {})
                print(
                    f"{self.me}: 已解密 (decrypted) poll {msg.poll_id} "
                    f"(Belenios trustee {msg.trustee_id}): "
                    f"{figures.get('received', '?')} ballots of {figures.get('issued', '?')} "
                    "issued",
                    flush=True,
                )
        elif isinstance(msg, m.ShuffleRequest):
            raw_shuffle = await asyncio.to_thread(self.shuffle, msg)
            await self._send(
                m.ShuffleMsg(
                    id=self._id(),
                    reply_to=msg.id,
                    poll_id=msg.poll_id,
                    trustee_id=msg.trustee_id,
                    shuffle=raw_shuffle,
                )
            )
            if self.announce:
                print(
                    f"{self.me}: 已混洗 (shuffled) poll {msg.poll_id} "
                    f"(Belenios trustee {msg.trustee_id})",
                    flush=True,
                )
        elif isinstance(msg, m.ReportRequest):
            signature = await asyncio.to_thread(self.sign_report, msg)
            await self._send(
                m.ReportSignature(
                    id=self._id(),
                    reply_to=msg.id,
                    poll_id=msg.poll_id,
                    trustee_id=msg.trustee_id,
                    signature=signature,
                )
            )
            self.reports_signed += 1
            if self.announce:
                print(f"{self.me}: 已签署计票结果报告单 (signed the count report):", flush=True)
                print(describe_report(msg.report), flush=True)
        elif isinstance(msg, m.Error):
            self.errors.append(f"{msg.code}: {msg.message}")
            log.warning("scrutineer: server error %s: %s", msg.code, msg.message)

    # -- the ceremony (pure steps, key file written before each answer) -------------------------

    def ceremony_step(self, req: m.CeremonyRequest) -> str:
        from keys.group import group_by_name
        from keys.threshold import (
            Vinput,
            generate_cert,
            make_polynomial,
            make_voutput,
            parse_certs,
        )

        kf = self.keyfile
        try:
            group = group_by_name(req.group, allow_test=True)
            share = kf.shares.get(req.group)
            if req.step == 1:
                if share is not None and share.ceremony_id == req.ceremony_id and share.cert:
                    return share.cert  # asked again after a reconnect: same certificate
                if share is not None and share.finished:
                    raise TrusteeError(
                        f"this key file already holds a finished key in {req.group}; use a "
                        "new file for a new ceremony"
                    )
                seed, cert = generate_cert(group)
                share = kf.shares[req.group] = GroupShare(req.ceremony_id, seed, cert.serialize())
                kf.save(self.key_path)
                return str(share.cert)
            if share is None or share.ceremony_id != req.ceremony_id or not share.seed:
                raise TrusteeError(f"step {req.step} of a ceremony this key file did not start")
            certs = parse_certs(group, req.certs or [])
            if share.cert not in (req.certs or []):
                raise TrusteeError("my certificate is not among the ceremony's certificates")
            if req.step == 3:
                if share.polynomial is None:
                    poly = make_polynomial(group, certs, share.seed, req.threshold)
                    share.polynomial = poly.serialize()
                    kf.save(self.key_path)
                return share.polynomial
            if req.vinput is None:
                raise TrusteeError("step 5 without a vinput")
            vinput = Vinput.parse(group, req.vinput)
            voutput = make_voutput(group, certs, share.seed, vinput)
            share.dkey = voutput.private_key
            kf.save(self.key_path)
            return voutput.serialize()
        except ValueError as exc:  # PedersenError, GroupError, PKIError
            raise TrusteeError(f"key ceremony step {req.step} refused: {exc}") from exc

    def ceremony_groups(self, msg: m.CeremonyDone) -> dict[str, str]:
        """Group name -> trustees of every group the ceremony ``msg`` ends (an older server
        names none: the one group this key file made its key in for that ceremony)."""
        if msg.groups:
            return dict(msg.groups)
        shares = self.keyfile.shares
        mine = [g for g, sh in shares.items() if sh.ceremony_id == msg.ceremony_id] or list(shares)
        if len(mine) != 1:
            raise TrusteeError("ceremony_done names no group, and this key file has no one key")
        return {mine[0]: msg.trustees}

    def finish_ceremony(self, msg: m.CeremonyDone) -> None:
        """Keep each group's trustees, each of which must hold this scrutineer's key."""
        from tally.trustees import parse_trustees, trustee_slots

        kf = self.keyfile
        for name, raw in self.ceremony_groups(msg).items():
            group, x = kf.private_key(name)
            mine = group.g_pow(x)
            if not any(s.key.public_key == mine for s in trustee_slots(parse_trustees(group, raw))):
                raise TrusteeError(
                    f"the session's trustees in {name} do not include this scrutineer's key"
                )
            kf.share(name).trustees = raw
        kf.save(self.key_path)

    def trustees_signatures(self, msg: m.CeremonyDone) -> list[m.TrusteesSignature]:
        """This scrutineer's signature of each group's trustees, for the public record."""
        from keys.pki import derive_sk
        from tally.session_trustees import sign_trustees
        from tally.trustees import parse_trustees, trustee_slots

        kf = self.keyfile
        out = []
        for name, raw in self.ceremony_groups(msg).items():
            group, x = kf.private_key(name)
            seed = kf.share(name).seed
            assert seed is not None
            mine = group.g_pow(x)
            slots = trustee_slots(parse_trustees(group, raw))
            tid = next(s.owner for s in slots if s.key.public_key == mine)
            out.append(
                m.TrusteesSignature(
                    id=self._id(),
                    ceremony_id=msg.ceremony_id,
                    trustee_id=tid,
                    signature=sign_trustees(group, derive_sk(seed), raw),
                    group=name,
                )
            )
        return out

    # -- decryption --------------------------------------------------------------------------------

    def decrypt(self, req: m.DecryptionRequest) -> str:
        """A partial decryption of the poll's tally, after every check of the module
        tally.archive_check and these: the poll's trustees are the session's (the ceremony's),
        this scrutineer is trustee ``trustee_id`` there, the poll (election uuid) was not
        decrypted before (only the very same tally may be asked again, after a lost answer),
        the tally is the product of the archive's ballots, and no other scrutineer's signed
        check names another archive."""
        from keys.hashing import hjson, sha256_hex
        from tally.decryption import compute_partial_decryption
        from tally.encrypted_tally import parse_encrypted_tally
        from tally.errors import RecordError
        from tally.trustees import parse_trustees, trustee_slots

        kf = self.keyfile
        try:
            election = json.loads(req.election)
            if not isinstance(election, dict) or election.get("uuid") != req.uuid:
                raise TrusteeError("the election sent is not the poll's election")
            # the poll's group: this scrutineer's key and the session's trustees in it
            group, x = kf.private_key(str(election.get("group")))
            session_trustees = kf.trustees(group.name)
            if session_trustees is None:
                raise TrusteeError("this key file has not received the session's trustees yet")
            if req.trustees != session_trustees:
                raise TrusteeError(
                    "the poll's trustees are not the session's (those of the key ceremony): "
                    "its election is not encrypted to the scrutineers' key"
                )
            slots = trustee_slots(parse_trustees(group, req.trustees))
            if not 1 <= req.trustee_id <= len(slots):
                raise TrusteeError(f"there is no trustee {req.trustee_id} in this poll")
            if slots[req.trustee_id - 1].key.public_key != group.g_pow(x):
                raise TrusteeError(
                    f"trustee {req.trustee_id} of this poll is not this scrutineer's key"
                )
            tally_hash = sha256_hex(req.encrypted_tally)
            before = kf.decided.get(req.uuid)
            if before is not None and before.get("tally") != tally_hash:
                raise TrusteeError(
                    f"poll {req.uuid} was already decrypted by this scrutineer; a poll is "
                    "decrypted once only"
                )
            tally = parse_encrypted_tally(group, req.encrypted_tally)
            figures: dict[str, Any] = {}
            if self.check_record:
                figures = self.check_against_record(req, tally)
            decided = {"poll_id": req.poll_id, "tally": tally_hash, **figures}
            if before is None:
                # remembered (and synced to disk) before the partial decryption leaves
                kf.decided[req.uuid] = decided
                kf.decrypted.append(req.poll_id)
                kf.save(self.key_path)
            pd = compute_partial_decryption(group, hjson(req.election), x, tally)
        except (ValueError, RecordError) as exc:
            raise TrusteeError(f"decryption of poll {req.poll_id} refused: {exc}") from exc
        except TrusteeError as exc:
            raise TrusteeError(f"decryption of poll {req.poll_id} refused: {exc}") from exc
        raw: str = pd.serialize()
        return raw

    def _fetch_record(self, poll_id: str, uuid: str) -> Any:
        import httpx

        url = f"{self.keyfile.server.rstrip('/')}/record/polls/{poll_id}/{uuid}.bel"
        # with the token: a poll not yet published is served with its result to scrutineers
        headers = {"Authorization": f"Bearer {self.keyfile.token}"}
        problem = ""
        for attempt in range(RECORD_ATTEMPTS):  # a busy server or a broken connection
            if attempt:
                time.sleep(min(8.0, RECORD_BACKOFF * 2 ** (attempt - 1)))
            try:
                response = httpx.get(url, timeout=60, headers=headers)
            except httpx.HTTPError as exc:
                problem = str(exc) or type(exc).__name__
                log.info("fetching %s failed (%s); trying again", url, problem)
                continue
            if response.status_code == 200:
                return response
            problem = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code != 408:
                break  # not there (404): trying again does not help
        raise TrusteeError(f"cannot fetch the poll's public record {url}: {problem}")

    def shuffle(self, req: m.ShuffleRequest) -> str:
        """Shuffle the non-homomorphic rows (a verifiable re-encryption mix, spec §4.17).

        With the record check, the rows must be what the public archive holds at this point:
        the non-homomorphic rows of the tally its ballots imply, or the last shuffle's output.
        """
        from tally.election import parse_election
        from tally.encrypted_tally import parse_encrypted_tally, serialize_encrypted_tally
        from tally.shuffle import shuffle_ciphertexts

        try:
            election = parse_election(req.election, allow_test_group=True)
            group, _x = self.keyfile.private_key(election.group.name)
            rows = parse_encrypted_tally(group, req.ciphertexts)
            if self.check_record:
                response = self._fetch_record(req.poll_id, election.uuid)
                _e, _tally, current = record_state(response.content, req.election)
                if serialize_encrypted_tally(current) != serialize_encrypted_tally(rows):
                    raise TrusteeError(
                        "the ciphertexts sent are not the ones the public record is at: "
                        "refusing to shuffle them"
                    )
            result = shuffle_ciphertexts(election, rows)
        except ValueError as exc:
            raise TrusteeError(f"shuffle of poll {req.poll_id} refused: {exc}") from exc
        raw: str = result.raw
        return raw

    def check_against_record(self, req: m.DecryptionRequest, tally: Any) -> dict[str, Any]:
        """The checks of tally.archive_check on the poll's public archive
        (``/record/polls/<poll>/<uuid>.bel``), fetched by this tool; the tally asked for must
        be the product of its ballots (and shuffles). Returns the figures checked."""
        from keys.pki import derive_sk
        from tally.archive_check import (
            check_closed_archive,
            check_figures,
            sign_check,
            verify_check,
        )
        from tally.encrypted_tally import serialize_encrypted_tally
        from tally.report_signatures import scrutineer_keys
        from tally.shuffle import merge_nh
        from tally.trustees import parse_trustees

        kf = self.keyfile
        election_group = json.loads(req.election).get("group")
        group, _x = kf.private_key(election_group)
        share = kf.share(group.name)
        assert share.trustees is not None and share.seed is not None
        blob = self._fetch_record(req.poll_id, req.uuid).content
        closed = check_closed_archive(
            blob,
            election_raw=req.election,
            trustees_raw=req.trustees,
            session_trustees_raw=share.trustees,
            allow_test_group=group.name.startswith("RENDA-TEST"),
            workers=self.workers,
        )
        figures = check_figures(
            closed,
            req.closing,
            server_public_key=kf.server_public_key,
            poll_id=req.poll_id,
            election_raw=req.election,
        )
        keys = scrutineer_keys(group, parse_trustees(group, share.trustees))
        for other in req.checks or []:
            verify_check(
                group,
                keys,
                trustee_id=other.trustee_id,
                uuid=other.uuid,
                ballots_hash=other.ballots_hash,
                signature=other.signature,
            )
            if other.uuid != closed.uuid or other.ballots_hash != closed.ballots_hash:
                raise TrusteeError(
                    f"scrutineer (trustee {other.trustee_id}) checked another archive of this "
                    "poll than the one this tool was shown: the server shows different "
                    "ballots to different scrutineers"
                )
        election, expected, shuffled = record_state(blob, req.election, self.workers)
        if election.has_nh_questions:
            expected = merge_nh(election, expected, shuffled)
        if serialize_encrypted_tally(expected) != serialize_encrypted_tally(tally):
            raise TrusteeError(
                "the encrypted tally sent is not the product of the ballots in the public "
                "record: refusing to decrypt it"
            )
        self.checks[closed.uuid] = m.ArchiveCheck(
            trustee_id=req.trustee_id,
            uuid=closed.uuid,
            ballots_hash=closed.ballots_hash,
            signature=sign_check(group, derive_sk(share.seed), closed.uuid, closed.ballots_hash),
        )
        return {
            "ballots_hash": closed.ballots_hash,
            "issued": closed.voters,
            "received": closed.received,
            **{k: figures[k] for k in ("present", "total") if k in figures},
        }

    def sign_report(self, req: m.ReportRequest) -> str:
        """Sign the poll's count report (计票结果报告单) with this scrutineer's certificate
        key, after checking every field of it (tally.report_check): this session and poll,
        the session's trustees, the result and its hash against the archive's Result, issued
        and received against the archive, total and present against the signed figures this
        scrutineer checked before decrypting, and the outcome by re-running the rules engine;
        this scrutineer must be trustee ``trustee_id`` there. Otherwise refuse."""
        from tally.archive import parse_archive
        from tally.report_check import check_report_fields
        from tally.report_signatures import parse_report_text, scrutineer_keys, sign_report
        from tally.trustees import parse_trustees
        from voting.trustee_manual import manual_check

        kf = self.keyfile
        try:
            report = parse_report_text(req.report)
            if report["poll_id"] != req.poll_id:
                raise TrusteeError("the count report is for another poll")
            if not self.check_record:
                raise TrusteeError("the record check is off: not signing a count report")
            if report.get("method") is not None:  # counted by hand: no archive (trustee_manual)
                # signed against the trustees of the session's first (homomorphic) group
                group, sk = self._signing_key(kf.main_group)
                manual_check(report, req, self.session, kf.trustees(group.name), group, sk)
                return sign_report(group, sk, req.report)
            response = self._fetch_record(req.poll_id, str(report["uuid"]))
            archive = parse_archive(response.content, "the public record")
            _setup, election_raw, trustees_raw, _creds = archive.setup()
            group, sk = self._signing_key(json.loads(election_raw).get("group"))
            if trustees_raw != kf.trustees(group.name):
                raise TrusteeError("the poll's trustees are not the session's")
            if report.get("session") != self.session:
                raise TrusteeError("the count report names another session")
            check_report_fields(
                report,
                archive,
                figures=self.keyfile.decided.get(str(report["uuid"])),
                rules=json.loads(req.rules) if req.rules is not None else None,
                roster=req.roster,
            )
            keys = scrutineer_keys(group, parse_trustees(group, trustees_raw))
            if keys.get(req.trustee_id) != group.g_pow(sk):
                raise TrusteeError(
                    f"trustee {req.trustee_id} of this poll is not this scrutineer's certificate"
                )
        except (ValueError, TrusteeError) as exc:
            raise TrusteeError(f"count report of poll {req.poll_id} not signed: {exc}") from exc
        return sign_report(group, sk, req.report)

    def _signing_key(self, group_name: Any) -> tuple[Any, Any]:
        """(group, the signing key of this scrutineer's certificate in that group)."""
        from keys.pki import derive_sk

        group, _x = self.keyfile.private_key(str(group_name))
        seed = self.keyfile.share(group.name).seed
        assert seed is not None
        return group, derive_sk(seed)


def tally_from_record(blob: bytes, election_raw: str) -> Any:
    """The encrypted tally that the ballots of a Belenios archive imply (last ballot per
    credential, weighted as in the public credentials), for the given election."""
    return record_state(blob, election_raw)[1]


def record_state(blob: bytes, election_raw: str, workers: int = 1) -> tuple[Any, Any, Any]:
    """(election, encrypted tally implied by the ballots, output of the checked chain of
    shuffles in the archive — the tally's non-homomorphic rows when there is none yet); the
    ballots parsed in ``workers`` processes."""
    from keys.group import to_str
    from tally.archive import parse_archive
    from tally.ballot_pool import parse_ballots_pooled
    from tally.credentials import parse_public_credentials
    from tally.election import parse_election
    from tally.encrypted_tally import compute_encrypted_tally, tallied_order
    from tally.shuffle import check_shuffle_chain, parse_shuffle

    archive = parse_archive(blob, "the public record")
    _setup, raw_election, _trustees, raw_creds = archive.setup()
    if raw_election != election_raw:
        raise TrusteeError("the election in the public record is not the one sent")
    election = parse_election(raw_election, allow_test_group=True)
    weights = {c.key: c.weight for c in parse_public_credentials(election.group, raw_creds)}
    raws = [raw for _event, raw in archive.ballots()]
    ballots = parse_ballots_pooled(raw_election, raws, workers)
    if any(b.credential not in weights for b in ballots):
        raise TrusteeError("the public record holds a ballot with an unlisted credential")
    chosen = tallied_order(ballots, lambda b: to_str(b.credential))
    tally = compute_encrypted_tally(election, chosen, [weights[b.credential] for b in chosen])
    shuffles = [
        (owned.owner, parse_shuffle(election.group, raw))
        for _event, owned, raw in archive.owned_items("Shuffle")
    ]
    return election, tally, check_shuffle_chain(election, tally, shuffles)


# -- command line ------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=["ceremony", "decrypt"], default="decrypt")
    parser.add_argument("--server", help="server URL (stored in the key file by the ceremony)")
    parser.add_argument("--key", type=Path, required=True, help="this scrutineer's key file")
    parser.add_argument("--token", metavar="TOKEN", help=argparse.SUPPRESS)  # refused, see run
    parser.add_argument(
        "--token-file",
        type=Path,
        help=f"file holding the scrutineer token (first line); else ${TOKEN_ENV}, else asked",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        metavar="N",
        help="processes checking the public archive's ballots before decrypting "
        "(default: min(2, CPUs))",
    )
    parser.add_argument(
        "--verbose", "-v", action="store_true", help="log connection events to stderr"
    )


def default_workers() -> int:
    """The archive check's processes: the scrutineer's own machine, up to two of its CPUs
    (as ``renda verify``)."""
    return max(1, min(2, os.cpu_count() or 1))


async def _main(args: argparse.Namespace) -> int:
    path: Path = args.key
    created = not path.exists()
    made: list[KeyFile] = []
    try:
        return await _run_scrutineer(args, path, made)
    finally:
        # a key file this run made that holds no key yet (a wrong or short token, a wrong URL
        # given up on): removed, so that the retry starts clean
        if created and path.exists() and not any(kf.has_seed for kf in made):
            with contextlib.suppress(OSError):
                path.unlink()


async def _run_scrutineer(args: argparse.Namespace, path: Path, made: list[KeyFile]) -> int:
    token = token_from(args)
    if token is not None:
        check_token(token)
    if args.action == "ceremony":
        if path.exists():
            kf = KeyFile.load(path, passphrase_from_env_or_prompt)
            if kf.shares and all(sh.finished for sh in kf.shares.values()):
                print(
                    f"renda trustee: {path} already holds a finished key in "
                    f"{', '.join(kf.shares)} (a ceremony the server starts in another group "
                    "runs while `renda trustee decrypt` is connected)",
                    file=sys.stderr,
                )
                return 1
        else:
            if not args.server:
                print("renda trustee ceremony: needs --server URL", file=sys.stderr)
                return 2
            if token is None:
                token = check_token(
                    ask_secret("监票人令牌 (scrutineer token): ", "scrutineer token", TOKEN_ENV)
                )
            passphrase = passphrase_from_env_or_prompt(confirm=True)
            kf = KeyFile(server=args.server, token=token, passphrase=passphrase)
            made.append(kf)
            kf.save(path)
    else:
        kf = KeyFile.load(path, passphrase_from_env_or_prompt)
    if args.server:
        kf.server = args.server.rstrip("/")
    if token:
        kf.token = token
    client = Scrutineer(
        path,
        kf,
        until_ceremony_done=args.action == "ceremony",
        announce=True,
        workers=args.workers,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, client.stop)
    print(f"监票人连接 (scrutineer connecting to) {kf.server} …", flush=True)
    await client.run()
    if args.action == "ceremony":
        if not client.ceremony_done.is_set():
            print("renda trustee: the ceremony did not finish", file=sys.stderr)
            return 1
        print(f"密钥仪式完成 (key ceremony done); key file {path}")
        # one fingerprint per group, as each tablet shows them (本机信息)
        print("请宣布监票人密钥指纹 (announce the trustees' fingerprints):")
        for name, share in client.keyfile.shares.items():
            print(f"  {name}: {trustees_fingerprint(share.trustees or '')}")
    for e in client.errors:
        print(f"renda trustee: {e}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.workers < 1:
        print("renda trustee: --workers must be 1 or more", file=sys.stderr)
        return 2
    if args.token is not None:
        print(
            "renda trustee: a token on the command line is visible to every user of this "
            f"machine; give it with --token-file FILE or ${TOKEN_ENV}, or type it when asked",
            file=sys.stderr,
        )
        return 2
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        return asyncio.run(_main(args))
    except TrusteeError as exc:
        print(f"renda trustee: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C before the loop's own handler is in place
        return 130
