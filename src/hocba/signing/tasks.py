"""Background tasks of the signing app (STYLE §6): take ids, re-check state, idempotent."""

from __future__ import annotations

import logging

from django_tasks import TaskContext, task

from hocba.signing.batch import run_batch

logger = logging.getLogger(__name__)


@task(takes_context=True)
def sign_batch(context: TaskContext, batch_id: int) -> None:
    """Work one signing batch (:func:`hocba.signing.batch.run_batch`).

    A second attempt of this task means its first worker died (:mod:`hocba.jobs.lease`), so
    it takes the batch over without waiting for the batch's own heartbeat to go stale.
    """
    run_batch(batch_id, takeover=context.attempt > 1)


@task()
def add_long_term_validation(batch_id: int, record_ids: list[int] | None = None) -> None:
    """PAdES B-LTA for the records a seal batch sealed (:mod:`hocba.signing.longterm`), then
    issue them into the log (:func:`hocba.ledger.issuing.issue_sealed`).

    ``record_ids``: a chunk of the batch's records (a batch queues one job per chunk, so several
    workers share a school); all of them when omitted. Records already augmented or issued are
    skipped, so running it again (or after a failure) is safe; a record whose long-term step
    failed stays sealed until a later run.
    """
    from hocba.signing import longterm, registry
    from hocba.signing.models import ItemState, SigningItem
    from hocba.signing.tsa import configured_timestamper

    signed = SigningItem.objects.filter(batch_id=batch_id, state=ItemState.SIGNED)
    if record_ids is not None:
        signed = signed.filter(record_id__in=record_ids)
    record_ids = list(signed.values_list("record_id", flat=True))
    done, failed = longterm.augment_sealed(
        record_ids, trust=registry.trust_store(), timestamper=configured_timestamper()
    )
    if done or failed:  # a chunk done before (the demo, a re-run) is not news
        logger.info(
            "long-term validation for batch %s: %s added, %s failed", batch_id, done, len(failed)
        )
    issue_augmented(record_ids)


def issue_augmented(record_ids: list[int]) -> tuple[int, list[tuple[int, str]]]:
    """Issue the sealed records among these that have their long-term validation data."""
    from hocba.ledger.issuing import issue_sealed
    from hocba.signing.models import LongTermValidation

    ready = list(
        LongTermValidation.objects.filter(record_id__in=record_ids).values_list(
            "record_id", flat=True
        )
    )
    result = issue_sealed(ready)
    if ready:
        # The fast path of file verification: each issued file's validation report, made by the
        # worker after this (a full validation costs about as much as the long-term step).
        from django.db import transaction

        from hocba.verification.tasks import store_reports

        transaction.on_commit(lambda: store_reports.enqueue(ready))
    return result
