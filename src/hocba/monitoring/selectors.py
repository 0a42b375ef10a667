"""Rollout figures by aggregate queries (issue 9 §3).

Each level runs one GROUP BY query per source (staff, classes, pupils, records, syncs), whatever
the number of schools: figures are grouped by school, or by class on a school's page, and summed
up to districts and provinces in Python. A Department page of 1,000 schools is a handful of
queries returning 1,000 small rows each.

How records are counted (ARCHITECTURE §4): a pupil's year record may have several versions.
Superseded versions never count, nor revoked ones. An enrolment is counted once per column, at
the furthest stage any of its remaining versions reached, so the counts are cumulative. During a
correction an enrolment has two such versions, the issued one (still valid until its replacement
is issued) and the new one in the works: it counts as issued, because a valid issued version of
its record exists, and once the replacement is issued the old one is superseded and only the new
one counts. ``issued`` therefore counts the pupils whose record has a current issued version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db.models import Count, Exists, Model, OuterRef, Q, QuerySet
from django.utils import timezone

from hocba.assessment.models import Lock
from hocba.monitoring.figures import Figures
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.schools.models import (
    Enrolment,
    Role,
    SchoolClass,
    SchoolYear,
    Staff,
    StaffRole,
)
from hocba.signing.models import CertificatePurpose, SigningCertificate

TEACHER_ROLES = (Role.HOMEROOM_TEACHER, Role.SUBJECT_TEACHER)
PRINCIPAL_ROLES = (Role.PRINCIPAL, Role.DEPUTY_PRINCIPAL)
S = YearRecordStatus
NOT_COUNTED = (S.SUPERSEDED, S.REVOKED)
PENDING = (S.AWAITING_SUMMER_REASSESSMENT, S.MISSING_IDENTIFIER)
TEACHER_SIGNED_OR_LATER = (S.TEACHER_SIGNED, S.PRINCIPAL_SIGNED, S.SEALED, S.ISSUED)
PRINCIPAL_SIGNED_OR_LATER = (S.PRINCIPAL_SIGNED, S.SEALED, S.ISSUED)


@dataclass(frozen=True)
class Scope:
    """A set of schools: ``School.objects.filter(**{field: value})`` (field: province_id, ...)."""

    field: str
    value: int

    def on(self, path: str) -> Q:
        """The filter on a model that reaches School through ``path`` ("school__", ...)."""
        return Q(**{f"{path}{self.field}": self.value})


@dataclass
class Row:
    """One child place in a dashboard table: kind is "province", "district", "school", "class"."""

    kind: str
    pk: int
    label: str
    code: str = ""
    figures: Figures = field(default_factory=Figures)
    note: str = ""
    school_count: int = 0


def current_school_year() -> SchoolYear | None:
    return SchoolYear.objects.filter(is_current=True).first()


def selected_school_year(name: str | None) -> SchoolYear | None:
    """The year asked for by name (``?nam_hoc=2024-2025``), else the current one."""
    if name:
        chosen = SchoolYear.objects.filter(name=name).first()
        if chosen is not None:
            return chosen
    return current_school_year() or SchoolYear.objects.first()


# -- Grouped counts ---------------------------------------------------------------------------


def _by(rows: QuerySet[Any], key: str) -> dict[Any, dict[str, int]]:
    return {row.pop(key): row for row in rows.order_by()}


def certified_exists(staff_ref: str = "pk") -> Exists:
    """The staff member has a registered personal certificate, not retired and not expired."""
    return Exists(
        SigningCertificate.objects.filter(
            staff=OuterRef(staff_ref),
            purpose=CertificatePurpose.PERSONAL,
            retired_at__isnull=True,
            not_after__gt=timezone.now(),
        )
    )


def staff_counts(scope: Scope) -> dict[int, dict[str, int]]:
    """Teachers and principals per school, and how many of them have a certificate."""

    def has_role(roles: tuple[str, ...]) -> Exists:
        return Exists(StaffRole.objects.filter(staff=OuterRef("pk"), role__in=roles))

    rows = (
        Staff.objects.filter(scope.on("school__"), user__is_active=True)
        .alias(
            is_teacher=has_role(TEACHER_ROLES),
            is_principal=has_role(PRINCIPAL_ROLES),
            is_certified=certified_exists(),
        )
        .values("school_id")
        .annotate(
            teachers=Count("pk", filter=Q(is_teacher=True)),
            teachers_certified=Count("pk", filter=Q(is_teacher=True, is_certified=True)),
            principals=Count("pk", filter=Q(is_principal=True)),
            principals_certified=Count("pk", filter=Q(is_principal=True, is_certified=True)),
        )
    )
    return _by(rows, "school_id")


def locked_exists() -> Exists:
    """The class is locked: the homeroom teacher's "finished", or an active whole-class lock
    (the same rule as :func:`hocba.records.selectors.class_is_locked`)."""
    return Exists(
        Lock.objects.filter(
            Q(is_class_finished=True) | Q(subject="", period=""),
            school_class=OuterRef("pk"),
            unlocked_at__isnull=True,
        )
    )


def class_counts(scope: Scope, year: SchoolYear) -> dict[int, dict[str, int]]:
    rows = (
        SchoolClass.objects.filter(scope.on("school__"), school_year=year)
        .alias(is_locked=locked_exists())
        .values("school_id")
        .annotate(classes=Count("pk"), classes_locked=Count("pk", filter=Q(is_locked=True)))
    )
    return _by(rows, "school_id")


def pupil_counts(scope: Scope, year: SchoolYear, group: str) -> dict[int, dict[str, int]]:
    """Pupils currently enrolled, grouped by ``group`` (a field path of Enrolment)."""
    rows = (
        Enrolment.objects.filter(
            scope.on("school_class__school__"), school_year=year, left_on__isnull=True
        )
        .values(group)
        .annotate(pupils=Count("pk"))
    )
    return _by(rows, group)


def counted_records(scope: Scope, year: SchoolYear) -> QuerySet[YearRecord]:
    """The record versions that count: not superseded, not revoked (see the module doc)."""
    return YearRecord.objects.filter(scope.on("school__"), school_year=year).exclude(
        status__in=NOT_COUNTED
    )


def record_counts(records: QuerySet[YearRecord], group: str) -> dict[int, dict[str, int]]:
    """Cumulative record counts (distinct enrolments) grouped by ``group`` of YearRecord."""

    def pupils_with(statuses: tuple[str, ...] | None = None) -> Count:
        condition = Q(status__in=statuses) if statuses else None
        return Count("enrolment_id", distinct=True, filter=condition)

    rows = records.values(group).annotate(
        compiled=pupils_with(),
        teacher_signed=pupils_with(TEACHER_SIGNED_OR_LATER),
        principal_signed=pupils_with(PRINCIPAL_SIGNED_OR_LATER),
        issued=pupils_with((S.ISSUED,)),
        pending=pupils_with(PENDING),
    )
    return _by(rows, group)


def record_sync_model() -> type[Model] | None:
    """``hocba.exchange``'s RecordSync, or None while that app is not installed."""
    if not apps.is_installed("hocba.exchange"):
        return None
    try:
        return apps.get_model("exchange", "RecordSync")
    except LookupError:
        return None


def synced_counts(records: QuerySet[YearRecord], group: str) -> dict[int, int] | None:
    """Pupils whose counted record version reached an upper store, grouped by ``group``.

    A record version is synced when it has a RecordSync with status "synced" for any target.
    None when the exchange app is not installed (the column then shows "—").
    """
    record_sync = record_sync_model()
    if record_sync is None:
        return None
    synced = record_sync._default_manager.filter(record=OuterRef("pk"), status="synced")
    rows = (
        records.filter(Exists(synced))
        .values(group)
        .annotate(synced=Count("enrolment_id", distinct=True))
    )
    return {key: row["synced"] for key, row in _by(rows, group).items()}


def synced_record_ids(records: QuerySet[YearRecord]) -> set[int] | None:
    """The ids among ``records`` that are synced; None without the exchange app."""
    record_sync = record_sync_model()
    if record_sync is None:
        return None
    synced = record_sync._default_manager.filter(status="synced", record__in=records)
    return set(synced.values_list("record_id", flat=True))
