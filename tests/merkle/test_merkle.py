"""The credentials' Merkle tree (tally/merkle.py): RFC 9162 test vectors, and for any list and
leaf, a proof that checks, and no tampered proof, leaf, size or root that does."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.errors import RecordError
from tally.merkle import (
    InclusionProof,
    MerkleTree,
    inclusion_proof,
    leaf_hash,
    merkle_root,
    node_hash,
    parse_inclusion_proof,
    root_of_credentials,
    verify_inclusion,
)

# Certificate Transparency's reference vectors (RFC 6962 trees of the first n of 8 leaves).
CT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
             "606162636465666768696a6b6c6d6e6f"]  # fmt: skip
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _recursive_root(leaves: list[str]) -> bytes:
    """RFC 9162 §2.1.1 as written: split at the largest power of two below n."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(_recursive_root(leaves[:k]), _recursive_root(leaves[k:]))


def test_certificate_transparency_vectors() -> None:
    leaves = [bytes.fromhex(x).decode("ascii") for x in CT_LEAVES]
    for n in range(1, 9):
        assert merkle_root(leaves[:n]) == CT_ROOTS[n - 1]
    assert merkle_root([]) == hashlib.sha256(b"").hexdigest()


leaf_lists = st.lists(st.text(max_size=12), min_size=1, max_size=70, unique=True)


@settings(deadline=None)
@given(leaf_lists)
def test_root_is_the_recursive_definition(leaves: list[str]) -> None:
    assert merkle_root(leaves) == _recursive_root(leaves).hex()


@settings(deadline=None)
@given(leaf_lists, st.data())
def test_every_leaf_has_a_proof_that_checks(leaves: list[str], data: st.DataObject) -> None:
    tree = MerkleTree(leaves)
    i = data.draw(st.integers(0, len(leaves) - 1))
    proof = tree.proof(i)
    assert proof == inclusion_proof(leaves, i)
    assert tree.proof_for(leaves[i]) == proof
    assert len(proof.path) <= max(1, len(leaves) - 1).bit_length()
    assert verify_inclusion(leaves[i], proof, tree.root, len(leaves))
    assert parse_inclusion_proof(json.loads(json.dumps(proof.to_json()))) == proof


@settings(deadline=None)
@given(leaf_lists, st.data())
def test_no_tampered_proof_checks(leaves: list[str], data: st.DataObject) -> None:
    tree = MerkleTree(leaves)
    i = data.draw(st.integers(0, len(leaves) - 1))
    proof = tree.proof(i)
    root, n = tree.root, len(leaves)
    other = data.draw(st.text(max_size=12).filter(lambda x: x != leaves[i]))
    assert not verify_inclusion(other, proof, root, n)  # a leaf that is not there
    wrong_root = data.draw(st.sampled_from("0123456789abcdef")) * 64
    if wrong_root != root:
        assert not verify_inclusion(leaves[i], proof, wrong_root, n)
    for j in range(len(leaves)):  # the proof of one position does not prove another
        if j != i and leaves[j] != leaves[i]:
            assert not verify_inclusion(leaves[j], proof, root, n)
    for size in {proof.size - 1, proof.size + 1, 2 * proof.size}:
        if size > proof.index:
            moved = InclusionProof(proof.index, size, proof.path)
            assert not verify_inclusion(leaves[i], moved, root, n)
    for index in {proof.index - 1, proof.index + 1}:
        if 0 <= index < proof.size:
            moved = InclusionProof(index, proof.size, proof.path)
            assert not verify_inclusion(leaves[i], moved, root, n)
    if proof.path:
        k = data.draw(st.integers(0, len(proof.path) - 1))
        flipped = list(proof.path)
        flipped[k] = ("1" if flipped[k][0] != "1" else "2") + flipped[k][1:]
        assert not verify_inclusion(
            leaves[i], InclusionProof(i, proof.size, tuple(flipped)), root, n
        )
        shorter = InclusionProof(i, proof.size, proof.path[:-1])
        assert not verify_inclusion(leaves[i], shorter, root, n)
    longer = InclusionProof(i, proof.size, (*proof.path, "0" * 64))
    assert not verify_inclusion(leaves[i], longer, root, n)


def test_an_inner_node_is_not_a_leaf() -> None:
    """Leaves and nodes are hashed apart (0x00 / 0x01): no second-preimage by a node."""
    leaves = ["a", "b", "c", "d"]
    ab = node_hash(leaf_hash("a"), leaf_hash("b"))
    forged = InclusionProof(0, 2, (node_hash(leaf_hash("c"), leaf_hash("d")).hex(),))
    assert not verify_inclusion(ab.hex(), forged, merkle_root(leaves), 2)
    assert not verify_inclusion(ab.hex(), forged, merkle_root(leaves), 4)


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"index": 0, "size": 1},
        {"index": 0, "size": 1, "path": [], "x": 1},
        {"index": 1, "size": 1, "path": []},
        {"index": -1, "size": 1, "path": []},
        {"index": True, "size": 2, "path": []},
        {"index": 0, "size": 2, "path": ["AB" * 32]},
        {"index": 0, "size": 2, "path": ["ab"]},
        {"index": 0, "size": 2, "path": ["00" * 32] * 65},
    ],
)
def test_strict_proof_parser(data: object) -> None:
    with pytest.raises(RecordError):
        parse_inclusion_proof(data)


def test_root_of_a_credentials_file() -> None:
    raw = json.dumps(["12", "345", "6789"])
    assert root_of_credentials(raw) == merkle_root(["12", "345", "6789"])
    with pytest.raises(RecordError):
        root_of_credentials('{"a": 1}')
