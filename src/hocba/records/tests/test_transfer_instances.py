"""Issue 9's transfer between two separate hocba instances.

The sending instance runs in a process of its own (:mod:`run_transfer_sender`): its own SQLite
database, its own log (origin ``truong-a.hocba.test/log``, its own key) and its own demo PKI. It
issues two years of a pupil's record and releases the pupil. This test process is the receiving
instance (the suite's database, another log, another PKI): it trusts the sender from its trust
bundle, accepts the package into a class of the next year, and refuses tampered packages without
writing anything.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from hocba.audit.models import AuditEvent
from hocba.conftest import World
from hocba.ledger.note import Signer
from hocba.records import canonical, transfers
from hocba.records.models import PriorStudy, Transfer, TransferredRecord, TrustedPeer
from hocba.schools.models import Enrolment, EntryKind, Pupil, SchoolClass, SchoolYear

SENDER_ORIGIN = "truong-a.hocba.test/log"


@dataclass(frozen=True)
class Sent:
    package: bytes
    bundle: Path
    data_dir: Path
    summary: dict[str, Any]


@pytest.fixture(scope="module")
def sent(tmp_path_factory: pytest.TempPathFactory) -> Sent:
    folder = tmp_path_factory.mktemp("sender")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.pop("DATABASE_URL", None)  # the sender's own SQLite database in its own data folder
    env.update(
        HOCBA_DATA_DIR=str(folder),
        HOCBA_TESTING="1",
        HOCBA_LEDGER_ORIGIN=SENDER_ORIGIN,
        HOCBA_TRUST_DIR=str(folder / "trust"),
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hocba.records.tests.run_transfer_sender",
            "--package",
            str(folder / "package.zip"),
            "--bundle",
            str(folder / "bundle.zip"),
        ],
        env=env,
        capture_output=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return Sent(
        package=(folder / "package.zip").read_bytes(),
        bundle=folder / "bundle.zip",
        data_dir=folder,
        summary=json.loads(done.stdout.decode().strip().splitlines()[-1]),
    )


@pytest.fixture
def receiver(settings: Any, tmp_path: Path, world: World) -> World:
    """This instance: its own trust folder (its own PKI), log origin and key."""
    settings.TRUST_DIR = tmp_path / "trust"
    settings.HOCBA_LEDGER_ORIGIN = "truong-b.hocba.test/log"
    settings.HOCBA_LEDGER_KEY_FILE = str(tmp_path / "log.key")
    return world


def _next_year_class(world: World) -> SchoolClass:
    year = SchoolYear.objects.create(
        name="2025-2026",
        start_year=2025,
        starts_on=dt.date(2025, 9, 5),
        ends_on=dt.date(2026, 5, 31),
    )
    return SchoolClass.objects.create(school=world.own.school, school_year=year, grade=3, name="3A")


def _counts() -> tuple[int, ...]:
    return (
        Pupil.objects.count(),
        Enrolment.objects.count(),
        Transfer.objects.count(),
        TransferredRecord.objects.count(),
        PriorStudy.objects.count(),
    )


def _receive(world: World, data: bytes, school_class: SchoolClass) -> Transfer:
    return transfers.receive_package(
        actor=world.own.users["principal"],
        data=data,
        school_class=school_class,
        joined_on=dt.date(2025, 9, 5),
    )


def test_a_pupil_with_two_issued_years_moves_to_another_instance(
    sent: Sent, receiver: World
) -> None:
    peer = transfers.trust_peer(
        actor=receiver.users["system_admin"], bundle_path=sent.bundle, name="Trường A"
    )
    assert peer.origin == SENDER_ORIGIN
    school_class = _next_year_class(receiver)

    transfer = _receive(receiver, sent.package, school_class)

    pupil = Pupil.objects.get(ministry_code=sent.summary["ministry_code"])
    assert pupil.full_name == sent.summary["full_name"]
    enrolment = transfer.enrolment
    assert enrolment.pupil == pupil and enrolment.school_class == school_class
    assert enrolment.entry_kind == EntryKind.TRANSFER_IN
    kept = list(TransferredRecord.objects.filter(pupil=pupil).order_by("start_year"))
    assert sorted(r.short_code for r in kept) == sent.summary["short_codes"]
    assert [r.school_year for r in kept] == ["2023-2024", "2024-2025"]
    assert [r.grade for r in kept] == [1, 2]
    assert all(r.origin == SENDER_ORIGIN and r.report["verdict"] == "VALID" for r in kept)
    assert all(r.report["status"] == "valid" and len(r.report["signers"]) >= 3 for r in kept)
    for record in kept:  # the PDFs are kept as received, hash-checked
        assert transfers.received_pdf(record)[:5] == b"%PDF-"
    # The study history continues: the sender's two years, then this school.
    history = canonical.study_history(enrolment)
    assert [line["school_year"] for line in history] == ["2023-2024", "2024-2025", "2025-2026"]
    assert history[0]["school_name"] == sent.summary["school_name"]
    assert history[-1]["school_name"] == receiver.own.school.name
    assert AuditEvent.objects.filter(action="records.transfer_in", object_id=str(transfer.pk))


def test_a_sender_not_trusted_is_refused(sent: Sent, receiver: World) -> None:
    school_class = _next_year_class(receiver)
    before = _counts()
    with pytest.raises(transfers.TransferRefused, match="chưa được đăng ký"):
        _receive(receiver, sent.package, school_class)
    assert _counts() == before


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _resign(files: dict[str, bytes], key_file: Path) -> None:
    """What the sending server itself could do: sign a manifest it altered with its real key."""
    manifest = json.loads(files["manifest.json"])
    manifest["files"] = {
        name: transfers.hashlib.sha256(data).hexdigest()
        for name, data in files.items()
        if name not in {"manifest.json", "manifest.sig"}
    }
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False).encode()
    key = load_pem_private_key(key_file.read_bytes(), password=None)
    signer = Signer(SENDER_ORIGIN, key)  # type: ignore[arg-type]
    files["manifest.sig"] = transfers._sign_manifest(signer, files["manifest.json"]).encode()


def _pdf_name(files: dict[str, bytes], index: int = 0) -> str:
    return sorted(name for name in files if name.endswith(".pdf"))[index]


def _changed_pdf(files: dict[str, bytes], key: Path) -> str:
    name = _pdf_name(files)
    pdf = bytearray(files[name])
    at = pdf.index(b"stream", 100) + 20  # inside the first stream: covered by every signature
    pdf[at] = (pdf[at] + 1) % 256
    files[name] = bytes(pdf)
    return "khớp với danh sách đã ký"


def _changed_pdf_resigned(files: dict[str, bytes], key: Path) -> str:
    _changed_pdf(files, key)
    _resign(files, key)
    return r"học bạ [A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}(:| không hợp lệ)"


def _renamed_pupil(files: dict[str, bytes], key: Path) -> str:
    manifest = json.loads(files["manifest.json"])
    manifest["pupil"]["given_name"] = "Khác"
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False).encode()
    return "đã bị sửa sau khi ký"


def _other_pupil_resigned(files: dict[str, bytes], key: Path) -> str:
    manifest = json.loads(files["manifest.json"])
    manifest["pupil"]["ministry_code"] = "0999999999"
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False).encode()
    _resign(files, key)
    return "của học sinh khác"


def _record_dropped_from_zip(files: dict[str, bytes], key: Path) -> str:
    del files[_pdf_name(files, 1)]
    return "thiếu tệp"


def _forged_signature(files: dict[str, bytes], key: Path) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    manifest = json.loads(files["manifest.json"])
    manifest["pupil"]["given_name"] = "Khác"
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False).encode()
    forger = Signer(SENDER_ORIGIN, Ed25519PrivateKey.generate())
    files["manifest.sig"] = transfers._sign_manifest(forger, files["manifest.json"]).encode()
    return "chữ ký của gói hồ sơ không hợp lệ"


@pytest.mark.parametrize(
    "tamper",
    [
        _changed_pdf,
        _changed_pdf_resigned,
        _renamed_pupil,
        _other_pupil_resigned,
        _record_dropped_from_zip,
        _forged_signature,
    ],
)
def test_a_tampered_package_is_refused_and_nothing_is_written(
    sent: Sent, receiver: World, tamper: Any
) -> None:
    transfers.trust_peer(actor=receiver.users["system_admin"], bundle_path=sent.bundle)
    school_class = _next_year_class(receiver)
    files = _members(sent.package)
    expected = tamper(files, sent.data_dir / "ledger" / "log.key")
    before = _counts()
    with pytest.raises(transfers.TransferRefused, match=expected):
        _receive(receiver, _zip(files), school_class)
    assert _counts() == before


def test_not_a_package_is_refused(receiver: World) -> None:
    school_class = _next_year_class(receiver)
    with pytest.raises(transfers.TransferRefused, match="không phải gói ZIP"):
        _receive(receiver, b"%PDF-1.7 not a zip", school_class)


def test_only_a_system_administrator_adds_a_trusted_peer(sent: Sent, receiver: World) -> None:
    with pytest.raises(transfers.PermissionRefused):
        transfers.trust_peer(actor=receiver.own.users["principal"], bundle_path=sent.bundle)
    assert not TrustedPeer.objects.exists()


def test_the_command_line_trusts_the_sender_checks_and_receives(
    sent: Sent, receiver: World
) -> None:
    from django.core.management import CommandError, call_command

    out = io.StringIO()
    package = str(sent.data_dir / "package.zip")
    with pytest.raises(CommandError, match="chưa được đăng ký"):
        call_command("transfer", "check", package, stdout=out)
    call_command("transfer", "trust-peer", str(sent.bundle), "--name", "Trường A", stdout=out)
    call_command("transfer", "check", package, stdout=out)
    school_class = _next_year_class(receiver)
    call_command(
        "transfer",
        "receive",
        package,
        "--school",
        school_class.school.code,
        "--class",
        "3A",
        "--year",
        "2025-2026",
        "--on",
        "05/09/2025",
        "--user",
        receiver.own.users["principal"].username,
        stdout=out,
    )
    text = out.getvalue()
    assert "Đã thêm hệ thống tin cậy “Trường A”" in text
    assert text.count(": hợp lệ") == 2
    assert f"Đã nhận học sinh {sent.summary['full_name']} vào lớp 3A: 2 học bạ hợp lệ." in text
