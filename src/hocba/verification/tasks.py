"""Background tasks of the verification app (STYLE §6): take ids, re-check state, idempotent."""

from __future__ import annotations

from django_tasks import task


@task()
def store_reports(record_ids: list[int]) -> None:
    """The stored validation report of each issued record among ``record_ids`` that has none
    (:func:`hocba.verification.online.store_issue_reports`): the fast path's answers."""
    from hocba.verification.online import store_issue_reports

    store_issue_reports(record_ids)
