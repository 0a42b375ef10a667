"""Render-job pages: start (POST), the progress page and its htmx fragment, the zip download,
and who may do each."""

from __future__ import annotations

import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from hocba.conftest import World
from hocba.records.models import RenderJob, RenderJobStatus
from hocba.records.tests import conftest as records_fixtures
from hocba.records.tests.conftest import class_4a, compile_4a, finish
from hocba.records.tests.test_jobs import work_queue

HTMX = {"HTTP_HX_REQUEST": "true"}

filled = records_fixtures.filled  # class 4A filled in, from the records tests
vietnamese = records_fixtures.vietnamese


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def compiled(filled: World) -> World:
    finish(filled)
    compile_4a(filled)
    return filled


def client_for(world: World, who: str) -> Client:
    users = {**world.users, "foreign_principal": world.foreign.users["principal"]}
    client = Client()
    client.force_login(users.get(who) or world.own.users[who])
    return client


def start(client: Client, world: World, capture: Any) -> Any:
    with capture(execute=True):
        return client.post(reverse("web:render_job_start", args=[class_4a(world).pk]))


def test_start_redirects_to_the_job_page_which_polls_while_queued(
    compiled: World, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(compiled, "homeroom_teacher")
    response = start(client, compiled, django_capture_on_commit_callbacks)
    job = RenderJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:render_job", args=[job.pk])
    assert DBTaskResult.objects.count() == 1
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "Đang chờ" in html and "0/3 học sinh" in html
    assert 'hx-trigger="every 2s"' in html and "<progress" in html
    assert "<script>" not in html.replace('<script src="', "")
    fragment = client.get(response["Location"], **HTMX).content.decode()
    assert fragment.startswith('<section id="job-progress"') and "every 2s" in fragment


def test_done_job_shows_errors_and_the_zip_downloads(
    compiled: World, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(compiled, "principal")
    start(client, compiled, django_capture_on_commit_callbacks)
    work_queue()
    job = RenderJob.objects.get()
    assert job.status == RenderJobStatus.DONE
    html = client.get(reverse("web:render_job", args=[job.pk]), **HTMX).content.decode()
    assert "Đã xong" in html and "3/3 học sinh" in html
    assert "every 2s" not in html  # polling stops
    download = reverse("web:render_job_download", args=[job.pk])
    assert download in html
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert len(zipfile.ZipFile(BytesIO(body)).namelist()) == 3


def test_pupils_without_a_record_are_listed_on_the_page(
    compiled: World, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(compiled, "principal")
    with django_capture_on_commit_callbacks(execute=True):
        from hocba.records.jobs import request_render

        job = request_render(actor=compiled.own.users["principal"], school=compiled.own.school)
    work_queue()
    html = client.get(reverse("web:render_job", args=[job.pk])).content.decode()
    assert "3 học sinh không được in" in html
    assert "Chưa tổng hợp học bạ" in html
    assert compiled.own.pupils[3].ministry_code in html


@pytest.mark.parametrize(("who", "status"), [("foreign_principal", 404), ("district_staff", 403)])
def test_refused_start_creates_no_job(
    compiled: World, django_capture_on_commit_callbacks: Any, who: str, status: int
) -> None:
    response = start(client_for(compiled, who), compiled, django_capture_on_commit_callbacks)
    assert response.status_code == status
    assert RenderJob.objects.count() == 0 and DBTaskResult.objects.count() == 0


def test_get_does_not_start_a_job(compiled: World) -> None:
    client = client_for(compiled, "principal")
    response = client.get(reverse("web:render_job_start", args=[class_4a(compiled).pk]))
    assert response.status_code == 405
    assert RenderJob.objects.count() == 0


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("principal", 200),
        ("system_admin", 200),
        ("foreign_principal", 404),
        ("district_staff", 403),
        ("department_staff", 403),
    ],
)
def test_page_and_download_only_for_permitted_users(
    compiled: World, django_capture_on_commit_callbacks: Any, who: str, status: int
) -> None:
    start(client_for(compiled, "homeroom_teacher"), compiled, django_capture_on_commit_callbacks)
    work_queue()
    job = RenderJob.objects.get()
    client = client_for(compiled, who)
    assert client.get(reverse("web:render_job", args=[job.pk])).status_code == status
    assert client.get(reverse("web:render_job_download", args=[job.pk])).status_code == status


def test_download_before_done_is_not_found(
    compiled: World, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(compiled, "principal")
    start(client, compiled, django_capture_on_commit_callbacks)
    job = RenderJob.objects.get()
    assert client.get(reverse("web:render_job_download", args=[job.pk])).status_code == 404


def test_anonymous_is_sent_to_login(compiled: World) -> None:
    response = Client().get(reverse("web:render_job", args=[1]))
    assert response.status_code == 302 and "dang-nhap" in response["Location"]


def test_the_school_page_starts_a_whole_school_job(
    compiled: World, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(compiled, "principal")
    url = reverse("web:render_school_job_start", args=[compiled.own.school.pk])
    assert url in client.get(reverse("web:school", args=[compiled.own.school.pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    job = RenderJob.objects.get()
    assert response["Location"] == reverse("web:render_job", args=[job.pk])
    assert job.school_class is None and job.school == compiled.own.school


@pytest.mark.parametrize(
    ("who", "status"),
    [("homeroom_teacher", 403), ("foreign_principal", 404), ("district_staff", 403)],
)
def test_a_whole_school_job_is_for_the_schools_managers(
    compiled: World, django_capture_on_commit_callbacks: Any, who: str, status: int
) -> None:
    url = reverse("web:render_school_job_start", args=[compiled.own.school.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(compiled, who).post(url)
    assert response.status_code == status
    assert RenderJob.objects.count() == 0 and DBTaskResult.objects.count() == 0
