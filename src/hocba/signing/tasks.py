"""Background tasks of the signing app (STYLE §6): take ids, re-check state, idempotent."""

from __future__ import annotations

from django_tasks import task

from hocba.signing.batch import run_batch


@task()
def sign_batch(batch_id: int) -> None:
    """Work one signing batch (:func:`hocba.signing.batch.run_batch`)."""
    run_batch(batch_id)
