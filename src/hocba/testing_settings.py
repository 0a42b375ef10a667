"""Settings for the test suite: the production settings plus a fast hasher and test data dir."""

import os
import tempfile

os.environ["HOCBA_TESTING"] = "1"
os.environ.setdefault("HOCBA_DATA_DIR", tempfile.mkdtemp(prefix="hocba-test-"))

from hocba.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
