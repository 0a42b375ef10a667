"""The privacy page, and reads by staff of a school the pupil left (issue 10 §5)."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse

from hocba.audit.models import AuditEvent
from hocba.conftest import World
from hocba.schools.models import Enrolment, SchoolClass

READ = "schools.pupil.personal_data_read"


def test_the_privacy_page_is_public_and_linked_from_every_page(
    client: Client, world: World
) -> None:
    page = client.get(reverse("web:privacy"))
    assert page.status_code == 200
    assert "Giữ trong bao lâu" in page.text and "Ai được xem" in page.text
    assert reverse("web:privacy") in client.get(reverse("web:login")).text


def test_a_read_by_the_school_the_pupil_left_is_logged_for_the_new_school(
    client: Client, world: World
) -> None:
    pupil = world.own.pupils[0]
    Enrolment.objects.filter(pupil=pupil).update(left_on=dt.date(2025, 1, 20))
    Enrolment.objects.create(
        pupil=pupil,
        school_class=SchoolClass.objects.get(school=world.foreign.school, name="4A"),
        school_year=world.year,
        joined_on=dt.date(2025, 1, 22),
    )
    client.force_login(world.own.users["principal"])
    assert client.get(reverse("web:pupil", args=[pupil.pk])).status_code == 200
    event = AuditEvent.objects.get(action=READ)
    assert event.school == world.foreign.school and event.object_id == str(pupil.pk)
    # The new school's own staff reading their pupil is not an outside read.
    client.force_login(world.foreign.users["principal"])
    client.get(reverse("web:pupil", args=[pupil.pk]))
    assert AuditEvent.objects.filter(action=READ).count() == 1
