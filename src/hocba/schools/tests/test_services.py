"""The school world's services: audited changes, Vietnamese refusals, nothing changed on refusal."""

from __future__ import annotations

import datetime
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db.models import Model
from django.utils import translation

from hocba.audit.models import AuditEvent
from hocba.common.errors import DomainError, PermissionRefused
from hocba.conftest import SchoolSide, World
from hocba.schools import services
from hocba.schools.models import Pupil, Role, SchoolClass, SchoolYear, Staff, TeachingAssignment
from hocba.schools.services import PupilData, StaffData


@pytest.fixture(autouse=True, scope="module")
def vietnamese() -> Iterator[None]:
    """The messages are checked in Vietnamese, whatever an earlier test activated."""
    with translation.override("vi"):
        yield


JOINED = datetime.date(2024, 9, 5)


# --- Helpers ---------------------------------------------------------------------------------


def db_state(*rows: Model) -> dict[str, Any]:
    """Row counts of every hocba model, User and AuditEvent, plus the field values of ``rows``."""
    models = [
        model
        for config in apps.get_app_configs()
        if config.name.startswith("hocba.")
        for model in config.get_models()
    ]
    models += [get_user_model(), AuditEvent]
    state: dict[str, Any] = {model._meta.label: model.objects.count() for model in models}
    for row in rows:
        values = type(row).objects.filter(pk=row.pk).values().first()
        state[f"{row._meta.label}#{row.pk}"] = values
    return state


def new_events(since: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=since).order_by("pk"))


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def pupil_data(**overrides: Any) -> PupilData:
    values: dict[str, Any] = {
        "ministry_code": "0000009001",
        "family_name": "Hoàng",
        "middle_name": "Thị",
        "given_name": "Mai",
        "sex": "nu",
        "date_of_birth": datetime.date(2015, 3, 2),
        "personal_id": "001315123456",
    }
    return PupilData(**{**values, **overrides})


def staff_data(**overrides: Any) -> StaffData:
    values: dict[str, Any] = {
        "username": "gv_moi",
        "family_name": "Đỗ",
        "given_name": "Hoa",
        "roles": (Role.SUBJECT_TEACHER,),
    }
    return StaffData(**{**values, **overrides})


def unenrolled_pupil() -> Pupil:
    return Pupil.objects.create(
        ministry_code="0000009100",
        family_name="Vũ",
        given_name="Nam",
        sex="nam",
        date_of_birth=datetime.date(2015, 6, 1),
    )


def actor_for(world: World, role: str, side: str = "own") -> Any:
    if role == "anonymous":
        return AnonymousUser()
    school_side = world.own if side == "own" else world.foreign
    return school_side.users.get(role) or world.users[role]


# --- One valid call of each service, on one school -------------------------------------------

Call = Callable[[Any], Any]


def call_admit_pupil(world: World, side: SchoolSide) -> tuple[Call, list[Model]]:
    def call(actor: Any) -> Any:
        return services.admit_pupil(
            actor=actor, data=pupil_data(), school_class=side.classes[1], joined_on=JOINED
        )

    return call, []


def call_update_pupil(world: World, side: SchoolSide) -> tuple[Call, list[Model]]:
    pupil = side.pupils[0]

    def call(actor: Any) -> Any:
        return services.update_pupil(actor=actor, pupil=pupil, changes={"address": "Số 1 Phố Huế"})

    return call, [pupil]


def call_enrol_pupil(world: World, side: SchoolSide) -> tuple[Call, list[Model]]:
    pupil = unenrolled_pupil()

    def call(actor: Any) -> Any:
        return services.enrol_pupil(
            actor=actor, pupil=pupil, school_class=side.classes[1], joined_on=JOINED
        )

    return call, [pupil]


def call_create_class(world: World, side: SchoolSide) -> tuple[Call, list[Model]]:
    teacher = side.users["subject_teacher"].staff

    def call(actor: Any) -> Any:
        return services.create_class(
            actor=actor,
            school=side.school,
            school_year=world.year,
            grade=3,
            name=" 3a ",
            homeroom_teacher=teacher,
        )

    return call, []


def call_set_homeroom_teacher(world: World, side: SchoolSide) -> tuple[Call, list[Model]]:
    school_class = side.classes[1]
    teacher = side.users["subject_teacher"].staff

    def call(actor: Any) -> Any:
        return services.set_homeroom_teacher(
            actor=actor, school_class=school_class, teacher=teacher
        )

    return call, [school_class]


def call_create_staff(world: World, side: SchoolSide) -> tuple[Call, list[Model]]:
    def call(actor: Any) -> Any:
        return services.create_staff(actor=actor, data=staff_data(), school=side.school)

    return call, []


def call_assign_teaching(world: World, side: SchoolSide) -> tuple[Call, list[Model]]:
    teacher = side.users["homeroom_teacher"].staff

    def call(actor: Any) -> Any:
        return services.assign_teaching(
            actor=actor, teacher=teacher, school_class=side.classes[1], subject="tieng_viet"
        )

    return call, []


# service → (valid call, the audit actions it writes)
SERVICES: dict[str, tuple[Callable[[World, SchoolSide], tuple[Call, list[Model]]], list[str]]] = {
    "admit_pupil": (call_admit_pupil, ["schools.pupil.created", "schools.enrolment.created"]),
    "update_pupil": (call_update_pupil, ["schools.pupil.updated"]),
    "enrol_pupil": (call_enrol_pupil, ["schools.enrolment.created"]),
    "create_class": (call_create_class, ["schools.class.created"]),
    "set_homeroom_teacher": (call_set_homeroom_teacher, ["schools.class.homeroom_teacher_set"]),
    "create_staff": (call_create_staff, ["schools.staff.created"]),
    "assign_teaching": (call_assign_teaching, ["schools.teaching_assignment.created"]),
}
MANAGERS = ["principal", "deputy_principal", "school_admin", "system_admin"]
REFUSED = [
    (role, side)
    for role in ("homeroom_teacher", "subject_teacher", "district_staff", "department_staff")
    for side in ("own", "foreign")
] + [("anonymous", "own"), ("principal", "foreign"), ("school_admin", "foreign")]


# --- Happy paths and refusals, for every service ---------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("role", MANAGERS)
def test_managers_change_their_school_and_the_change_is_audited(
    world: World, service: str, role: str
) -> None:
    make_call, actions = SERVICES[service]
    call, _ = make_call(world, world.own)
    actor = actor_for(world, role)
    since = last_event_id()
    call(actor)
    events = new_events(since)
    assert [e.action for e in events] == actions
    assert all(e.actor == actor and e.actor_label == actor.username for e in events)
    assert all(e.school == world.own.school for e in events)
    assert all(e.changes for e in events)


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize(("role", "side"), REFUSED)
def test_refused_actors_change_nothing(world: World, service: str, role: str, side: str) -> None:
    make_call, _ = SERVICES[service]
    call, rows = make_call(world, world.own if side == "own" else world.foreign)
    actor = actor_for(world, role)
    before = db_state(*rows)
    with pytest.raises(PermissionRefused) as refusal:
        call(actor)
    assert "không có quyền" in refusal.value.message
    assert db_state(*rows) == before


@pytest.mark.parametrize("service", SERVICES)
def test_the_audit_row_shares_the_change_transaction(
    world: World, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If writing the audit row fails after it was inserted, the change goes with it."""
    real_record_event = services.record_event

    def failing_record_event(**kwargs: Any) -> Any:
        real_record_event(**kwargs)
        raise RuntimeError("audit failure after insert")

    monkeypatch.setattr(services, "record_event", failing_record_event)
    call, rows = SERVICES[service][0](world, world.own)
    before = db_state(*rows)
    with pytest.raises(RuntimeError):
        call(actor_for(world, "principal"))
    assert db_state(*rows) == before


# --- What each audit row says ----------------------------------------------------------------


def test_admit_pupil_records_the_pupil_and_the_enrolment(world: World) -> None:
    principal = actor_for(world, "principal")
    decomposed = unicodedata.normalize("NFD", "  Hoàng   ")
    since = last_event_id()
    enrolment = services.admit_pupil(
        actor=principal,
        data=pupil_data(family_name=decomposed),
        school_class=world.own.classes[1],
        joined_on=JOINED,
        register_number=" 12/2024 ",
    )
    pupil = enrolment.pupil
    assert pupil.family_name == "Hoàng"
    created, enrolled = new_events(since)
    assert (created.object_type, created.object_id) == ("schools.pupil", str(pupil.pk))
    assert created.changes["ministry_code"] == "0000009001"
    assert created.changes["personal_id"] == "001315123456"
    assert created.changes["family_name"] == "Hoàng"
    assert created.changes["date_of_birth"] == "2015-03-02"
    assert (enrolled.object_type, enrolled.object_id) == ("schools.enrolment", str(enrolment.pk))
    assert enrolled.changes["pupil_id"] == pupil.pk
    assert enrolled.changes["school_class_id"] == world.own.classes[1].pk
    assert enrolled.changes["register_number"] == "12/2024"


def test_update_pupil_records_a_diff_of_the_changed_fields_only(world: World) -> None:
    pupil = world.own.pupils[0]
    since = last_event_id()
    services.update_pupil(
        actor=actor_for(world, "principal"),
        pupil=pupil,
        changes={"address": "  Số 1   Phố Huế ", "given_name": pupil.given_name},
    )
    (event,) = new_events(since)
    assert event.changes == {"address": ["", "Số 1 Phố Huế"]}
    assert event.object_id == str(pupil.pk)
    pupil.refresh_from_db()
    assert pupil.address == "Số 1 Phố Huế"


def test_update_pupil_without_a_change_writes_no_event(world: World) -> None:
    pupil = world.own.pupils[0]
    before = db_state(pupil)
    services.update_pupil(
        actor=actor_for(world, "principal"), pupil=pupil, changes={"address": " "}
    )
    assert db_state(pupil) == before


def test_enrol_pupil_records_the_enrolment(world: World) -> None:
    pupil = unenrolled_pupil()
    since = last_event_id()
    enrolment = services.enrol_pupil(
        actor=actor_for(world, "principal"),
        pupil=pupil,
        school_class=world.own.classes[1],
        joined_on=JOINED,
        entry_kind="transfer_in",
    )
    (event,) = new_events(since)
    assert event.object_id == str(enrolment.pk)
    assert event.changes["school_year_id"] == world.year.pk
    assert event.changes["joined_on"] == "2024-09-05"
    assert event.changes["entry_kind"] == "transfer_in"


def test_create_class_records_the_class_and_makes_the_teacher_homeroom(world: World) -> None:
    teacher = world.own.users["subject_teacher"].staff
    since = last_event_id()
    call, _ = call_create_class(world, world.own)
    school_class = call(actor_for(world, "principal"))
    (event,) = new_events(since)
    assert school_class.name == "3A"
    assert event.changes["name"] == "3A"
    assert event.changes["grade"] == 3
    assert event.changes["homeroom_teacher_id"] == teacher.pk
    assert Role.HOMEROOM_TEACHER in Staff.objects.get(pk=teacher.pk).role_set


def test_set_homeroom_teacher_records_old_and_new_teacher(world: World) -> None:
    class_a = world.own.classes[0]
    old = world.own.users["homeroom_teacher"].staff
    new = world.own.users["subject_teacher"].staff
    since = last_event_id()
    services.set_homeroom_teacher(
        actor=actor_for(world, "principal"), school_class=class_a, teacher=new
    )
    (event,) = new_events(since)
    assert event.changes == {"homeroom_teacher": [old.pk, new.pk]}
    assert SchoolClass.objects.get(pk=class_a.pk).homeroom_teacher == new


def test_create_staff_records_the_profile_and_roles(world: World) -> None:
    since = last_event_id()
    staff = services.create_staff(
        actor=actor_for(world, "school_admin"),
        data=staff_data(username=" GV_Moi ", roles=(Role.SUBJECT_TEACHER, Role.HOMEROOM_TEACHER)),
        school=world.own.school,
    )
    (event,) = new_events(since)
    assert staff.user.username == "gv_moi"
    assert not staff.user.has_usable_password()
    assert event.changes["roles"] == ["homeroom_teacher", "subject_teacher"]
    assert event.changes["school_id"] == world.own.school.pk
    assert event.changes["district_id"] == world.own.school.district_id
    assert event.changes["user_id"] == staff.user_id


def test_system_admin_creates_district_staff(world: World) -> None:
    staff = services.create_staff(
        actor=actor_for(world, "system_admin"),
        data=staff_data(username="phong_moi", roles=(Role.DISTRICT_STAFF,)),
        district=world.districts[1],
        province=world.province,
    )
    assert staff.role_set == {Role.DISTRICT_STAFF}
    assert AuditEvent.objects.filter(action="schools.staff.created", school=None).count() == 1


def test_assign_teaching_records_once(world: World) -> None:
    call, _ = call_assign_teaching(world, world.own)
    principal = actor_for(world, "principal")
    since = last_event_id()
    first = call(principal)
    (event,) = new_events(since)
    teacher = world.own.users["homeroom_teacher"].staff
    assert event.changes == {
        "teacher": teacher.pk,
        "class": world.own.classes[1].pk,
        "subject": "tieng_viet",
    }
    before = db_state()
    assert call(principal) == first
    assert db_state() == before
    assert TeachingAssignment.objects.filter(teacher=teacher).count() == 1


# --- Validation: DomainError with a Vietnamese message and the field, nothing changed --------


def admit(world: World, **overrides: Any) -> Call:
    data = pupil_data(**overrides)
    return lambda actor: services.admit_pupil(
        actor=actor, data=data, school_class=world.own.classes[1], joined_on=JOINED
    )


def update(world: World, **changes: Any) -> Call:
    pupil = world.own.pupils[0]  # Trần Thị Ánh, nữ, born 10/01/2015, no personal ID
    return lambda actor: services.update_pupil(actor=actor, pupil=pupil, changes=changes)


def new_class(world: World, **overrides: Any) -> Call:
    values = {"school": world.own.school, "school_year": world.year, "grade": 3, "name": "3A"}
    return lambda actor: services.create_class(actor=actor, **{**values, **overrides})


def new_staff(**overrides: Any) -> Call:
    scope = {k: overrides.pop(k) for k in ("school", "district", "province") if k in overrides}
    return lambda actor: services.create_staff(actor=actor, data=staff_data(**overrides), **scope)


def with_personal_id(world: World, personal_id: str) -> None:
    Pupil.objects.filter(pk=world.own.pupils[0].pk).update(personal_id=personal_id)


# case → (build the call, who calls, field, fragments the message must contain)
INVALID: dict[str, tuple[Callable[[World], Call], str, str, list[str]]] = {
    "ministry code too short": (
        lambda w: admit(w, ministry_code="12345"),
        "principal",
        "ministry_code",
        ["12345", "đúng 10 chữ số", "đang có 5"],
    ),
    "ministry code with letters": (
        lambda w: admit(w, ministry_code="00000A9001"),
        "principal",
        "ministry_code",
        ["chỉ được gồm chữ số"],
    ),
    "ministry code missing": (
        lambda w: admit(w, ministry_code="  "),
        "principal",
        "ministry_code",
        ["Thiếu mã học sinh"],
    ),
    "personal ID too short": (
        lambda w: admit(w, personal_id="00131512345"),
        "principal",
        "personal_id",
        ["đúng 12 chữ số", "đang có 11"],
    ),
    "personal ID with a letter": (
        lambda w: admit(w, personal_id="00131512345X"),
        "principal",
        "personal_id",
        ["chỉ được gồm chữ số"],
    ),
    "personal ID with unknown province": (
        lambda w: admit(w, personal_id="003315123456"),
        "principal",
        "personal_id",
        ["mã tỉnh “003”"],
    ),
    "personal ID of a boy for a girl": (
        lambda w: admit(w, personal_id="001215123456"),
        "principal",
        "personal_id",
        ["giới tính"],
    ),
    "personal ID of the wrong century": (
        lambda w: admit(w, personal_id="001115123456"),
        "principal",
        "personal_id",
        ["năm sinh 2015"],
    ),
    "personal ID of the wrong year": (
        lambda w: admit(w, personal_id="001314123456"),
        "principal",
        "personal_id",
        ["năm sinh 2015"],
    ),
    "duplicate ministry code": (
        lambda w: admit(w, ministry_code=w.own.pupils[1].ministry_code),
        "principal",
        "ministry_code",
        ["0000000002", "đã có trong hệ thống"],
    ),
    "duplicate personal ID": (
        lambda w: (with_personal_id(w, "001315123456"), admit(w))[1],
        "principal",
        "personal_id",
        ["001315123456", "đã thuộc về học sinh khác"],
    ),
    "Ministry code changed": (
        lambda w: update(w, ministry_code="0000009999"),
        "principal",
        "ministry_code",
        ["không bao giờ được thay đổi"],
    ),
    "update with a bad personal ID": (
        lambda w: update(w, personal_id="0013151234"),
        "principal",
        "personal_id",
        ["đúng 12 chữ số"],
    ),
    "update sex against the personal ID": (
        lambda w: (with_personal_id(w, "001315000001"), update(w, sex="nam"))[1],
        "principal",
        "personal_id",
        ["giới tính"],
    ),
    "update birth year against the personal ID": (
        lambda w: (with_personal_id(w, "001315000001"), update(w, date_of_birth="2016-01-10"))[1],
        "principal",
        "personal_id",
        ["năm sinh 2016"],
    ),
    "update to a duplicate personal ID": (
        lambda w: (
            Pupil.objects.filter(pk=w.own.pupils[2].pk).update(personal_id="001315000001"),
            update(w, personal_id="001315000001"),
        )[1],
        "principal",
        "personal_id",
        ["đã thuộc về học sinh khác"],
    ),
    "update with an empty given name": (
        lambda w: update(w, given_name="  "),
        "principal",
        "given_name",
        ["Thiếu tên"],
    ),
    "enrolled twice in the school": (
        lambda w: (
            lambda actor: services.enrol_pupil(
                actor=actor, pupil=w.own.pupils[0], school_class=w.own.classes[1], joined_on=JOINED
            )
        ),
        "principal",
        "school_class",
        ["Trần Thị Ánh", "lớp 4A", "Trường Tiểu học A", "2024-2025"],
    ),
    "enrolled in another school the same year": (
        lambda w: (
            lambda actor: services.enrol_pupil(
                actor=actor,
                pupil=w.own.pupils[4],
                school_class=w.foreign.classes[0],
                joined_on=JOINED,
            )
        ),
        "foreign_principal",
        "school_class",
        ["lớp 4B", "Trường Tiểu học A", "2024-2025"],
    ),
    "class grade 0": (lambda w: new_class(w, grade=0), "principal", "grade", ["từ 1 đến 5"]),
    "class grade 6": (lambda w: new_class(w, grade=6), "principal", "grade", ["từ 1 đến 5"]),
    "class without a name": (lambda w: new_class(w, name=" "), "principal", "name", ["Thiếu"]),
    "duplicate class name": (
        lambda w: new_class(w, grade=4, name=" 4a"),
        "principal",
        "name",
        ["Lớp 4A", "2024-2025"],
    ),
    "class with a foreign homeroom teacher": (
        lambda w: new_class(w, homeroom_teacher=w.foreign.users["homeroom_teacher"].staff),
        "principal",
        "homeroom_teacher",
        ["Nguyễn Văn B", "không thuộc trường Trường Tiểu học A"],
    ),
    "foreign homeroom teacher set": (
        lambda w: (
            lambda actor: services.set_homeroom_teacher(
                actor=actor,
                school_class=w.own.classes[1],
                teacher=w.foreign.users["subject_teacher"].staff,
            )
        ),
        "principal",
        "homeroom_teacher",
        ["không thuộc trường Trường Tiểu học A"],
    ),
    "foreign teacher assigned": (
        lambda w: (
            lambda actor: services.assign_teaching(
                actor=actor,
                teacher=w.foreign.users["subject_teacher"].staff,
                school_class=w.own.classes[1],
                subject="toan",
            )
        ),
        "principal",
        "teacher",
        ["không thuộc trường Trường Tiểu học A"],
    ),
    "unknown subject": (
        lambda w: (
            lambda actor: services.assign_teaching(
                actor=actor,
                teacher=w.own.users["subject_teacher"].staff,
                school_class=w.own.classes[1],
                subject="hoa_hoc",
            )
        ),
        "principal",
        "subject",
        ["hoa_hoc", "không có trong chương trình"],
    ),
    "school role without a school": (
        lambda w: new_staff(roles=(Role.HOMEROOM_TEACHER,), province=w.province),
        "system_admin",
        "roles",
        ["gắn với một trường"],
    ),
    "district staff without a district": (
        lambda w: new_staff(roles=(Role.DISTRICT_STAFF,), province=w.province),
        "system_admin",
        "roles",
        ["gắn với một quận/huyện"],
    ),
    "department staff without a province": (
        lambda w: new_staff(roles=(Role.DEPARTMENT_STAFF,)),
        "system_admin",
        "roles",
        ["gắn với một tỉnh/thành phố"],
    ),
    "unknown role": (
        lambda w: new_staff(roles=("parent",), school=w.own.school),
        "principal",
        "roles",
        ["Vai trò không hợp lệ: parent"],
    ),
    "duplicate username": (
        lambda w: new_staff(username=" A_HT ", school=w.own.school),
        "principal",
        "username",
        ["a_ht", "đã có người dùng"],
    ),
}


@pytest.mark.parametrize("case", INVALID)
def test_invalid_input_is_refused_with_a_message_and_changes_nothing(
    world: World, case: str
) -> None:
    build, role, field, fragments = INVALID[case]
    call = build(world)
    actor = (
        world.foreign.users["principal"] if role == "foreign_principal" else actor_for(world, role)
    )
    before = db_state(*world.own.pupils, *world.own.classes)
    with pytest.raises(DomainError) as refusal:
        call(actor)
    assert not isinstance(refusal.value, PermissionRefused)
    assert refusal.value.field == field
    assert all(fragment in refusal.value.message for fragment in fragments), refusal.value.message
    assert db_state(*world.own.pupils, *world.own.classes) == before


# --- Roles that reach beyond the school ------------------------------------------------------


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.DISTRICT_STAFF, Role.DEPARTMENT_STAFF])
def test_school_managers_cannot_hand_out_roles_above_the_school(world: World, role: str) -> None:
    call = new_staff(
        roles=(role,), school=world.own.school, district=world.districts[0], province=world.province
    )
    before = db_state()
    with pytest.raises(PermissionRefused):
        call(actor_for(world, "principal"))
    assert db_state() == before


def test_only_the_system_admin_creates_accounts_without_a_school(world: World) -> None:
    call = new_staff(roles=(Role.DISTRICT_STAFF,), district=world.districts[0])
    before = db_state()
    for role in ("principal", "district_staff", "department_staff"):
        with pytest.raises(PermissionRefused):
            call(actor_for(world, role))
    assert db_state() == before


def test_a_transferred_pupil_is_changed_by_the_new_school_only(world: World) -> None:
    pupil = world.own.pupils[0]
    enrolment = pupil.enrolments.get()
    enrolment.left_on = datetime.date(2025, 1, 10)
    enrolment.save(update_fields=["left_on"])
    services.enrol_pupil(
        actor=actor_for(world, "principal", "foreign"),
        pupil=pupil,
        school_class=world.foreign.classes[0],
        joined_on=datetime.date(2025, 1, 13),
        entry_kind="transfer_in",
    )
    call, rows = call_update_pupil(world, world.own)
    before = db_state(*rows)
    with pytest.raises(PermissionRefused):
        call(actor_for(world, "principal"))
    assert db_state(*rows) == before
    since = last_event_id()
    call(actor_for(world, "principal", "foreign"))
    (event,) = new_events(since)
    assert event.school == world.foreign.school


def test_the_default_pupil_data_is_valid() -> None:
    """Guards the cases above: each breaks exactly one thing of an otherwise valid pupil."""
    assert services.pupil_errors(pupil_data().cleaned()) == {}


def test_system_admin_opens_a_school_year_and_makes_it_current(world: World) -> None:
    admin = world.users["system_admin"]
    year = services.create_school_year(
        actor=admin,
        name="2025-2026",
        starts_on=datetime.date(2025, 9, 5),
        ends_on=datetime.date(2026, 5, 31),
        make_current=True,
    )
    world.year.refresh_from_db()
    assert year.is_current and not world.year.is_current
    event = AuditEvent.objects.get(action="schools.school_year.created")
    assert event.actor == admin and event.changes["name"] == "2025-2026"


@pytest.mark.parametrize(
    ("name", "starts_on", "message"),
    [
        ("2025/2026", datetime.date(2025, 9, 5), "phải có dạng 2024-2025"),
        ("2025-2027", datetime.date(2025, 9, 5), "lớn hơn năm trước đúng 1"),
        ("2025-2026", datetime.date(2024, 9, 5), "không khớp năm học"),
        ("2024-2025", datetime.date(2024, 9, 5), "Năm học 2024-2025 đã có"),
    ],
)
def test_a_bad_school_year_is_refused(
    world: World, name: str, starts_on: datetime.date, message: str
) -> None:
    before = SchoolYear.objects.count(), AuditEvent.objects.count()
    with pytest.raises(DomainError) as info:
        services.create_school_year(
            actor=world.users["system_admin"],
            name=name,
            starts_on=starts_on,
            ends_on=datetime.date(2026, 5, 31),
        )
    assert message in info.value.message
    assert (SchoolYear.objects.count(), AuditEvent.objects.count()) == before


def test_only_the_system_admin_opens_a_school_year(world: World) -> None:
    for user in (world.own.users["principal"], world.users["department_staff"]):
        with pytest.raises(PermissionRefused):
            services.create_school_year(
                actor=user,
                name="2025-2026",
                starts_on=datetime.date(2025, 9, 5),
                ends_on=datetime.date(2026, 5, 31),
            )
    assert not SchoolYear.objects.filter(name="2025-2026").exists()
