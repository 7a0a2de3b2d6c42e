"""The signed setup of each started poll and its credentials' Merkle tree (O(N) opening).

Every kiosk of a poll gets the same ``poll_ready`` — election, trustees and the server-signed
``poll_setup`` statement (tally/poll_setup.py), whose size does not grow with the number of
voters — and asks for the inclusion proof of its own public credential (``proof_request``),
answered from the tree in O(log N). The list itself is in the archive and the public record.

The statement (SessionContext.poll_setup) is not stored: Ed25519 signatures are deterministic,
so signing the poll's setup again (after a restart) gives the same statement. Tree, statement
and message are computed once per poll and kept in memory; the proof requests of 3,000 kiosks
cost 3,000 lookups, not 3,000 trees.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from tally import messages as m
from tally.merkle import MerkleTree, credential_leaves
from tally.statements import SignedStatement
from voting.models import Poll
from voting.session import views
from voting.session.context import SessionContext
from voting.session.errors import ActionError
from voting.session.hub import server_id


@dataclass(frozen=True)
class PollSetup:
    uuid: str
    statement: SignedStatement
    tree: MerkleTree
    ready: m.PollReady  # the same poll_ready for every kiosk


class PollSetups:
    def __init__(self, ctx: SessionContext) -> None:
        self.ctx = ctx
        self._cache: dict[str, PollSetup] = {}

    def has(self, poll: Poll) -> bool:
        """Whether the poll's setup is made (:meth:`of` then reads only its id and uuid)."""
        cached = self._cache.get(poll.id)
        return cached is not None and cached.uuid == poll.uuid

    def of(self, poll: Poll) -> PollSetup:
        """The poll's signed setup (a started poll: it has its credentials)."""
        cached = self._cache.get(poll.id)
        if cached is not None and cached.uuid == poll.uuid:
            return cached
        if not (poll.uuid and poll.election and poll.trustees and poll.public_credentials):
            raise ActionError(m.ErrorCode.POLL_NOT_OPEN, f"poll {poll.id} has no ballots issued")
        statement = self.ctx.poll_setup(poll)  # signed once per poll, with the Merkle root
        ready = views.poll_ready(poll, statement)
        setup = PollSetup(
            poll.uuid, statement, MerkleTree(credential_leaves(poll.public_credentials)), ready
        )
        self._cache[poll.id] = setup
        return setup

    def ready(self, poll: Poll) -> m.PollReady:
        """The poll's ``poll_ready`` with the scrutineers' signatures of the trustees as they
        stand now (a kiosk pins the trustees only with k of them; they come in just after the
        key ceremony, so a poll started at once may have been set up before the last one)."""
        setup = self.of(poll)
        groups = self.ctx.groups
        raw = self.ctx.meta(groups.key("trustees_signatures", self.ctx.poll_group(poll)))
        signatures = [m.TrusteesSigned(**e) for e in json.loads(raw)] if raw else []
        if signatures != setup.ready.trustees_signatures:
            ready = setup.ready.model_copy(update={"trustees_signatures": signatures})
            setup = self._cache[poll.id] = replace(setup, ready=ready)
        return setup.ready

    def proof(self, poll: Poll, msg: m.ProofRequest) -> m.CredentialProof:
        """The inclusion proof of ``msg.public_credential`` (error wrong_credential if it is
        not in the poll's list)."""
        setup = self.of(poll)
        proof = setup.tree.proof_for(msg.public_credential)
        if proof is None:
            raise ActionError(
                m.ErrorCode.WRONG_CREDENTIAL, "this public credential is not in the poll's list"
            )
        return m.CredentialProof(
            id=server_id(),
            reply_to=msg.id,
            poll_id=poll.id,
            public_credential=msg.public_credential,
            index=proof.index,
            size=proof.size,
            path=list(proof.path),
        )
