"""``services.append`` with its cached right edge: rollbacks, savepoints, other writers, and
concurrent appenders on PostgreSQL; every test checks the stored tree against a recomputation
from the stored leaves."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import rfc8785
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from hocba.ledger import merkle, services
from hocba.ledger.models import LogHead, LogLeaf, LogNode


class Rollback(Exception):
    pass


def _event(label: str, number: int) -> dict[str, Any]:
    return {"type": "copy_issued", "who": label, "n": number}


def _append(label: str, numbers: range) -> list[LogLeaf]:
    return [services.append("copy_issued", _event(label, n)) for n in numbers]


def _rolled_back(body: Callable[[], object]) -> None:
    try:
        with transaction.atomic():
            body()
            raise Rollback
    except Rollback:
        pass


def assert_tree_matches_leaves() -> int:
    """Every stored node and the root equal a recomputation from the stored leaf events."""
    events = list(LogLeaf.objects.order_by("index").values_list("index", "event", "leaf_hash"))
    size = LogHead.objects.get(pk=1).size
    assert [index for index, _, _ in events] == list(range(size))
    hashes = [merkle.leaf_hash(event.encode()) for _, event, _ in events]
    assert [value.hex() for value in hashes] == [stored for _, _, stored in events]
    reference = merkle.MemoryTree(hashes)
    expected = {
        (level, index): value.hex()
        for level, row in enumerate(reference.levels()[1:], start=1)
        for index, value in enumerate(row)
    }
    stored = {(node.level, node.index): node.hash for node in LogNode.objects.all()}
    assert stored == expected
    if size:
        assert services.root_hash(size) == reference.root(size)
    return size


# --- canonical JSON: the json.dumps fast path gives rfc8785's bytes ---------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["\u2028", "\x7f", '\x00\x1f\b\f\n\r\t"\\', "\ud800", "é€😀"])
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=4) | st.sampled_from(["a", "é", "\ue000", "😀"]), inner)
    ),
    max_leaves=12,
)


def _outcome(function: Callable[[], bytes]) -> bytes | str:
    try:
        return function()
    except (rfc8785.CanonicalizationError, UnicodeEncodeError):
        return "error"


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _json, max_size=6))
def test_canonical_event_is_rfc8785(event: dict[str, Any]) -> None:
    assert _outcome(lambda: services.canonical_event(event)) == _outcome(
        lambda: rfc8785.dumps(event)
    )


def test_canonical_event_examples() -> None:
    event = {"type": "issued", "b": [1, True, None, {"z": "\n", "a": 2**53 - 1}], "a": "Đức"}
    assert services.canonical_event(event) == rfc8785.dumps(event)
    with pytest.raises(rfc8785.IntegerDomainError):
        services.canonical_event({"n": 2**53})
    with pytest.raises(rfc8785.CanonicalizationError):
        services.canonical_event({"s": "\ud800"})


# --- one connection: rollbacks and savepoints ---------------------------------------------------


@pytest.mark.django_db
def test_savepoint_rollback_then_append_gives_the_right_tree() -> None:
    with transaction.atomic():
        _append("a", range(5))
        _rolled_back(lambda: _append("rolled back", range(3)))
        _append("b", range(4))
        # A savepoint that holds no append, and one with appends that is released.
        _rolled_back(lambda: None)
        with transaction.atomic():
            _append("c", range(6))
        _append("d", range(7))
    assert assert_tree_matches_leaves() == 22
    assert not LogLeaf.objects.filter(event__contains="rolled back").exists()


@pytest.mark.django_db
def test_manual_savepoint_rollback_then_append() -> None:
    with transaction.atomic():
        _append("a", range(3))
        sid = transaction.savepoint()
        _append("rolled back", range(5))
        transaction.savepoint_rollback(sid)
        _append("b", range(6))
    assert assert_tree_matches_leaves() == 9


@pytest.mark.django_db
def test_other_writers_between_appends() -> None:
    """append_many and appends in savepoints between appends of one transaction."""
    with transaction.atomic():
        _append("a", range(3))
        services.append_many("copy_issued", [_event("many", n) for n in range(5)])
        _append("b", range(2))
        transaction.on_commit(lambda: None)  # the cached edge is no longer the latest hook
        _append("c", range(9))
    assert assert_tree_matches_leaves() == 19


@pytest.mark.django_db
def test_published_edge_of_a_rolled_back_savepoint_is_not_trusted(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Run the commit hooks of appends that are then rolled back (as a restored database or a
    test flush would leave a stale committed edge): later appends of a different history at
    the same sizes must not use it."""
    with transaction.atomic():
        _append("a", range(3))

        def publish() -> None:
            with django_capture_on_commit_callbacks(execute=True):
                _append("rolled back", range(4))

        _rolled_back(publish)
        # Size 7 = 0b111: the append at index 7 needs three left halves from the edge.
        assert services._COMMITTED[connection.alias].size == 7
        for number in range(8):
            transaction.on_commit(lambda: None)  # no pending edge: the committed one is tried
            services.append("copy_issued", _event("b", number))
    assert assert_tree_matches_leaves() == 11


@pytest.mark.django_db
def test_the_cached_edge_saves_the_reads() -> None:
    """After the first append of a transaction, appends read no stored hash: SQLite runs the
    claim, the leaf insert and (odd indices) the nodes insert."""
    with transaction.atomic():
        _append("a", range(7))
    with transaction.atomic():
        _append("b", range(1))
        with CaptureQueriesContext(connection) as queries:
            _append("c", range(39))  # indices 8 to 46, 19 of them odd
    statements = [query["sql"].split()[0].upper() for query in queries.captured_queries]
    assert statements.count("UPDATE") == 39
    assert statements.count("INSERT") == 39 + 19
    assert len(statements) == 39 + 39 + 19
    assert assert_tree_matches_leaves() == 47


@pytest.mark.django_db
def test_leaf_object_as_before() -> None:
    with transaction.atomic():
        leaf = services.append("copy_issued", {"n": 1, "type": "copy_issued"})
    stored = LogLeaf.objects.get(pk=leaf.pk)
    assert (leaf.index, leaf.leaf_hash, leaf.event, leaf.event_type, leaf.record) == (
        stored.index,
        stored.leaf_hash,
        stored.event,
        stored.event_type,
        None,
    )
    assert leaf.created_at == stored.created_at
    assert not leaf._state.adding


# --- PostgreSQL: separate connections appending concurrently ------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent writers need PostgreSQL (SQLite has one writer; test flush is DELETE)",
)


def _in_thread(work: Callable[[], None], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connections.close_all()

    return threading.Thread(target=run)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_connections_append_concurrently() -> None:
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(label: str) -> Callable[[], None]:
        def work() -> None:
            barrier.wait()
            for round_ in range(30):
                if round_ % 7 == 3:
                    _rolled_back(lambda: _append(f"{label} rolled back", range(2)))
                with transaction.atomic():
                    _append(f"{label}-{round_}", range(round_ % 4 + 1))
                    if round_ % 5 == 2:
                        _rolled_back(lambda: _append(f"{label} rolled back", range(3)))
                        _append(f"{label}-{round_}-after", range(2))

        return work

    threads = [_in_thread(writer("x"), errors), _in_thread(writer("y"), errors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    size = assert_tree_matches_leaves()
    assert size == 2 * (sum(n % 4 + 1 for n in range(30)) + 2 * 6)
    assert not LogLeaf.objects.filter(event__contains="rolled back").exists()
    # This process's committed edge is still usable after the other connection's appends.
    with transaction.atomic():
        _append("z", range(5))
    assert assert_tree_matches_leaves() == size + 5


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_rolled_back_transaction_then_other_connection_appends() -> None:
    """A rolls back an append; B appends at the same index and commits; A appends again."""
    with transaction.atomic():
        _append("a", range(5))  # committed: A's process knows the edge of size 5
    _rolled_back(lambda: _append("rolled back", range(3)))

    errors: list[BaseException] = []

    def other() -> None:
        with transaction.atomic():
            _append("b", range(2))

    thread = _in_thread(other, errors)
    thread.start()
    thread.join()
    assert not errors
    with transaction.atomic():
        _append("a again", range(4))
    assert assert_tree_matches_leaves() == 11
    _rolled_back(lambda: _append("rolled back", range(1)))
    with transaction.atomic():
        _append("a last", range(1))
    assert assert_tree_matches_leaves() == 12


@pytest.mark.django_db
def test_a_stale_edge_from_an_emptied_database_is_dropped() -> None:
    """A committed edge of size 1 remains from an earlier database; the head row is gone (a
    flush) and another writer re-creates it and appends first: this append lands at index 1,
    the stale edge's size, and must not be trusted (nor read as if checked)."""
    with transaction.atomic():
        _append("old", range(1))
    old = LogLeaf.objects.get(index=0)
    # What the commit hook of that append leaves (the test transaction never commits).
    services._COMMITTED[connection.alias] = services._Frontier(
        connection.alias, 1, (bytes.fromhex(old.leaf_hash),), old.leaf_hash
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM ledger_loghead")
        # The head row is recreated with size 1 by "another writer" before our claim.
        real_get_or_create = LogHead.objects.get_or_create

        def other_writer_first(**kwargs: Any) -> Any:
            result = real_get_or_create(**kwargs)
            LogHead.objects.filter(pk=1).update(size=1)
            return result

        LogHead.objects.get_or_create = other_writer_first  # type: ignore[method-assign]
        try:
            leaf = services.append("copy_issued", _event("new", 0))
        finally:
            del LogHead.objects.get_or_create
    assert leaf.index == 1
