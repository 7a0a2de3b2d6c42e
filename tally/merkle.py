"""A Merkle tree over a poll's list of public credentials (RFC 9162 §2.1, Certificate
Transparency's tree), so that a kiosk checks that its own credential is in the list with a
proof of ``log2(N)`` hashes instead of receiving all N credentials.

The leaves are the items of ``public_creds.json`` in their published order (sorted by value,
spec §4.8), each as its UTF-8 text (``"<credential>"`` or ``"<credential>,<weight>"``):

- ``MTH({}) = SHA-256()``;
- leaf hash ``SHA-256(0x00 || leaf)``, node hash ``SHA-256(0x01 || left || right)``;
- for n > 1 leaves, the left subtree holds the first ``k`` leaves, ``k`` the largest power of
  two below ``n``.

The root is written in lower-case hex. An inclusion proof is the audit path of RFC 9162
§2.1.3.1 (hex hashes, leaf to root); :func:`verify_inclusion` is the check of §2.1.3.2. The
server signs the root with the poll's setup; an auditor recomputes it from the list in the
record (:func:`root_of_credentials`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tally.errors import RecordError
from tally.json_format import parse_json

HASH_HEX = re.compile(r"[0-9a-f]{64}\Z")
MAX_PATH = 64  # a tree of at most 2**64 leaves


def leaf_hash(leaf: str) -> bytes:
    return hashlib.sha256(b"\x00" + leaf.encode("utf-8")).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaves: Sequence[str]) -> str:
    """MTH of the leaves, in hex."""
    return MerkleTree(leaves).root


@dataclass(frozen=True)
class InclusionProof:
    """That the leaf at ``index`` is in a tree of ``size`` leaves: the audit path."""

    index: int
    size: int
    path: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"index": self.index, "size": self.size, "path": list(self.path)}


def inclusion_proof(leaves: Sequence[str], index: int) -> InclusionProof:
    """The audit path of leaf ``index`` (RFC 9162 §2.1.3.1)."""
    return MerkleTree(leaves).proof(index)


class MerkleTree:
    """The levels of a tree, kept to answer many inclusion proofs (one per kiosk) in
    O(log N) each instead of rehashing the whole list.

    Built bottom-up: neighbours are paired and an odd last node is carried up unchanged, which
    is the same tree as RFC 9162's recursive split at the largest power of two."""

    def __init__(self, leaves: Sequence[str]) -> None:
        self.size = len(leaves)
        self.index = {leaf: i for i, leaf in enumerate(leaves)}
        level = [leaf_hash(x) for x in leaves]
        self.levels = [level]
        while len(level) > 1:
            nxt = [node_hash(level[j], level[j + 1]) for j in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            self.levels.append(nxt)
            level = nxt

    @property
    def root(self) -> str:
        return self.levels[-1][0].hex() if self.size else hashlib.sha256(b"").hexdigest()

    def proof(self, index: int) -> InclusionProof:
        if not 0 <= index < self.size:
            raise ValueError(f"leaf {index} is not in a tree of {self.size}")
        path: list[str] = []
        i = index
        for level in self.levels[:-1]:
            if (i ^ 1) < len(level):
                path.append(level[i ^ 1].hex())
            i //= 2
        return InclusionProof(index, self.size, tuple(path))

    def proof_for(self, leaf: str) -> InclusionProof | None:
        i = self.index.get(leaf)
        return None if i is None else self.proof(i)


def verify_inclusion(leaf: str, proof: InclusionProof, root: str, size: int) -> bool:
    """RFC 9162 §2.1.3.2: True if ``proof`` shows ``leaf`` at ``proof.index`` in the tree of
    ``size`` leaves whose root is ``root``.

    ``size`` is the signed size (as in a Certificate Transparency tree head): a proof's own
    size is not bound by the hashes (index 0 of 3 and of 4 leaves have paths of one shape)."""
    if proof.size != size or not 0 <= proof.index < proof.size or len(proof.path) > MAX_PATH:
        return False
    if not HASH_HEX.match(root) or not all(HASH_HEX.match(p) for p in proof.path):
        return False
    fn, sn = proof.index, proof.size - 1
    r = leaf_hash(leaf)
    for p in proof.path:
        if sn == 0:
            return False
        h = bytes.fromhex(p)
        if fn & 1 or fn == sn:
            r = node_hash(h, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, h)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r.hex() == root


def parse_inclusion_proof(data: object) -> InclusionProof:
    """Strict parser of ``{"index": i, "size": n, "path": [hex, ...]}``."""
    if not isinstance(data, dict) or set(data) != {"index", "size", "path"}:
        raise RecordError("an inclusion proof has exactly index, size and path")
    index, size, path = data["index"], data["size"], data["path"]
    if type(index) is not int or type(size) is not int or not 0 <= index < size < 2**MAX_PATH:
        raise RecordError("an inclusion proof's index and size are 0 <= index < size")
    if not isinstance(path, list) or len(path) > MAX_PATH:
        raise RecordError(f"an inclusion proof's path is a list of at most {MAX_PATH} hashes")
    if not all(isinstance(p, str) and HASH_HEX.match(p) for p in path):
        raise RecordError("an inclusion proof's path holds lower-case hex SHA-256 hashes")
    return InclusionProof(index, size, tuple(path))


def credential_leaves(public_credentials_raw: str) -> list[str]:
    """The leaves of a ``public_creds.json`` text: its items, in order."""
    items = parse_json(public_credentials_raw, "public credentials")
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise RecordError("public credentials must be a JSON list of strings")
    return list(items)


def root_of_credentials(public_credentials_raw: str) -> str:
    """The Merkle root of a ``public_creds.json`` text (what an auditor recomputes)."""
    return merkle_root(credential_leaves(public_credentials_raw))
