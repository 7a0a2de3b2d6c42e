"""The auditor: every check ``belenios-tool election verify`` performs, and more.

:func:`verify_archive` runs an ordered list of checks over a ``.bel`` archive and returns a
:class:`VerificationReport`. It stops at the first failing check (later checks depend on it)
and its message names the failing ballot or event in plain words.

Checks, in order (those marked + are not done by belenios-tool 2.0):

1. the file is a well-formed Belenios archive (tar blocks, member names = SHA-256 of contents,
   canonical events);
2. the events form one hash chain (parent, height);
3. the file is exactly what the event chain regenerates (belenios-tool's ``fsck``);
4. + events follow the life cycle Setup, Ballot*, EndBallots, EncryptedTally, [Shuffle*,
   EndShuffles], PartialDecryption*, Result, and nothing comes after the Result;
5. the setup data, the election, + its hashes (election fingerprint, setup hashes);
6. the trustees: proofs of knowledge, Pedersen certificates, coefficients and verification keys;
7. the election public key is the product of the trustees' keys;
8. the public credentials: valid group elements, no duplicates, weights;
9. every ballot: canonical form, election uuid and hash, a listed credential, proofs and
   signature (in a process pool);
10. the tallied ballots ``last(B)`` (+ one per credential, + num_tallied and total_weight);
11. + the stored encrypted tally equals the one recomputed from the tallied ballots;
12. the shuffles (non-homomorphic questions), when there are any;
13. every partial decryption: a known trustee, + only one per trustee, valid proofs;
14. the result: the combined decryption of the encrypted tally, + stored exactly as computed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keys.elgamal import Ciphertext
from keys.embedding import group_decode
from keys.group import GroupError, parse_natural, to_str
from keys.hashing import hjson
from tally.archive import (
    MAX_ARCHIVE_SIZE,
    Archive,
    ArchiveError,
    check_canonical_layout,
    find_archive,
    parse_archive,
)
from tally.ballot import check_ballot_raw
from tally.credentials import parse_public_credentials
from tally.decryption import (
    PartialDecryption,
    combine_factors,
    parse_partial_decryption,
    partial_decryption_error,
)
from tally.election import parse_election
from tally.encrypted_tally import (
    EncryptedTally,
    TallyInput,
    parse_encrypted_tally,
    question_sizes,
    serialize_encrypted_tally,
    tally_choices,
)
from tally.errors import RecordError
from tally.events import (
    check_chain,
    check_sequence,
    load_json,
    parse_setup_data,
)
from tally.progress import progress
from tally.result import decrypt_with_factors, parse_result
from tally.shuffle import check_shuffle, merge_nh, nh_ciphertexts, parse_shuffle
from tally.trustees import (
    SingleTrustee,
    check_trustees,
    combined_public_key,
    parse_trustees,
    trustee_slots,
)
from tally.workers import worker_pool

# -- the report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One check and its outcome: ``"pass"``, ``"fail"``, ``"skip"`` (not applicable yet) or
    ``"not run"`` (an earlier check failed)."""

    name: str
    status: str
    detail: str = ""
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status == "fail"


@dataclass
class VerificationReport:
    source: str
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # what the archive is, as far as it could be read (a refusal names it)
    archive_file: str = ""
    election_name: str = ""
    uuid: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.checks) and not any(c.status in ("fail", "not run") for c in self.checks)

    @property
    def first_failure(self) -> Check | None:
        return next((c for c in self.checks if c.failed), None)


class _Skip(Exception):
    """A check that does not apply (yet) to this archive; the message says why."""


# -- ballot checking in worker processes --------------------------------------------------------


def _check_ballots_chunk(
    election_raw: str, allow_test_group: bool, ballots: Sequence[str]
) -> list[str | None]:
    """Check ballots' proofs and signatures; one error message (or None) per ballot."""
    out: list[str | None] = []
    for raw in ballots:
        try:
            out.append(check_ballot_raw(election_raw, raw, allow_test_group))
        except Exception as exc:  # a checker bug must refuse the ballot, not crash
            out.append(f"could not be checked ({type(exc).__name__}: {exc})")
    return out


def _chunks(items: Sequence[str], parts: int) -> list[list[str]]:
    size = max(1, -(-len(items) // parts))
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


# -- the verifier ----------------------------------------------------------------------------


@dataclass
class _State:
    blob: bytes = b""
    archive: Archive | None = None
    election_raw: str = ""
    election: Any = None  # the parsed Election, after check 5
    trustees: Any = None  # the parsed Trustees, after check 6
    credentials: dict[str, int] = field(default_factory=dict)
    ballots: list[tuple[int, Any, str, dict[str, Any]]] = field(default_factory=list)
    tallied: list[tuple[int, Any, str, dict[str, Any]]] = field(default_factory=list)
    total_weight: int = 0
    tally: EncryptedTally = ()
    decrypted_tally: EncryptedTally = ()  # after shuffles are merged in
    partials: dict[int, PartialDecryption] = field(default_factory=dict)


class Verifier:
    """Runs the checks in order; see the module docstring."""

    def __init__(
        self,
        source: str | os.PathLike[str],
        *,
        workers: int = 2,
        allow_test_group: bool = False,
        on_check: Callable[[Check], None] | None = None,
        previous: str | os.PathLike[str] | None = None,
    ) -> None:
        self.source = source
        self.previous = previous
        self.workers = workers
        self.allow_test_group = allow_test_group
        self.on_check = on_check
        self.s = _State()
        self.warnings: list[str] = []

    def run(self) -> VerificationReport:
        steps: list[tuple[str, Callable[[], str]]] = [
            ("archive file is a well-formed Belenios archive", self._read),
            ("events form one hash chain (parent, height)", self._chain),
            ("archive is exactly what its event chain regenerates", self._layout),
            ("events follow the election's life cycle, nothing after the Result", self._sequence),
            *(
                [("the earlier copy is a prefix of this record (nothing removed)", self._prefix)]
                if self.previous is not None
                else []
            ),
            ("setup data and election parameters", self._setup),
            ("trustees' proofs and threshold parameters", self._trustees),
            ("election public key is the product of the trustees' keys", self._public_key),
            ("public credentials (group elements, no duplicates, weights)", self._credentials),
            ("ballots: canonical, listed credential, proofs and signature", self._ballots),
            ("tallied ballots: last ballot per credential, count and weight", self._tallied),
            ("stored encrypted tally equals the one recomputed from the ballots", self._tally),
            ("shuffles of non-homomorphic questions", self._shuffles),
            ("partial decryptions: known trustees, one each, valid proofs", self._partials),
            ("result is the decryption of the encrypted tally", self._result),
        ]
        report = VerificationReport(str(self.source))
        failed = False
        for name, step in steps:
            if failed:
                check = Check(name, "not run", "an earlier check failed")
            else:
                start = time.perf_counter()
                try:
                    detail = step()
                    status = "pass"
                except _Skip as exc:
                    detail, status = str(exc), "skip"
                except (RecordError, GroupError) as exc:
                    detail, status = str(exc), "fail"
                except (ValueError, KeyError, IndexError, TypeError) as exc:
                    # A parser of another module that let a low-level error through: still a
                    # refusal of the archive, with what we know.
                    detail, status = f"malformed data ({type(exc).__name__}: {exc})", "fail"
                except Exception as exc:  # never accept, never crash: report and stop
                    detail = f"could not be checked ({type(exc).__name__}: {exc})"
                    status = "fail"
                check = Check(name, status, detail, time.perf_counter() - start)
                failed = status == "fail"
            report.checks.append(check)
            if self.on_check is not None:
                self.on_check(check)
        if self.s.archive is not None:
            report.archive_file = Path(str(self.s.archive.source)).name
        if self.s.election is not None:
            report.election_name, report.uuid = self.s.election.name, self.s.election.uuid
        return report

    # -- 1-4: the file and its events ---------------------------------------------------------

    def _read(self) -> str:
        file = find_archive(self.source)
        import stat

        try:
            st = file.stat()
            if not stat.S_ISREG(st.st_mode):
                raise ArchiveError(f"{file} is not a regular file")
            if st.st_size > MAX_ARCHIVE_SIZE:
                raise ArchiveError(f"{file} is larger than any Belenios archive renda reads")
            with open(file, "rb") as fh:
                self.s.blob = fh.read(st.st_size + 1)
        except OSError as exc:
            raise ArchiveError(f"cannot read {file}: {exc.strerror}") from None
        self.s.archive = parse_archive(self.s.blob, str(file))
        a = self.s.archive
        return f"{file.name}: {len(a.members)} members, {len(a.events)} events, {a.size} bytes"

    @property
    def a(self) -> Archive:
        assert self.s.archive is not None
        return self.s.archive

    def _chain(self) -> str:
        if not self.a.events:
            raise RecordError("the archive has no events")
        check_chain(self.a.events)
        last = self.a.events[-1]
        return f"{len(self.a.events)} events, last: {last.type} at height {last.height}"

    def _layout(self) -> str:
        check_canonical_layout(self.a, self.s.blob)
        return "identical, byte for byte"

    def _sequence(self) -> str:
        check_sequence(self.a.events)
        return " → ".join(_summarize_types([e.type for e in self.a.events]))

    def _prefix(self) -> str:
        """Spec §3.5.1 step 2, as ``belenios-tool election verify-diff``."""
        assert self.previous is not None
        file = find_archive(self.previous)
        blob = file.read_bytes() if file.is_file() else b""
        try:
            earlier = parse_archive(blob, str(file))
            check_chain(earlier.events)
            check_canonical_layout(earlier, blob)
        except RecordError as exc:
            raise RecordError(f"the earlier copy {file.name} is itself invalid: {exc}") from None
        if earlier.timestamp != self.a.timestamp:
            raise RecordError("the earlier copy has another timestamp: not the same archive")
        before = [(m.kind, m.hash) for m in earlier.members]
        now = [(m.kind, m.hash) for m in self.a.members]
        if now[: len(before)] != before:
            where = next(
                (i for i, (x, y) in enumerate(zip(before, now, strict=False)) if x != y),
                min(len(before), len(now)),
            )
            raise RecordError(
                f"the earlier copy is not a prefix of this record: member #{where + 1} of the "
                "earlier copy was removed or changed"
            )
        return f"{len(before)} earlier member(s) kept, {len(now) - len(before)} added"

    # -- 5-8: setup -----------------------------------------------------------------------------

    def _setup(self) -> str:
        setup_event = self.a.events[0]
        setup = parse_setup_data(self.a.payload(setup_event))
        self.s.election_raw = self.a.get(setup.election, "the election")
        election = parse_election(self.s.election_raw, allow_test_group=self.allow_test_group)
        self.s.election = election
        if hjson(self.s.election_raw) != election.fingerprint:
            raise RecordError("the election fingerprint does not match the election text")
        if Path(str(self.a.source)).suffix == ".bel":
            stem = Path(str(self.a.source)).stem
            if stem != election.uuid:
                self.warnings.append(f"the file name {stem}.bel differs from the election uuid")
        return (
            f"uuid {election.uuid}, group {election.group.name}, "
            f"{len(election.questions)} question(s), fingerprint {election.fingerprint}"
        )

    def _trustees(self) -> str:
        setup = parse_setup_data(self.a.payload(self.a.events[0]))
        raw = self.a.get(setup.trustees, "the trustees")
        group = self.s.election.group
        trustees = parse_trustees(group, raw)
        check_trustees(group, trustees)
        self.s.trustees = trustees
        kinds = []
        for item in trustees:
            if isinstance(item, SingleTrustee):
                kinds.append("single")
            else:
                kinds.append(f"{item.threshold}-of-{item.size} threshold")
        return f"{len(trustee_slots(trustees))} trustee key(s): " + ", ".join(kinds)

    def _public_key(self) -> str:
        y = combined_public_key(self.s.election.group, self.s.trustees)
        if y != self.s.election.public_key:
            raise RecordError(
                "the election's public key is not the product of the trustees' public keys"
            )
        return "matches"

    def _credentials(self) -> str:
        setup = parse_setup_data(self.a.payload(self.a.events[0]))
        raw = self.a.get(setup.credentials, "the public credentials")
        creds = parse_public_credentials(self.s.election.group, raw)
        table: dict[str, int] = {}
        for cred in creds:
            key = to_str(cred.key)
            if key in table:
                raise RecordError(f"the public credential {key[:20]}… is listed twice")
            table[key] = int(cred.weight)
        self.s.credentials = table
        total = sum(table.values())
        return f"{len(table)} credential(s), total weight {total}"

    # -- 9-11: ballots and tally ------------------------------------------------------------

    def _ballots(self) -> str:
        ballots = self.a.ballots()
        if not ballots:
            self.s.ballots = []
            return "no ballots"
        # Cheap structural checks here; proofs and signatures in the pool meanwhile.
        raws = [raw for _, raw in ballots]
        futures = []
        executor: Executor | None = None
        inline = self.workers <= 1 or len(raws) < 8
        if not inline:
            executor = worker_pool(self.workers)
            for chunk in _chunks(raws, self.workers * 4):
                futures.append(
                    executor.submit(
                        _check_ballots_chunk, self.s.election_raw, self.allow_test_group, chunk
                    )
                )
        try:
            parsed: list[tuple[int, Any, str, dict[str, Any]]] = []
            for n, (event, raw) in enumerate(ballots, start=1):
                where = _ballot_name(n, event, raw)
                try:
                    try:  # fast path; strictness (canonical form) is the workers' job
                        obj = json.loads(raw)
                    except ValueError:
                        obj = load_json(raw, "ballot")  # raises with a plain message
                    if not isinstance(obj, dict) or not isinstance(obj.get("credential"), str):
                        raise RecordError("the ballot has no credential")
                except RecordError as exc:
                    raise RecordError(f"{where}: {exc}") from None
                if obj["credential"] not in self.s.credentials:
                    raise RecordError(
                        f"{where} is signed with a credential that is not in the public "
                        "credential list"
                    )
                parsed.append((n, event, raw, obj))
            with progress(len(raws), "核验选票 (checking ballots)") as advance:
                if inline:
                    errors = _check_ballots_chunk(self.s.election_raw, self.allow_test_group, raws)
                    advance(len(raws))
                else:
                    for done in as_completed(futures):
                        advance(len(done.result()))
                    errors = [e for f in futures for e in f.result()]
        finally:
            if executor is not None:
                executor.shutdown(cancel_futures=True)
        bad = [(n, e) for n, e in enumerate(errors, start=1) if e is not None]
        if bad:
            n, message = bad[0]
            event, raw = ballots[n - 1]
            more = f" ({len(bad) - 1} other ballot(s) fail too)" if len(bad) > 1 else ""
            raise RecordError(f"{_ballot_name(n, event, raw)} is invalid: {message}{more}")
        self.s.ballots = parsed
        return f"{len(parsed)} ballot(s), all valid"

    def _tallied(self) -> str:
        chosen: dict[str, tuple[int, Any, str, dict[str, Any]]] = {}
        for item in self.s.ballots:
            chosen[item[3]["credential"]] = item
        self.s.tallied = [chosen[c] for c in sorted(chosen, reverse=True)]
        self.s.total_weight = sum(self.s.credentials[c] for c in chosen)
        replaced = len(self.s.ballots) - len(chosen)
        extra = f" ({replaced} earlier ballot(s) replaced by a later one)" if replaced else ""
        return f"{len(chosen)} tallied ballot(s), total weight {self.s.total_weight}{extra}"

    def _recompute_tally(self) -> EncryptedTally:
        group = self.s.election.group
        kinds, sizes = question_sizes(self.s.election)
        inputs = []
        for n, event, raw, obj in self.s.tallied:
            try:
                answers = obj["answers"]
                if not isinstance(answers, list) or len(answers) != len(kinds):
                    raise RecordError("wrong number of answers")
                choices = []
                for answer, is_h in zip(answers, kinds, strict=True):
                    cts = answer["choices"]
                    cts = cts if is_h else [cts]
                    choices.append(tuple(_ciphertext(c) for c in cts))
            except (RecordError, GroupError, KeyError, TypeError) as exc:
                raise RecordError(
                    f"{_ballot_name(n, event, raw)}: malformed answers ({exc})"
                ) from None
            inputs.append(TallyInput(self.s.credentials[obj["credential"]], tuple(choices)))
        return tally_choices(group, kinds, sizes, inputs)

    def _tally(self) -> str:
        stored = self.a.sized_encrypted_tally()
        recomputed = self._recompute_tally()
        self.s.tally = recomputed
        self.s.decrypted_tally = recomputed
        if stored is None:
            raise _Skip("no EncryptedTally event yet (voting not closed)")
        event, sized, raw = stored
        n = len(self.s.tallied)
        if sized.num_tallied != n:
            raise RecordError(
                f"the {event.describe()} says {sized.num_tallied} ballot(s) were tallied, "
                f"but the ballots give {n}"
            )
        if sized.total_weight != self.s.total_weight:
            raise RecordError(
                f"the {event.describe()} says the total weight is {sized.total_weight}, "
                f"but the tallied ballots weigh {self.s.total_weight}"
            )
        expected = serialize_encrypted_tally(recomputed)
        if raw != expected:
            where = _first_difference(self.s.election.group, raw, recomputed)
            raise RecordError(
                f"the stored encrypted tally differs from the one recomputed from the {n} "
                f"tallied ballot(s){where}"
            )
        return f"{n} ballot(s), total weight {sized.total_weight}, identical"

    # -- 12-14: shuffles, decryptions, result -------------------------------------------------

    def _has_nh(self) -> bool:
        kinds, _ = question_sizes(self.s.election)
        return not all(kinds)

    def _shuffles(self) -> str:
        shuffles = self.a.owned_items("Shuffle")
        if not shuffles:
            if self._has_nh() and self.a.events_of("PartialDecryption"):
                raise RecordError(
                    "the election has non-homomorphic questions but its ballots were "
                    "decrypted without any shuffle"
                )
            raise _Skip(
                "no shuffles (no non-homomorphic question)"
                if not self._has_nh()
                else "no shuffles yet"
            )
        if not self._has_nh():
            raise RecordError("the archive has Shuffle events but no non-homomorphic question")
        election = self.s.election
        group = election.group
        current = nh_ciphertexts(election, self.s.tally)
        seen: set[int] = set()
        # Shuffle proofs split their multi-exponentiations over a pool (tally.shuffle, by E).
        pool: Executor | None = None
        if self.workers > 1 and sum(len(row) for row in current) >= 32:
            pool = worker_pool(self.workers)
        try:
            with progress(len(shuffles), "核验混洗 (checking shuffles)", "shuffle") as advance:
                for k, (event, owned, raw) in enumerate(shuffles, start=1):
                    if owned.owner in seen:
                        raise RecordError(
                            f"shuffle #{k}, {event.describe()}: trustee {owned.owner} "
                            "already shuffled"
                        )
                    seen.add(owned.owner)
                    try:
                        shuffle = parse_shuffle(group, raw)
                        check_shuffle(election, current, shuffle, executor=pool)
                    except (RecordError, GroupError, ValueError) as exc:
                        raise RecordError(
                            f"shuffle #{k} by trustee {owned.owner}, {event.describe()}, "
                            f"is invalid: {exc}"
                        ) from None
                    current = shuffle.ciphertexts
                    advance(1)
        finally:
            if pool is not None:
                pool.shutdown()
        self.s.decrypted_tally = merge_nh(election, self.s.tally, current)
        return f"{len(shuffles)} shuffle(s), all valid"

    def _partials(self) -> str:
        items = self.a.owned_items("PartialDecryption")
        if not items:
            raise _Skip("no partial decryptions yet")
        if self.a.sized_encrypted_tally() is None:
            raise RecordError("partial decryptions without an encrypted tally")
        slots = {slot.owner: slot for slot in trustee_slots(self.s.trustees)}
        election = self.s.election
        for event, owned, raw in items:
            who = f"the partial decryption of trustee {owned.owner}, {event.describe()},"
            slot = slots.get(owned.owner)
            if slot is None:
                raise RecordError(
                    f"{who}: there is no trustee {owned.owner} (trustees are 1..{len(slots)})"
                )
            if owned.owner in self.s.partials:
                raise RecordError(f"{who}: trustee {owned.owner} already gave one")
            try:
                pd = parse_partial_decryption(election.group, raw)
                problem = partial_decryption_error(
                    election.group,
                    election.fingerprint,
                    slot.key.public_key,
                    self.s.decrypted_tally,
                    pd,
                )
            except (RecordError, GroupError, ValueError) as exc:
                raise RecordError(f"{who} is invalid: {exc}") from None
            if problem is not None:
                raise RecordError(f"{who} is invalid: {problem}")
            self.s.partials[owned.owner] = pd
        return f"{len(items)} partial decryption(s) from trustee(s) " + ", ".join(
            str(o) for o in sorted(self.s.partials)
        )

    def _result(self) -> str:
        found = self.a.result()
        if found is None:
            raise _Skip("no Result event yet")
        _event, raw = found
        if not self.s.partials:
            raise RecordError("the result has no partial decryptions to rest on")
        election = self.s.election
        group = election.group
        try:
            factors = combine_factors(group, self.s.trustees, self.s.partials)
        except (RecordError, ValueError) as exc:
            raise RecordError(f"the partial decryptions cannot be combined: {exc}") from None
        stored = parse_result(election, raw)
        tally = self.s.decrypted_tally
        plain = decrypt_with_factors(group, tally, factors)
        kinds, _ = question_sizes(election)
        for i, (is_h, row, values) in enumerate(zip(kinds, plain, stored.result, strict=True)):
            if len(values) != len(row):
                raise RecordError(
                    f"the result of question {i + 1} has {len(values)} entries, the encrypted "
                    f"tally {len(row)}"
                )
            entries: tuple[Any, ...] = values  # counts (homomorphic) or ballots
            for j, (m, v) in enumerate(zip(row, entries, strict=True)):
                if is_h:
                    if not isinstance(v, int) or not 0 <= v <= self.s.total_weight:
                        raise RecordError(
                            f"the result of question {i + 1}, answer {j + 1} is {v}, outside "
                            f"0..{self.s.total_weight} (the total weight)"
                        )
                    if group.g_pow(v) != m:
                        raise RecordError(
                            f"the result of question {i + 1}, answer {j + 1} is {v}, but the "
                            "decryption of the encrypted tally gives another number"
                        )
                else:
                    n_answers = len(election.questions[i].answers)
                    try:
                        decoded = tuple(group_decode(group, m, n_answers))
                    except (ValueError, GroupError) as exc:
                        raise RecordError(
                            f"ballot {j + 1} of question {i + 1} does not decrypt to a valid "
                            f"vote: {exc}"
                        ) from None
                    if isinstance(v, int) or tuple(v) != decoded:
                        shown = v if isinstance(v, int) else list(v)
                        raise RecordError(
                            f"the result of question {i + 1}, ballot {j + 1} is {shown}, but "
                            f"the decryption gives {list(decoded)}"
                        )
        if stored.serialize() != raw:
            raise RecordError(
                "the result has the right numbers but is not stored in Belenios's canonical "
                "serialization"
            )
        return "every count matches the combined decryption"


def verify_archive(
    path: str | os.PathLike[str],
    *,
    workers: int = 2,
    allow_test_group: bool = False,
    on_check: Callable[[Check], None] | None = None,
    previous: str | os.PathLike[str] | None = None,
) -> VerificationReport:
    """Verify an archive (a ``.bel`` file, or a directory holding exactly one); with
    ``previous``, also that an earlier copy of it is a prefix (nothing was removed)."""
    verifier = Verifier(
        path,
        workers=workers,
        allow_test_group=allow_test_group,
        on_check=on_check,
        previous=previous,
    )
    report = verifier.run()
    report.warnings.extend(verifier.warnings)
    return report


# -- helpers -----------------------------------------------------------------------------------


def _ciphertext(obj: Any) -> Ciphertext:
    if not isinstance(obj, dict) or set(obj) != {"alpha", "beta"}:
        raise RecordError("a ciphertext must be an object with alpha and beta")
    return Ciphertext(parse_natural(obj["alpha"], "alpha"), parse_natural(obj["beta"], "beta"))


def _ballot_name(n: int, event: Any, raw: str) -> str:
    return f"ballot #{n} (tracker {hjson(raw)}, Ballot event at height {event.height})"


def _first_difference(group: Any, raw: str, recomputed: EncryptedTally) -> str:
    try:
        stored = parse_encrypted_tally(group, raw, check_members=False)
    except RecordError as exc:
        return f" (it is malformed: {exc})"
    if len(stored) != len(recomputed):
        return f" (it has {len(stored)} question(s) instead of {len(recomputed)})"
    for i, (a, b) in enumerate(zip(stored, recomputed, strict=True)):
        if len(a) != len(b):
            return f" (question {i + 1} has {len(a)} ciphertext(s) instead of {len(b)})"
        for j, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return f" (first difference: question {i + 1}, ciphertext {j + 1})"
    return " (same numbers, different serialization)"


def _summarize_types(types: Sequence[str]) -> list[str]:
    out: list[str] = []
    for t in types:
        if out and out[-1].split(" ×")[0] == t:
            _head, _, count = out[-1].partition(" ×")
            out[-1] = f"{t} ×{int(count or '1') + 1}"
        else:
            out.append(t)
    return out


__all__ = ["Check", "VerificationReport", "Verifier", "verify_archive"]
