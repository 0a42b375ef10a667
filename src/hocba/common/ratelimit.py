"""Rate limits for public look-ups and the API: fixed-window counters in Django's cache.

A limit is ``count`` hits per ``seconds`` for one scope and one identity (a client address, an
API key, a record). Limits come from ``settings.HOCBA_RATE_LIMITS`` (``scope -> (count,
seconds)``) over :data:`DEFAULT_LIMITS`; a count of 0 turns a scope off. Identities are hashed
before they become cache keys, so no address, code or key is stored in the cache in clear.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


DEFAULT_LIMITS: dict[str, tuple[int, int]] = {
    # The public status page behind the QR code (a plain code look-up).
    "verify_page": (300, 60),
    # Second-factor attempts (access code or date of birth) per client, page and API alike.
    "verify_factor": (10, 900),
    # Failed second-factor attempts on one record, from anywhere.
    "verify_factor_record": (20, 3600),
    # Parent look-ups per client, and failed look-ups per pupil code (existing or not).
    "parent_lookup": (10, 900),
    "parent_lookup_target": (10, 3600),
    # Downloads of PDFs and booklets from the public portal, per client.
    "portal_download": (60, 3600),
    # Files uploaded for verification (a full validation costs about half a second), per client.
    "verify_upload": (30, 600),
    # The verification API: anonymous calls per client address, calls per API key.
    "api_anonymous": (60, 60),
    "api_key": (1200, 60),
}


class RateLimited(Exception):
    """Too many hits; ``retry_after`` is in whole seconds."""

    def __init__(self, scope: str, retry_after: int) -> None:
        self.scope = scope
        self.retry_after = max(1, retry_after)
        self.message = _("Bạn đã gửi quá nhiều yêu cầu. Vui lòng thử lại sau %(seconds)s giây.") % {
            "seconds": self.retry_after
        }
        super().__init__(self.message)


def now() -> float:
    """The clock the windows are cut from (tests move it)."""
    return time.time()


def limit_for(scope: str) -> Limit | None:
    configured: dict[str, Any] = getattr(settings, "HOCBA_RATE_LIMITS", {}) or {}
    count, seconds = configured.get(scope, DEFAULT_LIMITS[scope])
    if int(count) <= 0 or int(seconds) <= 0:
        return None
    return Limit(int(count), int(seconds))


def client_address(request: Any) -> str:
    """The caller's address; IPv6 callers count per /64, the block one subscriber gets."""
    raw = str(request.META.get("REMOTE_ADDR") or "unknown")
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _key(scope: str, identity: str, window: int) -> str:
    digest = hashlib.sha256(f"{scope}\0{identity}".encode()).hexdigest()[:32]
    return f"rl:{scope}:{digest}:{window}"


def _window(limit: Limit) -> tuple[int, int]:
    """The current window's number and the seconds until it ends."""
    moment = now()
    window = int(moment // limit.seconds)
    return window, math.ceil((window + 1) * limit.seconds - moment)


def hit(scope: str, identity: str, *, limit: Limit | None = None) -> None:
    """Count one hit; raise :class:`RateLimited` when it goes over the limit."""
    limit = limit or limit_for(scope)
    if limit is None:
        return
    window, remaining = _window(limit)
    key = _key(scope, identity, window)
    # The window's counter usually exists: count on it first, and create it only on the
    # window's first hit (with the database cache an ``add`` first costs five more queries and
    # a write transaction on every hit; issue 8 §4).
    try:
        count = cache.incr(key)
    except ValueError:  # the window's first hit, or its counter just expired
        if cache.add(key, 1, remaining + 1):
            count = 1
        else:  # another process created it meanwhile
            try:
                count = cache.incr(key)
            except ValueError:
                cache.set(key, 1, remaining + 1)
                count = 1
    if count > limit.count:
        raise RateLimited(scope, remaining)


def check(scope: str, identity: str) -> None:
    """Raise :class:`RateLimited` if the limit is already used up, without counting a hit."""
    limit = limit_for(scope)
    if limit is None:
        return
    window, remaining = _window(limit)
    if int(cache.get(_key(scope, identity, window), 0)) >= limit.count:
        raise RateLimited(scope, remaining)
