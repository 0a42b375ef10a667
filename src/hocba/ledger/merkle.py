"""RFC 9162 §2.1 Merkle tree hashing, inclusion and consistency proofs (no Django).

Proof generation reads hashes through a callable ``subtree(level, index)`` that returns the hash of
the complete aligned subtree covering leaves ``[index * 2**level, (index + 1) * 2**level)``; the
database serves it from stored nodes, tests from a list. Every subtree the RFC's recursion needs on
the left of a split is complete and aligned, so only the right edge is ever recomputed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

SubtreeHash = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two strictly smaller than ``size`` (``size`` ≥ 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def range_hash(start: int, end: int, subtree: SubtreeHash) -> bytes:
    """MTH of leaves ``[start, end)``; ``start`` is aligned as in the RFC's recursion."""
    size = end - start
    if size == 0:
        return EMPTY_ROOT
    if size & (size - 1) == 0 and start % size == 0:
        level = size.bit_length() - 1
        return subtree(level, start >> level)
    k = split_point(size)
    return node_hash(range_hash(start, start + k, subtree), range_hash(start + k, end, subtree))


def root_hash(size: int, subtree: SubtreeHash) -> bytes:
    return range_hash(0, size, subtree)


def inclusion_proof(index: int, size: int, subtree: SubtreeHash) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            path.append(range_hash(start + k, end, subtree))
            end = start + k
        else:
            path.append(range_hash(start, start + k, subtree))
            start += k
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, subtree: SubtreeHash) -> list[bytes]:
    """PROOF(old_size, D[0:new_size]) of RFC 9162 §2.1.4.1 (empty when a size is 0 or equal)."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to {new_size}")
    if old_size == 0 or old_size == new_size:
        return []
    return _subproof(old_size, 0, new_size, True, subtree)


def _subproof(m: int, start: int, end: int, complete: bool, subtree: SubtreeHash) -> list[bytes]:
    size = end - start
    if m == size:
        return [] if complete else [range_hash(start, end, subtree)]
    k = split_point(size)
    if m <= k:
        head = _subproof(m, start, start + k, complete, subtree)
        return [*head, range_hash(start + k, end, subtree)]
    head = _subproof(m - k, start + k, end, False, subtree)
    return [*head, range_hash(start, start + k, subtree)]


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` lead from leaf hash ``leaf`` at ``index`` to ``root``?"""
    if not 0 <= index < size or len(leaf) != HASH_SIZE:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0 or len(p) != HASH_SIZE:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of ``new_size`` an append-only extension of ``old_size``?"""
    if not 0 <= old_size <= new_size or any(len(p) != HASH_SIZE for p in proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


class MemoryTree:
    """All leaf hashes in memory, subtrees recomputed on demand: the reference and the baseline."""

    def __init__(self, leaf_hashes: Sequence[bytes] = ()) -> None:
        self.leaf_hashes = list(leaf_hashes)
        self._levels: list[list[bytes]] | None = None

    def append_data(self, data: bytes) -> None:
        self.leaf_hashes.append(leaf_hash(data))

    def subtree(self, level: int, index: int) -> bytes:
        if level == 0:
            return self.leaf_hashes[index]
        half = 1 << (level - 1)
        start = index << level
        return node_hash(
            self._naive(start, start + half), self._naive(start + half, start + 2 * half)
        )

    def _naive(self, start: int, end: int) -> bytes:
        if end - start == 1:
            return self.leaf_hashes[start]
        k = split_point(end - start)
        return node_hash(self._naive(start, start + k), self._naive(start + k, end))

    def levels(self) -> list[list[bytes]]:
        """Every complete aligned subtree hash, level by level, computed once and kept."""
        if self._levels is None or len(self._levels[0]) != len(self.leaf_hashes):
            levels = [list(self.leaf_hashes)]
            while len(levels[-1]) > 1:
                below = levels[-1]
                levels.append(
                    [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
                )
            self._levels = levels
        return self._levels

    def subtree_fast(self, level: int, index: int) -> bytes:
        return self.levels()[level][index]

    def root(self, size: int | None = None) -> bytes:
        return root_hash(len(self.leaf_hashes) if size is None else size, self.subtree)
