"""Two-factor authentication (TOTP) for the people who sign, issue or see many pupils (issue 10 §2).

Roles in :data:`STRONG_ROLES` (principals and deputies, school administrators, district and
Department staff, system administrators) prove a second factor at login: a time-based code from an
authenticator app (RFC 6238, django-otp's ``TOTPDevice``), or one of ten single-use recovery codes
(``StaticDevice``). Signing and issuing ask for a fresh code again (:func:`check_reauthentication`).

``settings.HOCBA_2FA``: ``required`` (the default without ``DEBUG``) makes those roles set up an
authenticator before doing anything else; ``optional`` (the default in the demo and the tests)
asks the second factor only of people who set one up. Anyone may set one up.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from hocba.audit.services import record_event
from hocba.common.errors import PermissionRefused
from hocba.schools.models import Role

STRONG_ROLES = frozenset(
    {
        Role.PRINCIPAL,
        Role.DEPUTY_PRINCIPAL,
        Role.SCHOOL_ADMIN,
        Role.DISTRICT_STAFF,
        Role.DEPARTMENT_STAFF,
        Role.SYSTEM_ADMIN,
    }
)
RECOVERY_CODES = 10
DEVICE_NAME = "Ứng dụng xác thực"


def mode() -> str:
    return str(getattr(settings, "HOCBA_2FA", "optional"))


def needs_strong_authentication(user: Any) -> bool:
    """Whether the user's roles call for a second factor (DOMAIN §4: signers, many pupils)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    staff = getattr(user, "staff", None)
    return bool(staff is not None and staff.role_set & STRONG_ROLES)


def has_second_factor(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def must_set_up(user: Any) -> bool:
    return (
        mode() == "required" and needs_strong_authentication(user) and not has_second_factor(user)
    )


def pending_device(user: Any) -> TOTPDevice:
    """The authenticator being set up (unconfirmed), made on first call."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def confirm_device(user: Any, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending authenticator with its first code; returns it and new recovery codes
    (shown once). Replaces an earlier authenticator."""
    device = pending_device(user)
    if not device.verify_token(_digits(code)):
        raise PermissionRefused(
            _("Mã xác thực không đúng. Hãy nhập mã 6 chữ số đang hiện trong ứng dụng xác thực.")
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        record_event(actor=user, action="auth.2fa_set_up", obj=user, object_label=user.username)
    return device, codes


def new_recovery_codes(user: Any, code: str) -> list[str]:
    """Replace the recovery codes after a fresh second factor."""
    check_reauthentication(user, code, required=True)
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        record_event(
            actor=user, action="auth.2fa_recovery_codes", obj=user, object_label=user.username
        )
    return codes


def _new_recovery_codes(user: Any) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=_("Mã dự phòng"), confirmed=True)
    codes = [_recovery_code() for _i in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _recovery_code() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _i in range(10))


def _digits(code: str) -> str:
    return "".join(code.split())


def verify(user: Any, code: str) -> Any:
    """The device the code belongs to (TOTP, or a recovery code used up), or ``None``.

    django-otp throttles each device after failures and refuses a TOTP code used once already."""
    code = _digits(code)
    if not code:
        return None
    return match_token(user, code)


def check_reauthentication(user: Any, code: str, *, required: bool = False) -> None:
    """Before signing or issuing: a fresh code from the user's authenticator, if they have one
    (or ``required``). Raises :class:`PermissionRefused` with a Vietnamese message."""
    if not required and not has_second_factor(user):
        return
    if verify(user, code) is None:
        raise PermissionRefused(
            _(
                "Mã xác thực hai bước không đúng hoặc đã dùng. Hãy nhập mã mới trong ứng dụng "
                "xác thực trước khi ký."
            )
        )
