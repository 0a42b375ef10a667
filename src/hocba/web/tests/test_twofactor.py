"""Two-factor authentication: setup, the code after the password, recovery codes, the required
mode for strong roles, re-authentication before signing, security headers, idle sessions."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from hocba.audit.models import AuditEvent
from hocba.common import twofactor
from hocba.common.errors import PermissionRefused
from hocba.common.security import LAST_SEEN
from hocba.conftest import World

START = dt.datetime(2025, 5, 20, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def vietnamese() -> Iterator[None]:
    with translation.override("vi"):
        yield


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _set_up(client: Client, user: Any, clock: Any) -> list[str]:
    client.force_login(user)
    page = client.get(reverse("web:twofactor_setup"))
    assert page.status_code == 200 and "data:image/svg+xml" in page.text
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("web:twofactor_setup"), {"code": _code(device)})
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10 and all(code in response.text for code in codes)
    clock.shift(dt.timedelta(seconds=31))  # a TOTP code is good once: the next one is newer
    return list(codes)


def test_a_principal_sets_up_an_authenticator_and_is_asked_for_a_code_at_each_login(
    client: Client, world: World, clock: Any
) -> None:
    principal = world.own.users["principal"]
    _set_up(client, principal, clock)
    assert TOTPDevice.objects.get(user=principal).confirmed
    assert AuditEvent.objects.filter(action="auth.2fa_set_up").count() == 1

    client.logout()
    client.force_login(principal)  # the password step
    home = reverse("web:home")
    response = client.get(home)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:twofactor_verify"))
    wrong = client.post(reverse("web:twofactor_verify"), {"code": "000000", "next": home})
    assert wrong.status_code == 400 and "Mã không đúng" in wrong.text
    assert client.get(home).status_code == 302
    device = TOTPDevice.objects.get(user=principal)
    clock.shift(dt.timedelta(seconds=31))
    right = client.post(reverse("web:twofactor_verify"), {"code": _code(device), "next": home})
    assert right.status_code == 302 and right["Location"] == home
    assert client.get(home).status_code == 200


def test_a_recovery_code_works_once(client: Client, world: World, clock: Any) -> None:
    principal = world.own.users["principal"]
    codes = _set_up(client, principal, clock)
    for attempt in range(2):
        client.logout()
        client.force_login(principal)
        response = client.post(reverse("web:twofactor_verify"), {"code": codes[0]})
        assert response.status_code == (302 if attempt == 0 else 400)
    assert StaticToken.objects.filter(device__user=principal).count() == 9


def test_public_pages_and_logout_need_no_second_factor(
    client: Client, world: World, clock: Any
) -> None:
    principal = world.own.users["principal"]
    _set_up(client, principal, clock)
    client.logout()
    client.force_login(principal)
    assert client.get(reverse("verification:lookup")).status_code == 200
    assert client.get(reverse("web:guide")).status_code == 200
    assert client.post(reverse("web:logout")).status_code == 302


def test_required_mode_sends_strong_roles_to_the_setup_first(
    client: Client, world: World, settings: Any
) -> None:
    settings.HOCBA_2FA = "required"
    client.force_login(world.own.users["principal"])
    response = client.get(reverse("web:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:twofactor_setup"))
    api = client.get("/api/v1/classes/1/subjects")
    assert api.status_code == 403 and "xác thực hai bước" in api.json()["detail"]
    client.logout()
    client.force_login(world.own.users["homeroom_teacher"])  # a teacher: not a strong role
    assert client.get(reverse("web:home")).status_code == 200


def test_signing_asks_a_fresh_code_of_those_with_an_authenticator(
    client: Client, world: World, clock: Any
) -> None:
    principal = world.own.users["principal"]
    twofactor.check_reauthentication(principal, "")  # no authenticator: password only
    _set_up(client, principal, clock)
    with pytest.raises(PermissionRefused, match="Mã xác thực hai bước không đúng"):
        twofactor.check_reauthentication(principal, "")
    device = TOTPDevice.objects.get(user=principal)
    code = _code(device)
    twofactor.check_reauthentication(principal, code)
    with pytest.raises(PermissionRefused):  # the same code again: refused (replay)
        twofactor.check_reauthentication(principal, code)
    # The signing forms carry the field for them only.
    from hocba.signing.models import SigningCertificate
    from hocba.web.views_signing import ResumeForm, SignForm

    none = SigningCertificate.objects.none()
    assert "otp_code" in SignForm(certificates=none, second_factor=True).fields
    assert "otp_code" not in SignForm(certificates=none).fields
    assert "otp_code" in ResumeForm(second_factor=True).fields


def test_new_recovery_codes_replace_the_old_ones(client: Client, world: World, clock: Any) -> None:
    principal = world.own.users["principal"]
    old = _set_up(client, principal, clock)
    device = TOTPDevice.objects.get(user=principal)
    response = client.post(reverse("web:twofactor_recovery"), {"code": _code(device)})
    assert response.status_code == 200
    new = response.context["codes"]
    assert not set(old) & set(new)
    assert StaticToken.objects.filter(device__user=principal).count() == 10


def test_security_headers(client: Client, world: World) -> None:
    response = client.get(reverse("verification:lookup"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_idle_session_ends(client: Client, world: World, settings: Any) -> None:
    settings.HOCBA_IDLE_SECONDS = 600
    client.force_login(world.own.users["homeroom_teacher"])
    assert client.get(reverse("web:home")).status_code == 200
    session = client.session
    session[LAST_SEEN] = time.time() - 601
    session.save()
    response = client.get(reverse("web:home"))
    assert response.status_code == 302 and reverse("web:login") in response["Location"]
    assert client.get(reverse("web:home")).status_code == 302  # signed out for good
