"""Guard: the English catalogue covers every Vietnamese string and is compiled (STYLE §10, §12)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "hocba"
CATALOGUE = PACKAGE / "locale" / "en" / "LC_MESSAGES"

pytestmark = pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext is not installed")


def _msgids(po_file: Path) -> set[str]:
    """The msgids of a .po file (multi-line strings joined), header excluded."""
    ids: set[str] = set()
    current: list[str] | None = None
    for line in [*po_file.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("msgid "):
            current = [line[6:]]
        elif current is not None and line.startswith('"'):
            current.append(line)
        elif current is not None:
            text = "".join(part.strip()[1:-1] for part in current)
            if text:
                ids.add(text)
            current = None
    return ids


def test_every_entry_is_translated() -> None:
    result = subprocess.run(
        ["msgattrib", "--untranslated", "--no-obsolete", str(CATALOGUE / "django.po")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert not _entries_without_header(result.stdout), result.stdout[:2000]
    assert "#, fuzzy" not in re.sub(r"(?s)^.*?\n\n", "", (CATALOGUE / "django.po").read_text())


def _entries_without_header(text: str) -> list[str]:
    return [block for block in text.split("\n\n") if block.strip() and 'msgid ""' not in block]


def test_compiled_catalogue_matches_the_source(tmp_path: Path) -> None:
    compiled = tmp_path / "django.mo"
    subprocess.run(
        ["msgfmt", "--check", "-o", str(compiled), str(CATALOGUE / "django.po")], check=True
    )
    assert compiled.read_bytes() == (CATALOGUE / "django.mo").read_bytes(), (
        "Run: cd src/hocba && msgfmt -o locale/en/LC_MESSAGES/django.mo "
        "locale/en/LC_MESSAGES/django.po"
    )


def test_no_string_is_missing_from_the_catalogue(tmp_path: Path) -> None:
    copy = tmp_path / "hocba"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    # PYTHONPATH makes the copy *be* the hocba package, so LOCALE_PATHS points into the copy.
    env = {
        **os.environ,
        "HOCBA_TESTING": "1",
        "HOCBA_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)
    original = (CATALOGUE / "django.po").read_bytes()
    subprocess.run(
        [sys.executable, "-m", "hocba.cli", "makemessages", "-l", "en", "--no-location",
         "--ignore", "*/tests/*", "--ignore", "conftest.py"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )  # fmt: skip
    assert (CATALOGUE / "django.po").read_bytes() == original
    missing = _msgids(copy / "locale/en/LC_MESSAGES/django.po") - _msgids(CATALOGUE / "django.po")
    assert not missing, f"Run makemessages -l en and translate: {sorted(missing)[:10]}"
