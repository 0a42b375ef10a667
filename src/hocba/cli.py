"""The ``hocba`` console command: Django's management commands under one name."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Commands spelled with a hyphen on the command line (``hocba sign-agent``).
ALIASES = {
    "sign-agent": "sign_agent",
    "api-keys": "api_keys",
    "verification-bundle": "verification_bundle",
}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hocba.settings")
    if len(argv) > 1:
        argv[1] = ALIASES.get(argv[1], argv[1])
    if len(argv) > 1 and argv[1] == "demo":
        # The demo is the embedded mode: local only, generated secret key, debug pages.
        os.environ.setdefault("DEBUG", "1")
    if len(argv) > 1 and argv[1] == "verify":
        # The offline verifier runs anywhere, with no database and no configuration.
        os.environ.setdefault("DEBUG", "1")
        os.environ.setdefault("HOCBA_DATA_DIR", str(Path.home() / ".cache" / "hocba-verify"))
    if len(argv) > 1 and argv[1] == "sign_agent":
        # The sign-agent runs on a teacher's own computer: it talks to a hocba server over HTTPS
        # and needs no database, secret key or host list of its own.
        os.environ.setdefault("DEBUG", "1")
        os.environ.setdefault("HOCBA_DATA_DIR", str(Path.home() / ".cache" / "hocba-agent"))
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
