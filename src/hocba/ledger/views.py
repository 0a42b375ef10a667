"""Public read-only views of the log under ``so-cai/`` (no login, GET only).

``so-cai/`` is a C2SP tlog-tiles prefix: ``checkpoint`` and ``tile/...`` serve the same bytes
as ``hocba ledger tiles``. Also: every kept checkpoint by size, the verifier key and the signed
status list. An empty log (no checkpoint yet) answers 404: a GET never signs anything.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from hocba.ledger import keys, statuslist, tiles
from hocba.ledger.models import Checkpoint

TEXT = "text/plain; charset=utf-8"
BINARY = "application/octet-stream"
IMMUTABLE = {"public": True, "max_age": 365 * 24 * 3600, "immutable": True}


def _text(body: str, **cache: object) -> HttpResponse:
    response = HttpResponse(body, content_type=TEXT)
    patch_cache_control(response, **cache)
    return response


def _not_found(message: str) -> HttpResponse:
    response = HttpResponse(message + "\n", content_type=TEXT, status=404)
    patch_cache_control(response, no_cache=True)
    return response


def _latest() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-size").first()


@require_GET
def checkpoint(request: HttpRequest) -> HttpResponse:
    latest = _latest()
    if latest is None:
        return _not_found(_("Sổ cái chưa có điểm kiểm tra nào."))
    return _text(latest.note, public=True, max_age=5)


@require_GET
def checkpoint_by_size(request: HttpRequest, size: int) -> HttpResponse:
    kept = Checkpoint.objects.filter(size=size).first()
    if kept is None:
        return _not_found(_("Không có điểm kiểm tra với kích thước %(size)s.") % {"size": size})
    return _text(kept.note, **IMMUTABLE)


@require_GET
def verifier_key(request: HttpRequest) -> HttpResponse:
    return _text(keys.verifier_key() + "\n", public=True, max_age=3600)


def _tile(path: str) -> HttpResponse:
    try:
        tile = tiles.parse_tile_path(path)
    except ValueError:
        return _not_found(_("Đường dẫn ô không hợp lệ."))
    latest = _latest()
    if latest is None or not tiles.within(tile, latest.size):
        return _not_found(_("Ô này nằm ngoài điểm kiểm tra mới nhất."))
    # A tile's bytes are fixed by its path (level, index, width): partial tiles too.
    response = HttpResponse(tiles.tile_bytes(tile), content_type=BINARY)
    patch_cache_control(response, **IMMUTABLE)
    return response


@require_GET
def tile(request: HttpRequest, path: str) -> HttpResponse:
    return _tile(path)


@require_GET
@gzip_page
def entries(request: HttpRequest, path: str) -> HttpResponse:
    return _tile(f"{tiles.ENTRIES}/{path}")


@require_GET
def status_list(request: HttpRequest) -> HttpResponse:
    return _text(statuslist.build_status_list(), public=True, max_age=60)
