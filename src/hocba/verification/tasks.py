"""Background tasks of the verification app (STYLE §6): take ids, re-check state, idempotent."""

from __future__ import annotations

from django_tasks import task


# Low priority: a cache for the file check's fast path, worked when signing and issuing wait for
# nothing (ahead of it in the queue whatever was enqueued first).
@task(priority=-20)
def store_reports(record_ids: list[int]) -> None:
    """The stored validation report of each issued record among ``record_ids`` that has none
    (:func:`hocba.verification.online.store_issue_reports`): the fast path's answers."""
    from hocba.verification.online import store_issue_reports

    store_issue_reports(record_ids)
