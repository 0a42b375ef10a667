"""Appending to the log, signing checkpoints, proofs (ARCHITECTURE §7).

``append`` runs inside the caller's transaction, so a leaf exists exactly when the change it
records was committed. Appends are serialised by locking the single ``LogHead`` row.
"""

from __future__ import annotations

import json
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
    """The event as RFC 8785 canonical JSON. Events made only of ASCII keys, strings,
    integers of at most 53 bits, booleans, nulls, lists and objects take ``json.dumps``, whose
    output is then the same bytes (keys sorted by code point = by UTF-16 unit for ASCII; the
    same string escapes), about twice as fast; anything else (floats, other keys) goes to
    ``rfc8785``, as does a string that is not valid UTF-8."""
    if _plain_json(event):
        try:
            return json.dumps(
                event, ensure_ascii=False, sort_keys=True, separators=(",", ":")
            ).encode()
        except UnicodeEncodeError:
            pass  # lone surrogates: rfc8785 raises its own error
    return rfc8785.dumps(event)


_JSON_INT_MAX = 2**53 - 1


def _plain_json(value: Any) -> bool:
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -_JSON_INT_MAX <= value <= _JSON_INT_MAX
    if isinstance(value, dict):
        for key, item in value.items():
            if not (isinstance(key, str) and key.isascii() and _plain_json(item)):
                return False
        return True
    if isinstance(value, list | tuple):
        return all(_plain_json(item) for item in value)
    return False


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
    """Append one event to the log, in the caller's transaction; O(log n).

    The left halves of the nodes the leaf completes come from :class:`_Frontier`, the cached
    right edge of the tree, checked against the head size and the stored hash of the previous
    leaf; when it is missing or stale they are read from the database. Statements: the head
    ``UPDATE … RETURNING`` (which also returns that previous leaf hash), the leaf ``INSERT`` and,
    one time in two on average, one ``INSERT`` of the completed nodes; plus one or two reads on a
    cache miss. Raw SQL on the DB-API cursor when nothing observes Django's cursor (no query
    logging, no execute wrappers)."""
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        raise RuntimeError("Log appends run inside the change's transaction.")
    data = canonical_event(event)
    current = merkle.leaf_hash(data)
    created_at = timezone.now()
    leaf_hash, text, kind = current.hex(), data.decode(), str(event_type)
    pending = _pending_frontier(conn)
    cached = pending or _COMMITTED.get(conn.alias)
    with _Runner(conn) as run:
        values = [leaf_hash, text, kind, record.pk if record else None]
        values.append(_db_datetime(conn, created_at))
        index, leaf_pk, top, cached = _append_claimed(run, cached, current, values)
    # The right edge after this leaf: the levels below the new top are no longer on it.
    levels = (index + 1 ^ index).bit_length() - 1
    hashes = list(cached.hashes) if cached is not None else []
    hashes += [None] * (levels + 1 - len(hashes))
    hashes[:levels] = [None] * levels
    hashes[levels] = top
    _remember(conn, pending, index + 1, tuple(hashes), leaf_hash)
    # Positional values (the fields' order) build the model faster than keywords.
    fields: list[Any] = [leaf_pk, index, leaf_hash, text, kind, None, created_at]
    leaf = LogLeaf(*fields)
    leaf._state.adding = False
    if record is not None:
        leaf.record = record
    return leaf


_Done = tuple[int, int, bytes, "_Frontier | None"]  # index, leaf pk, top hash, valid edge


def _completed_nodes(index: int, current: bytes, lefts: Sequence[bytes]) -> tuple[list[Any], bytes]:
    """The ``(level, index, hash)`` values of the nodes leaf ``index`` completes, flattened,
    and the hash of the highest one (the leaf's own hash if none)."""
    nodes: list[Any] = []
    for level, left in enumerate(lefts):
        current = merkle.node_hash(left, current)
        nodes += [level + 1, index >> (level + 1), current.hex()]
    return nodes, current


def _append_claimed(
    run: _Runner, cached: _Frontier | None, current: bytes, values: list[Any]
) -> _Done:
    """Claim the next index, check the cached edge against it, read what is missing, write."""
    statements = run.statements
    if cached is not None and cached.size:
        row = run.one(statements.claim_checked, [cached.size - 1])
    else:
        row = run.one(statements.claim, [])
    if row is None:  # no head row yet (a new or flushed database): nothing cached holds
        LogHead.objects.get_or_create(pk=1)
        row = run.one(statements.claim, [])
        cached = None
    index = int(row[0]) - 1
    if cached is None or cached.size != index or (index and row[1] != cached.last_leaf):
        cached = None  # stale (another process appended, or a rollback): read the database
    levels = (index + 1 ^ index).bit_length() - 1  # trailing one bits of index
    known = cached.hashes if cached is not None else ()
    edge = [known[level] if level < len(known) else None for level in range(levels)]
    found: dict[tuple[int, int], bytes] = {}
    if None in edge:
        found = _node_hashes(
            [(level, (index >> level) - 1) for level in range(levels) if edge[level] is None]
        )
    lefts = [
        value if value is not None else found[(level, (index >> level) - 1)]
        for level, value in enumerate(edge)
    ]
    nodes, top = _completed_nodes(index, current, lefts)
    leaf_pk = run.insert_leaf([index, *values])
    if levels:
        run.execute(statements.nodes[levels], nodes)
    return index, leaf_pk, top, cached


# --- The append path's cache and statements -------------------------------------------------


class _Frontier:
    """The right edge of the tree of ``size`` leaves: ``hashes[level]`` is the hash of the
    subtree ``(level, (size >> level) - 1)`` for each bit ``level`` set in ``size`` (the
    perfect subtrees the next leaves are hashed with), ``None`` where the bit is clear or the
    hash was not read; ``last_leaf`` is the hex hash of leaf ``size - 1``.

    A frontier is registered as an ``on_commit`` hook of the transaction that made it, so
    Django drops it with a rolled-back savepoint or transaction (documented ``on_commit``
    behaviour), and it is only reused while it is the latest hook of the current hook list
    (:func:`_pending_frontier`). On commit it becomes the process's committed frontier for
    its database (:data:`_COMMITTED`): committed leaves never change, so it stays true for a
    transaction that claims index ``size``. Every use is also checked against the head size and
    the stored hash of leaf ``size - 1`` returned by the claiming ``UPDATE``, so another
    process's appends, a rollback the hooks could not see or a replaced database make it miss,
    and the hashes are then read from the database."""

    __slots__ = ("alias", "hashes", "hooks", "last_leaf", "size")

    def __init__(
        self, alias: str, size: int, hashes: tuple[bytes | None, ...], last_leaf: str
    ) -> None:
        self.alias, self.size, self.hashes, self.last_leaf = alias, size, hashes, last_leaf
        self.hooks: list[Any] | None = None

    def __call__(self) -> None:  # the transaction committed
        _COMMITTED[self.alias] = self


# The latest committed frontier per database alias (shared by threads; never mutated).
_COMMITTED: dict[str, _Frontier] = {}


def _pending_frontier(conn: Any) -> _Frontier | None:
    """The frontier left by this transaction's previous append, if it is still the latest
    ``on_commit`` hook (so no savepoint holding a later append was rolled back) and the hook
    list is the one it was registered in (Django rebuilds the list on any rollback)."""
    hooks = conn.run_on_commit
    if not hooks:
        return None
    state = hooks[-1][1]
    if type(state) is not _Frontier or state.hooks is not hooks:
        return None
    return state


def _remember(
    conn: Any,
    pending: _Frontier | None,
    size: int,
    hashes: tuple[bytes | None, ...],
    last_leaf: str,
) -> None:
    """Keep the frontier after an append: update this transaction's hook in place when it was
    registered under the same savepoints (a rollback that undoes this append drops it too),
    else register a new hook."""
    hooks = conn.run_on_commit
    if pending is not None and hooks and hooks[-1][0] == set(conn.savepoint_ids):
        pending.size, pending.hashes, pending.last_leaf = size, hashes, last_leaf
        return
    state = _Frontier(conn.alias, size, hashes, last_leaf)
    conn.on_commit(state)
    state.hooks = conn.run_on_commit


class _Statements:
    """The append's SQL for one backend and placeholder style."""

    def __init__(self, vendor: str, qmark: bool) -> None:
        def sql(text: str) -> str:
            return text.replace("%s", "?") if qmark else text

        head = "UPDATE ledger_loghead SET size = size + 1 WHERE id = 1 RETURNING size"
        self.claim = sql(head)
        self.claim_checked = sql(
            head + ', (SELECT leaf_hash FROM ledger_logleaf WHERE "index" = %s)'  # noqa: S608
        )
        # SQLite reports the new row id as ``lastrowid``; elsewhere it is returned.
        self.returning = vendor != "sqlite"
        leaf = (
            'INSERT INTO ledger_logleaf ("index", leaf_hash, event, event_type, record_id, '
            "created_at) VALUES (%s, %s, %s, %s, %s, %s)"
        )
        self.leaf = sql(leaf + " RETURNING id" if self.returning else leaf)
        self.nodes = {
            count: sql(
                'INSERT INTO ledger_lognode (level, "index", hash) VALUES '  # noqa: S608
                + ", ".join(["(%s, %s, %s)"] * count)
            )
            for count in range(1, 65)
        }


_STATEMENTS: dict[tuple[str, bool], _Statements] = {}
# Backends whose DB-API cursor the append may use directly (placeholder style known).
_RAW_QMARK = {"sqlite": True, "postgresql": False}


class _Runner:
    """Run the append's statements: on the DB-API cursor itself when nothing observes
    Django's cursor (``DEBUG`` query logging, ``CaptureQueriesContext``, execute wrappers),
    with Django's checks kept (broken transaction, thread sharing, error translation); through
    Django's cursor otherwise."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        vendor = conn.vendor
        self.raw = (
            vendor in _RAW_QMARK
            and not conn.queries_logged
            and not conn.execute_wrappers
            and conn.connection is not None
        )
        qmark = self.raw and _RAW_QMARK[vendor]
        key = (vendor, qmark)
        if key not in _STATEMENTS:
            _STATEMENTS[key] = _Statements(vendor, qmark)
        self.statements = _STATEMENTS[key]
        self.cursor: Any = None

    def __enter__(self) -> _Runner:
        conn = self.conn
        if self.raw:
            conn.validate_no_broken_transaction()
            conn.validate_thread_sharing()
            self.errors = conn.wrap_database_errors
            self.errors.__enter__()
            self.cursor = conn.connection.cursor()
        else:
            self.cursor = conn.cursor()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cursor.close()
        if self.raw:
            self.errors.__exit__(*exc)

    def one(self, sql: str, params: list[Any]) -> Any:
        self.cursor.execute(sql, params)
        return self.cursor.fetchone()

    def execute(self, sql: str, params: list[Any]) -> None:
        self.cursor.execute(sql, params)

    def insert_leaf(self, params: list[Any]) -> int:
        self.cursor.execute(self.statements.leaf, params)
        if self.statements.returning:
            return int(self.cursor.fetchone()[0])
        return int(self.cursor.lastrowid)


def _db_datetime(conn: Any, value: Any) -> Any:
    """``connection.ops.adapt_datetimefield_value`` for an aware ``timezone.now()``; on SQLite
    the same string computed directly (the generic one costs as much as a statement)."""
    if conn.vendor == "sqlite" and value.tzinfo is not None and conn.timezone is not None:
        return str(value.astimezone(conn.timezone).replace(tzinfo=None))
    return conn.ops.adapt_datetimefield_value(value)


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
