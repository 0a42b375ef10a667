"""Tiny tasks for the queue's tests: each run appends a line to a file."""

from __future__ import annotations

from pathlib import Path

from django_tasks import task


@task()
def note(path: str, text: str) -> str:
    with Path(path).open("a", encoding="utf-8") as out:
        out.write(text + "\n")
    return text
