"""The log as C2SP tlog-tiles (https://c2sp.org/tlog-tiles): hash tiles, entry bundles, export.

A level-``L`` tile holds up to 256 consecutive hashes of the complete subtrees of ``2**(8·L)``
leaves: leaf hashes (``LogLeaf``) for level 0, stored ``LogNode`` hashes of level ``8·L`` above.
Entry bundle ``N`` holds the canonical events of leaves ``[256·N, 256·N + W)``, each prefixed by
its length as a big-endian uint16. The same bytes are served by the views and written by
``export_tiles``, so a static folder and the ``so-cai/`` URL prefix are the same tlog-tiles log.
"""

from __future__ import annotations

import os
import re
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hocba.ledger.merkle import HASH_SIZE

if TYPE_CHECKING:
    from hocba.ledger.models import Checkpoint

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
ENTRIES = "entries"
MAX_ENTRY_SIZE = 0xFFFF


@dataclass(frozen=True)
class Tile:
    """Tile ``n`` of ``level`` (an int, or ``"entries"`` for an entry bundle), ``width`` hashes."""

    level: int | str
    n: int
    width: int = TILE_WIDTH

    @property
    def full(self) -> bool:
        return self.width == TILE_WIDTH

    @property
    def path(self) -> str:
        suffix = "" if self.full else f".p/{self.width}"
        return f"tile/{self.level}/{encode_index(self.n)}{suffix}"

    @property
    def leaf_level(self) -> int:
        """The level of the entries this tile spans, in leaves: 256**level leaves per hash."""
        return 0 if self.level == ENTRIES else int(self.level)

    def end(self) -> int:
        """One past the last leaf this tile covers."""
        return (self.n * TILE_WIDTH + self.width) << (TILE_HEIGHT * self.leaf_level)


def encode_index(n: int) -> str:
    """``1234067`` → ``x001/x234/067``: 3-digit elements, all but the last prefixed ``x``."""
    if n < 0:
        raise ValueError(f"negative tile index {n}")
    digits = str(n)
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    parts = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*(f"x{part}" for part in parts[:-1]), parts[-1]])


_TILE_PATH = re.compile(
    r"(?P<level>0|[1-9][0-9]?|entries)/(?P<n>(?:x[0-9]{3}/)*[0-9]{3})(?:\.p/(?P<w>[1-9][0-9]{0,2}))?"
)


def parse_tile_path(path: str) -> Tile:
    """The tile at ``<L>/<N>[.p/<W>]`` (the part after ``tile/``); ``ValueError`` if malformed."""
    match = _TILE_PATH.fullmatch(path)
    if match is None:
        raise ValueError(f"not a tile path: {path!r}")
    level: int | str = match["level"] if match["level"] == ENTRIES else int(match["level"])
    if isinstance(level, int) and level > 63:
        raise ValueError(f"tile level {level} is out of range")
    elements = match["n"].split("/")
    if len(elements) > 1 and elements[0] == "x000":
        raise ValueError(f"tile index with a leading zero element: {path!r}")
    width = int(match["w"]) if match["w"] else TILE_WIDTH
    if match["w"] and width >= TILE_WIDTH:
        raise ValueError(f"partial tile width {width} is out of range")
    return Tile(level, int("".join(e.lstrip("x") for e in elements)), width)


def tiles_for_size(size: int) -> list[Tile]:
    """Every hash tile and entry bundle of a tree of ``size`` leaves, full ones first per level,
    the partial one (if any) last; a level is present while it has at least one hash."""
    tiles: list[Tile] = []
    level, count = 0, size
    while count > 0:
        full, partial = divmod(count, TILE_WIDTH)
        kinds: list[int | str] = [0, ENTRIES] if level == 0 else [level]
        for kind in kinds:
            tiles += [Tile(kind, n) for n in range(full)]
            if partial:
                tiles.append(Tile(kind, full, partial))
        level += 1
        count >>= TILE_HEIGHT
    return tiles


def within(tile: Tile, size: int) -> bool:
    """Is ``tile`` part of the tree of ``size`` leaves (a full tile, or a partial one whose
    hashes are all complete in that tree)?"""
    return tile.end() <= size


def tile_bytes(tile: Tile) -> bytes:
    """The content of a hash tile or entry bundle, read from the database.

    ``LookupError`` if the log does not (yet) hold all of it."""
    from hocba.ledger.models import LogLeaf, LogNode

    first = tile.n * TILE_WIDTH
    last = first + tile.width
    if tile.level == ENTRIES:
        events = list(
            LogLeaf.objects.filter(index__gte=first, index__lt=last)
            .order_by("index")
            .values_list("event", flat=True)
        )
        if len(events) != tile.width:
            raise LookupError(f"{tile.path}: the log has {len(events)} of {tile.width} entries")
        return b"".join(_length_prefixed(event.encode()) for event in events)
    level = int(tile.level) * TILE_HEIGHT
    hashes: dict[int, str] = dict(
        LogLeaf.objects.filter(index__gte=first, index__lt=last).values_list("index", "leaf_hash")
        if level == 0
        else LogNode.objects.filter(level=level, index__gte=first, index__lt=last).values_list(
            "index", "hash"
        )
    )
    if len(hashes) != tile.width:
        raise LookupError(f"{tile.path}: the log has {len(hashes)} of {tile.width} hashes")
    data = b"".join(bytes.fromhex(hashes[index]) for index in range(first, last))
    assert len(data) == tile.width * HASH_SIZE
    return data


def _length_prefixed(entry: bytes) -> bytes:
    if len(entry) > MAX_ENTRY_SIZE:
        raise ValueError(f"log entry of {len(entry)} bytes does not fit an entry bundle")
    return struct.pack(">H", len(entry)) + entry


def split_entry_bundle(data: bytes) -> list[bytes]:
    """The entries of an entry bundle (the inverse of its encoding; no Django)."""
    entries, offset = [], 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise ValueError("truncated entry bundle")
        (length,) = struct.unpack_from(">H", data, offset)
        offset += 2
        if offset + length > len(data):
            raise ValueError("truncated entry bundle")
        entries.append(data[offset : offset + length])
        offset += length
    return entries


@dataclass
class ExportResult:
    size: int
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _complete(path: Path, tile: Tile) -> bool:
    """Is a full tile already in place? (Hash tiles have a known size; writes are atomic.)"""
    if not path.is_file():
        return False
    return tile.level == ENTRIES or path.stat().st_size == TILE_WIDTH * HASH_SIZE


def export_tiles(folder: str | Path, checkpoint: Checkpoint | None = None) -> ExportResult:
    """Write the tlog-tiles layout of ``checkpoint`` (default: the latest stored) to ``folder``.

    Full tiles already in the folder are immutable and left alone; partial tiles are (re)written;
    the ``checkpoint`` file is written last, so a reader never sees a checkpoint whose tiles are
    missing. Every file is written to a temporary name and renamed. ``LookupError`` if the log
    has no checkpoint yet."""
    from hocba.ledger.models import Checkpoint

    if checkpoint is None:
        checkpoint = Checkpoint.objects.order_by("-size").first()
    if checkpoint is None:
        raise LookupError("the log has no checkpoint to export")
    root = Path(folder)
    result = ExportResult(checkpoint.size)
    for tile in tiles_for_size(checkpoint.size):
        target = root / tile.path
        if tile.full and _complete(target, tile):
            result.kept.append(tile.path)
            continue
        _write_atomically(target, tile_bytes(tile))
        result.written.append(tile.path)
    _write_atomically(root / "checkpoint", checkpoint.note.encode())
    result.written.append("checkpoint")
    return result
