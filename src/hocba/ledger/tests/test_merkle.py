"""Merkle hashing and proofs against independent vectors, plus property tests.

The vectors are the certificate-transparency reference test data: leaves and roots from
google/certificate-transparency ``cpp/merkletree/merkle_tree_test.cc``, as republished in
transparency-dev/merkle ``testonly/constants.go`` (RootHashes, NodeHashes) and
``proof/verify_test.go`` (inclusionProofs, consistencyProofs; 1-based leaf numbers there,
0-based indices here). They were computed by those projects, not by this code.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hocba.ledger import merkle

LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
H96 = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
H5F = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
H6B = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
HBC = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
HCA = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
HD3 = "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
H0E = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
H6E = ROOTS[1]
HFA = ROOTS[2]
INCLUSION = [  # (index, size, proof)
    (0, 1, []),
    (0, 8, [H96, H5F, H6B]),
    (5, 8, [HBC, HCA, HD3]),
    (2, 3, [HFA]),
    (1, 5, [H6E, H5F, HBC]),
]
CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (1, 8, [H96, H5F, H6B]),
    (6, 8, [H0E, HCA, HD3]),
    (2, 5, [H5F, HBC]),
]


def _tree(count: int = 8) -> merkle.MemoryTree:
    return merkle.MemoryTree([merkle.leaf_hash(leaf) for leaf in LEAVES[:count]])


def test_hasher_vectors() -> None:
    # transparency-dev/merkle rfc6962/rfc6962_test.go
    assert merkle.leaf_hash(b"L123456").hex() == (
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert merkle.node_hash(b"N123", b"N456").hex() == (
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


@pytest.mark.parametrize("size", range(9))
def test_roots_match_reference(size: int) -> None:
    assert _tree().root(size).hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_vectors(index: int, size: int, proof: list[str]) -> None:
    tree = _tree()
    generated = merkle.inclusion_proof(index, size, tree.subtree)
    assert [h.hex() for h in generated] == proof
    root = bytes.fromhex(ROOTS[size])
    leaf = merkle.leaf_hash(LEAVES[index])
    hashes = [bytes.fromhex(h) for h in proof]
    assert merkle.verify_inclusion(leaf, index, size, hashes, root)
    assert not merkle.verify_inclusion(leaf, index, size * 2, hashes, root)
    assert not merkle.verify_inclusion(leaf, index, size, [*hashes, root], root)
    assert not merkle.verify_inclusion(merkle.leaf_hash(b"x"), index, size, hashes, root)


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_vectors(old: int, new: int, proof: list[str]) -> None:
    tree = _tree()
    assert [h.hex() for h in merkle.consistency_proof(old, new, tree.subtree)] == proof
    hashes = [bytes.fromhex(h) for h in proof]
    old_root, new_root = bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new])
    assert merkle.verify_consistency(old, new, hashes, old_root, new_root)
    if hashes:
        assert not merkle.verify_consistency(old, new, hashes[:-1], old_root, new_root)
        assert not merkle.verify_consistency(old, new, hashes, new_root, new_root)


def test_bad_arguments() -> None:
    tree = _tree()
    with pytest.raises(ValueError, match="not in a tree"):
        merkle.inclusion_proof(8, 8, tree.subtree)
    with pytest.raises(ValueError, match="no consistency proof"):
        merkle.consistency_proof(5, 4, tree.subtree)
    assert not merkle.verify_inclusion(tree.leaf_hashes[0], 0, 0, [], merkle.EMPTY_ROOT)


sizes = st.integers(min_value=1, max_value=70)


@given(size=sizes, data=st.data())
def test_every_inclusion_proof_verifies(size: int, data: st.DataObject) -> None:
    tree = merkle.MemoryTree([merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(size)])
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = merkle.inclusion_proof(index, size, tree.subtree)
    root = tree.root()
    assert merkle.verify_inclusion(tree.leaf_hashes[index], index, size, proof, root)
    changed = merkle.leaf_hash(b"changed")
    assert not merkle.verify_inclusion(changed, index, size, proof, root)
    other = data.draw(st.integers(min_value=0, max_value=size - 1))
    if other != index:
        assert not merkle.verify_inclusion(tree.leaf_hashes[index], other, size, proof, root)


@given(new=sizes, data=st.data())
def test_every_consistency_proof_verifies(new: int, data: st.DataObject) -> None:
    tree = merkle.MemoryTree([merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(new)])
    old = data.draw(st.integers(min_value=1, max_value=new))
    proof = merkle.consistency_proof(old, new, tree.subtree)
    assert merkle.verify_consistency(old, new, proof, tree.root(old), tree.root(new))
    position = data.draw(st.integers(min_value=0, max_value=old - 1))
    forked = list(tree.leaf_hashes)
    forked[position] = merkle.leaf_hash(b"changed")
    forked_root = merkle.MemoryTree(forked).root(old)
    assert not merkle.verify_consistency(old, new, proof, forked_root, tree.root(new))
