"""Who may see and change what: every role of the world fixture against one declared policy."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from hocba.common.errors import PermissionRefused
from hocba.conftest import World, make_user
from hocba.schools import access
from hocba.schools.models import Enrolment, Role

# The objects every role is checked against: the own school (the homeroom/taught class 4A, the
# other class 4B, a pupil of each) and the foreign school (another district of the province).
OWN_SCHOOL = "own_school"
OWN_4A = "own_class_4a"
OWN_4B = "own_class_4b"
OWN_PUPIL_4A = "own_pupil_4a"
OWN_PUPIL_4B = "own_pupil_4b"
FOREIGN_SCHOOL = "foreign_school"
FOREIGN_4A = "foreign_class_4a"
FOREIGN_PUPIL = "foreign_pupil"

OWN = frozenset({OWN_SCHOOL, OWN_4A, OWN_4B, OWN_PUPIL_4A, OWN_PUPIL_4B})
FOREIGN = frozenset({FOREIGN_SCHOOL, FOREIGN_4A, FOREIGN_PUPIL})
EVERYTHING = OWN | FOREIGN
NOTHING: frozenset[str] = frozenset()
TEACHER_SCOPE = frozenset({OWN_SCHOOL, OWN_4A, OWN_PUPIL_4A})

# role → (objects it may view, objects it may change). Everything else is refused.
POLICY: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "homeroom_teacher": (TEACHER_SCOPE, NOTHING),
    "subject_teacher": (TEACHER_SCOPE, NOTHING),
    "principal": (OWN, OWN),
    "deputy_principal": (OWN, OWN),
    "school_admin": (OWN, OWN),
    "district_staff": (OWN, NOTHING),
    "department_staff": (EVERYTHING, NOTHING),
    "system_admin": (EVERYTHING, EVERYTHING),
    "anonymous": (NOTHING, NOTHING),
    "inactive_principal": (NOTHING, NOTHING),
    "user_without_staff": (NOTHING, NOTHING),
}


def user_for(world: World, role: str) -> Any:
    """The user playing ``role``; school roles are taken from the own school."""
    if role == "anonymous":
        return AnonymousUser()
    if role == "inactive_principal":
        user = make_user("a_ht_cu", [Role.PRINCIPAL], school=world.own.school)
        user.is_active = False
        user.save(update_fields=["is_active"])
        return user
    if role == "user_without_staff":
        return get_user_model().objects.create_user(username="khach", password="x")
    return world.own.users.get(role) or world.users[role]


def objects_of(world: World) -> dict[str, Any]:
    return {
        OWN_SCHOOL: world.own.school,
        OWN_4A: world.own.classes[0],
        OWN_4B: world.own.classes[1],
        OWN_PUPIL_4A: world.own.pupils[0],
        OWN_PUPIL_4B: world.own.pupils[3],
        FOREIGN_SCHOOL: world.foreign.school,
        FOREIGN_4A: world.foreign.classes[0],
        FOREIGN_PUPIL: world.foreign.pupils[0],
    }


@pytest.mark.parametrize("role", POLICY)
def test_can_view_and_can_change_follow_the_policy(world: World, role: str) -> None:
    user = user_for(world, role)
    may_view, may_change = POLICY[role]
    objects = objects_of(world)
    expected = {key: (key in may_view, key in may_change) for key in objects}
    actual = {
        key: (access.can_view(user, obj), access.can_change(user, obj))
        for key, obj in objects.items()
    }
    assert actual == expected


@pytest.mark.parametrize("role", POLICY)
def test_visible_querysets_agree_with_the_policy(world: World, role: str) -> None:
    user = user_for(world, role)
    may_view, _ = POLICY[role]
    objects = objects_of(world)
    visible = (set(access.visible_schools(user)) | set(access.visible_classes(user))) | set(
        access.visible_pupils(user)
    )
    assert {key for key, obj in objects.items() if obj in visible} == may_view


@pytest.mark.parametrize("role", POLICY)
def test_require_view_and_require_change_raise_permission_refused(world: World, role: str) -> None:
    user = user_for(world, role)
    may_view, may_change = POLICY[role]
    for key, obj in objects_of(world).items():
        if key not in may_view:
            with pytest.raises(PermissionRefused):
                access.require_view(user, obj)
        if key not in may_change:
            with pytest.raises(PermissionRefused):
                access.require_change(user, obj)
        if key in may_change:
            access.require_change(user, obj)


def test_teachers_lose_sight_of_a_pupil_who_left_their_class(world: World) -> None:
    pupil = world.own.pupils[0]
    Enrolment.objects.filter(pupil=pupil).update(left_on=datetime.date(2025, 1, 10))
    for role in ("homeroom_teacher", "subject_teacher"):
        assert not access.can_view(world.own.users[role], pupil)
    assert access.can_view(world.own.users["homeroom_teacher"], world.own.pupils[1])


def test_only_the_new_school_changes_a_transferred_pupil(world: World) -> None:
    pupil = world.own.pupils[0]
    Enrolment.objects.filter(pupil=pupil).update(left_on=datetime.date(2025, 1, 10))
    Enrolment.objects.create(
        pupil=pupil,
        school_class=world.foreign.classes[0],
        school_year=world.year,
        joined_on=datetime.date(2025, 1, 13),
    )
    assert access.can_change(world.foreign.users["principal"], pupil)
    assert not access.can_change(world.own.users["principal"], pupil)
    assert access.can_view(world.foreign.users["homeroom_teacher"], pupil)
    assert not access.can_view(world.own.users["homeroom_teacher"], pupil)


def test_staff_roles_of_the_foreign_school_mirror_the_own_school(world: World) -> None:
    """The policy is about the relation to the school, not about which school is first."""
    foreign_principal = world.foreign.users["principal"]
    assert access.can_change(foreign_principal, world.foreign.school)
    assert not access.can_view(foreign_principal, world.own.school)
    assert not access.can_change(foreign_principal, world.own.pupils[0])
    foreign_teacher = world.foreign.users["homeroom_teacher"]
    assert access.can_view(foreign_teacher, world.foreign.classes[0])
    assert not access.can_view(foreign_teacher, world.foreign.classes[1])


def test_superuser_without_staff_profile_is_a_system_admin(world: World) -> None:
    user = get_user_model().objects.create_superuser(username="root", password="x")
    assert all(access.can_change(user, obj) for obj in objects_of(world).values())
    user.is_active = False
    assert not any(access.can_view(user, obj) for obj in objects_of(world).values())
