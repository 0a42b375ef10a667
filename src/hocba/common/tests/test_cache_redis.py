"""The Redis cache (``HOCBA_CACHE_URL``) for the rate-limit counters: the same counting as with
the database cache, against the real Redis server (skipped locally when none answers; a failure
under CI=true)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import override_settings

from hocba.common import ratelimit

REDIS_URL = os.environ.get("HOCBA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_cache() -> Iterator[None]:
    if not _redis_answers():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis does not answer at {REDIS_URL} (CI needs it)")
        pytest.skip(f"no Redis at {REDIS_URL}")
    location = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"hocba-test-{uuid.uuid4().hex}",
    }
    with override_settings(CACHES={"default": location}):
        yield
        cache.clear()


def test_redis_counts_hits_and_refuses_past_the_limit(redis_cache: None) -> None:
    limit = ratelimit.Limit(count=3, seconds=60)
    for _ in range(3):
        ratelimit.hit("verify_page", "203.0.113.7", limit=limit)
    with pytest.raises(ratelimit.RateLimited) as refused:
        ratelimit.hit("verify_page", "203.0.113.7", limit=limit)
    assert 0 < refused.value.retry_after <= 60
    ratelimit.hit("verify_page", "203.0.113.8", limit=limit)  # another client counts apart


def test_the_setting_refuses_what_is_not_a_redis_address() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={
            **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
            "DJANGO_SETTINGS_MODULE": "hocba.settings",
            "HOCBA_TESTING": "1",
            "HOCBA_CACHE_URL": "memcached://127.0.0.1:11211",
        },
        capture_output=True,
        check=False,
    )
    assert done.returncode != 0
    assert b"HOCBA_CACHE_URL" in done.stderr
