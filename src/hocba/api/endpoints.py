"""REST API over the same selectors and services as the web UI (ARCHITECTURE §3)."""

from __future__ import annotations

import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import NinjaAPI, Query, Schema
from ninja.security import django_auth

from hocba.api.assessment import router as assessment_router
from hocba.api.errors import SESSION
from hocba.api.exchange import router as exchange_router
from hocba.api.signing import router as signing_router
from hocba.api.verification import router as verification_router
from hocba.common.errors import DomainError, PermissionRefused
from hocba.common.ratelimit import RateLimited
from hocba.schools import access, selectors
from hocba.schools.models import Pupil

api = NinjaAPI(
    title="hocba API",
    version="1",
    description=(
        "API học bạ số. Đăng nhập bằng phiên làm việc (session) của giao diện cán bộ; "
        "API xác thực (verification) dùng khoá API của cơ quan, tổ chức hoặc gọi ẩn danh."
    ),
    auth=django_auth,
    urls_namespace="api",
)
api.add_router("/", assessment_router)
api.add_router("/signing/", signing_router)
api.add_router("/", verification_router)
api.add_router("/", exchange_router)


@api.exception_handler(PermissionRefused)
def permission_refused(request: HttpRequest, exc: PermissionRefused) -> HttpResponse:
    return api.create_response(request, {"detail": exc.message}, status=403)


@api.exception_handler(RateLimited)
def rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = api.create_response(request, {"detail": exc.message}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, {"detail": exc.message, "field": exc.field}, status=400)


class SchoolOut(Schema):
    id: int
    code: str
    name: str
    province: str
    district: str | None


class ClassOut(Schema):
    id: int
    name: str
    grade: int
    school_year: str
    homeroom_teacher: str | None
    pupil_count: int


class PupilRow(Schema):
    id: int
    ministry_code: str
    full_name: str
    sex: str
    date_of_birth: datetime.date
    register_number: str


class PupilOut(Schema):
    id: int
    ministry_code: str
    personal_id: str | None
    family_name: str
    middle_name: str
    given_name: str
    sex: str
    date_of_birth: datetime.date
    ethnicity: str
    nationality: str
    birthplace: str
    hometown: str
    address: str
    father_name: str
    mother_name: str
    guardian_name: str


@api.get("/schools", response={200: list[SchoolOut], **SESSION}, tags=["schools"])
def list_schools(request: HttpRequest) -> list[SchoolOut]:
    schools = access.visible_schools(request.user).select_related("province", "district")
    return [
        SchoolOut(
            id=s.pk,
            code=s.code,
            name=s.name,
            province=s.province.name,
            district=s.district.name if s.district else None,
        )
        for s in schools
    ]


@api.get(
    "/schools/{school_id}/classes", response={200: list[ClassOut], **SESSION}, tags=["schools"]
)
def list_classes(
    request: HttpRequest,
    school_id: int,
    year: str | None = Query(None, pattern=r"^\d{4}-\d{4}$", examples=["2024-2025"]),
) -> list[ClassOut]:
    school = get_object_or_404(access.visible_schools(request.user), pk=school_id)
    classes = selectors.classes_of_school(request.user, school, year_name=year)
    return [
        ClassOut(
            id=c.pk,
            name=c.name,
            grade=c.grade,
            school_year=c.school_year.name,
            homeroom_teacher=c.homeroom_teacher.full_name if c.homeroom_teacher else None,
            pupil_count=c.pupil_count,  # type: ignore[attr-defined]
        )
        for c in classes
    ]


@api.get("/classes/{class_id}/pupils", response={200: list[PupilRow], **SESSION}, tags=["schools"])
def list_class_pupils(request: HttpRequest, class_id: int) -> list[PupilRow]:
    school_class = get_object_or_404(access.visible_classes(request.user), pk=class_id)
    return [
        PupilRow(
            id=e.pupil.pk,
            ministry_code=e.pupil.ministry_code,
            full_name=e.pupil.full_name,
            sex=e.pupil.sex,
            date_of_birth=e.pupil.date_of_birth,
            register_number=e.register_number,
        )
        for e in selectors.class_roster(school_class)
    ]


@api.get("/pupils/{pupil_id}", response={200: PupilOut, **SESSION}, tags=["schools"])
def get_pupil(request: HttpRequest, pupil_id: int) -> Pupil:
    pupil = get_object_or_404(access.visible_pupils(request.user), pk=pupil_id)
    access.log_personal_data_read(request.user, pupil)
    return pupil
