"""Appending to the log, signing checkpoints, proofs (ARCHITECTURE §7).

``append`` runs inside the caller's transaction, so a leaf exists exactly when the change it
records was committed. Appends are serialised by locking the single ``LogHead`` row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import rfc8785
from django.db import connection, transaction
from django.utils import timezone

from hocba.ledger import keys, merkle
from hocba.ledger.models import Checkpoint, LogHead, LogLeaf
from hocba.ledger.note import Checkpoint as CheckpointText
from hocba.ledger.note import NoteError, TlogProof, Verifier, open_checkpoint
from hocba.records.models import YearRecord

T = TypeVar("T")


def canonical_event(event: dict[str, Any]) -> bytes:
    return rfc8785.dumps(event)


def _locked_head() -> LogHead:
    LogHead.objects.get_or_create(pk=1)
    query = LogHead.objects.filter(pk=1)
    if connection.features.has_select_for_update_of:
        query = query.select_for_update(of=("self",))
    return query.get()


def _node_hashes(
    positions: Iterable[tuple[int, int]], cursor: Any = None
) -> dict[tuple[int, int], bytes]:
    """Stored hashes for ``(level, index)`` positions: leaves in one query, nodes in another.

    Raw SQL with placeholders only: this is the hot path of appends and proofs."""
    if cursor is None:
        with connection.cursor() as own_cursor:
            return _node_hashes(list(positions), own_cursor)
    leaves = sorted({index for level, index in positions if level == 0})
    nodes = sorted({(level, index) for level, index in positions if level > 0})
    found: dict[tuple[int, int], bytes] = {}
    if leaves:
        marks = ", ".join(["%s"] * len(leaves))
        cursor.execute(
            f'SELECT "index", leaf_hash FROM ledger_logleaf WHERE "index" IN ({marks})',  # noqa: S608
            leaves,
        )
        found.update({(0, index): bytes.fromhex(value) for index, value in cursor.fetchall()})
    if nodes:
        where = " OR ".join(['(level = %s AND "index" = %s)'] * len(nodes))
        cursor.execute(
            f'SELECT level, "index", hash FROM ledger_lognode WHERE {where}',  # noqa: S608
            [value for node in nodes for value in node],
        )
        found.update({(lv, ix): bytes.fromhex(value) for lv, ix, value in cursor.fetchall()})
    return found


def _prefetched(compute: Callable[[merkle.SubtreeHash], T]) -> T:
    """Run a Merkle computation twice: once to learn which stored hashes it reads, then with
    all of them fetched in two queries (instead of one query per hash)."""
    needed: list[tuple[int, int]] = []

    def record(level: int, index: int) -> bytes:
        needed.append((level, index))
        return merkle.EMPTY_ROOT

    compute(record)
    found = _node_hashes(needed)

    def serve(level: int, index: int) -> bytes:
        if (level, index) not in found:
            raise LookupError(f"log node ({level}, {index}) is missing")
        return found[(level, index)]

    return compute(serve)


def stored_subtree(level: int, index: int) -> bytes:
    """``merkle.SubtreeHash`` served by the database."""
    found = _node_hashes([(level, index)])
    if (level, index) not in found:
        raise LookupError(f"log node ({level}, {index}) is missing")
    return found[(level, index)]


def append(event_type: str, event: dict[str, Any], record: YearRecord | None = None) -> LogLeaf:
    """Append one event to the log, in the caller's transaction; O(log n), three statements on
    average (raw SQL: this is the hot path)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Log appends run inside the change's transaction.")
    data = canonical_event(event)
    current = merkle.leaf_hash(data)
    created_at = timezone.now()
    leaf_hash, text, kind = current.hex(), data.decode(), str(event_type)
    with connection.cursor() as cursor:
        index = _claim_index(cursor=cursor)
        cursor.execute(
            'INSERT INTO ledger_logleaf ("index", leaf_hash, event, event_type, record_id, '
            "created_at) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            [
                index,
                leaf_hash,
                text,
                kind,
                record.pk if record else None,
                connection.ops.adapt_datetimefield_value(created_at),
            ],
        )
        (leaf_pk,) = cursor.fetchone()
        _store_completed_nodes(cursor, index, current)
    leaf = LogLeaf(
        pk=leaf_pk,
        index=index,
        leaf_hash=leaf_hash,
        event=text,
        event_type=kind,
        record=record,
        created_at=created_at,
    )
    leaf._state.adding = False
    return leaf


def _claim_index(count: int = 1, cursor: Any = None) -> int:
    """The first of ``count`` new indices, taken by incrementing the head row. The UPDATE holds
    the row's lock until the transaction ends (PostgreSQL; SQLite has one writer at a time), so
    appends are serialised as by ``select_for_update`` on the head row, in one statement."""
    if cursor is None:
        with connection.cursor() as own_cursor:
            return _claim_index(count, own_cursor)
    cursor.execute(
        "UPDATE ledger_loghead SET size = size + %s WHERE id = 1 RETURNING size", [count]
    )
    row = cursor.fetchone()
    if row is None:
        LogHead.objects.get_or_create(pk=1)
        return _claim_index(count, cursor)
    return int(row[0]) - count


def append_many(event_type: str, events: Sequence[dict[str, Any]]) -> int:
    """Append several events (no record link) in a few statements; returns the first index.
    For bulk logging such as ``copy_issued`` events of a whole class; same tree as ``append``."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Log appends run inside the change's transaction.")
    first = _claim_index(len(events))
    created_at = connection.ops.adapt_datetimefield_value(timezone.now())
    known: dict[tuple[int, int], bytes] = {}
    leaf_rows, node_rows = [], []
    for offset, event in enumerate(events):
        index, data = first + offset, canonical_event(event)
        current = known[(0, index)] = merkle.leaf_hash(data)
        leaf_rows.append((index, current.hex(), data.decode(), str(event_type), created_at))
        for level in range((index + 1 ^ index).bit_length() - 1):
            left = (level, (index >> level) - 1)
            if left not in known:
                known.update(_node_hashes([left]))
            current = merkle.node_hash(known[left], current)
            known[(level + 1, index >> (level + 1))] = current
            node_rows.append((level + 1, index >> (level + 1), current.hex()))
    with connection.cursor() as cursor:
        cursor.executemany(
            'INSERT INTO ledger_logleaf ("index", leaf_hash, event, event_type, created_at) '
            "VALUES (%s, %s, %s, %s, %s)",
            leaf_rows,
        )
        cursor.executemany(
            'INSERT INTO ledger_lognode (level, "index", hash) VALUES (%s, %s, %s)', node_rows
        )
    return first


def _store_completed_nodes(cursor: Any, index: int, current: bytes) -> None:
    """After leaf ``index``, store every subtree it completes: their left halves are read in
    one query, the new nodes written in one statement."""
    levels = (index + 1 ^ index).bit_length() - 1  # trailing one bits of index
    if not levels:
        return
    lefts = [(level, (index >> level) - 1) for level in range(levels)]
    found = _node_hashes(lefts, cursor)
    rows: list[Any] = []
    for level, left in lefts:
        current = merkle.node_hash(found[(level, left)], current)
        rows += [level + 1, index >> (level + 1), current.hex()]
    marks = ", ".join(["(%s, %s, %s)"] * levels)
    cursor.execute(
        f'INSERT INTO ledger_lognode (level, "index", hash) VALUES {marks}',  # noqa: S608
        rows,
    )


def log_size() -> int:
    head = LogHead.objects.filter(pk=1).first()
    return head.size if head else 0


def root_hash(size: int) -> bytes:
    return _prefetched(lambda subtree: merkle.root_hash(size, subtree))


@transaction.atomic
def sign_checkpoint() -> Checkpoint:
    """A signed checkpoint of the current log; the latest one if the log has not grown."""
    size = _locked_head().size
    latest = Checkpoint.objects.filter(size=size).first()
    if latest is not None:
        return latest
    root = root_hash(size)
    body = CheckpointText(keys.origin(), size, root).text()
    return Checkpoint.objects.create(size=size, root_hash=root.hex(), note=keys.signer().sign(body))


def inclusion_bundle(leaf: LogLeaf, checkpoint: Checkpoint | None = None) -> str:
    """The c2sp.org/tlog-proof@v1 text proving ``leaf`` is in ``checkpoint`` (default: latest)."""
    checkpoint = checkpoint or Checkpoint.objects.order_by("-size").first()
    if checkpoint is None or checkpoint.size <= leaf.index:
        raise ValueError(f"no checkpoint covers log leaf {leaf.index}")
    proof = inclusion_proof(leaf.index, checkpoint.size)
    return TlogProof(leaf.index, tuple(proof), checkpoint.note).text()


def verify_bundle(text: str, verifier_key: str | Verifier, leaf_hash: bytes | str) -> bool:
    """Offline check of a proof bundle: the log's signature and the inclusion proof."""
    if isinstance(leaf_hash, str):
        leaf_hash = bytes.fromhex(leaf_hash)
    try:
        verifier = (
            verifier_key if isinstance(verifier_key, Verifier) else Verifier.parse(verifier_key)
        )
        proof = TlogProof.parse(text)
        checkpoint = open_checkpoint(proof.checkpoint_note, verifier, verifier.name)
    except NoteError:
        return False
    return merkle.verify_inclusion(
        leaf_hash, proof.index, checkpoint.size, proof.hashes, checkpoint.root_hash
    )


def inclusion_proof(index: int, size: int) -> list[bytes]:
    return _prefetched(lambda subtree: merkle.inclusion_proof(index, size, subtree))


def consistency_proof(old_size: int, new_size: int) -> list[bytes]:
    return _prefetched(lambda subtree: merkle.consistency_proof(old_size, new_size, subtree))
