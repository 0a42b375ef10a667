"""The second factor (DOMAIN §4): the access code printed on the paper copy, or the pupil's date
of birth. Either one unlocks a record's full details for a while in the visitor's session.

A wrong factor changes nothing and reveals nothing: the caller answers as if nothing was typed,
with one neutral message. Attempts are rate limited per client, and failures per record (from
anywhere), so guessing a date of birth from the birth year on the masked page gets nowhere.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from hocba.common import ratelimit
from hocba.common.errors import DomainError
from hocba.ledger.copies import record_copies
from hocba.ledger.models import CopyChannel
from hocba.records.codes import normalise_access_code
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.signing.batch import current_pdf

RECORDS_KEY = "hocba.verification.records"
PUPIL_KEY = "hocba.verification.pupil"
_DATE = re.compile(r"^\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


def wrong_factor_message() -> str:
    return _("Mã truy cập hoặc ngày sinh không đúng. Vui lòng kiểm tra lại bản học bạ giấy.")


def missing_factor_message() -> str:
    return _("Hãy nhập mã truy cập in trên bản học bạ hoặc ngày sinh của học sinh (dd/mm/yyyy).")


@dataclass(frozen=True)
class Factor:
    """What the visitor typed, normalised; ``malformed`` when something typed cannot be right."""

    access_code: str = ""
    date_of_birth: dt.date | None = None
    malformed: bool = False

    @property
    def supplied(self) -> bool:
        return bool(self.access_code or self.date_of_birth or self.malformed)


def parse_date_of_birth(typed: str) -> dt.date | None:
    """A date typed as dd/mm/yyyy (also with - or .), or as yyyy-mm-dd (API callers)."""
    if match := _DATE.match(typed):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO_DATE.match(typed):
        year, month, day = (int(part) for part in match.groups())
    else:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_factor(access_code: str = "", date_of_birth: str = "") -> Factor:
    access_code, date_of_birth = (access_code or "")[:64], (date_of_birth or "")[:32]
    code = normalise_access_code(access_code) if access_code.strip() else ""
    birth = parse_date_of_birth(date_of_birth) if date_of_birth.strip() else None
    malformed = bool(access_code.strip() and not code) or bool(date_of_birth.strip() and not birth)
    return Factor(access_code=code, date_of_birth=birth, malformed=malformed)


def _same(typed: str, expected: str) -> bool:
    return bool(typed and expected) and hmac.compare_digest(typed.encode(), expected.encode())


def document_matches(document: dict[str, Any], factor: Factor) -> bool:
    """Whether the factor is this document's access code or its pupil's date of birth."""
    by_code = _same(factor.access_code, document["record"].get("access_code", ""))
    typed_birth = factor.date_of_birth.isoformat() if factor.date_of_birth else ""
    by_birth = _same(typed_birth, document["pupil"].get("date_of_birth") or "")
    return by_code or by_birth


def attempt(
    record: YearRecord, factor: Factor, *, client: str, client_scope: str | None = "verify_factor"
) -> bool:
    """Check ``factor`` against ``record`` within the limits; raises ``RateLimited``.

    ``client_scope`` is the per-client limit (``None`` for an API key, which has its own)."""
    target = str(record.record_id)
    ratelimit.check("verify_factor_record", target)
    if client_scope:
        ratelimit.hit(client_scope, client)
    if document_matches(json.loads(record.canonical_json), factor):
        return True
    # This attempt failed anyway; past the limit, the next one is refused by the check above.
    with contextlib.suppress(ratelimit.RateLimited):
        ratelimit.hit("verify_factor_record", target)
    return False


# --- What a session has unlocked ----------------------------------------------------------------


def _live(entries: dict[str, float]) -> dict[str, float]:
    moment = time.time()
    return {key: until for key, until in entries.items() if until > moment}


def unlock_record(session: Any, record: YearRecord) -> None:
    entries = _live(session.get(RECORDS_KEY, {}))
    entries[str(record.pk)] = time.time() + settings.HOCBA_VERIFY_UNLOCK_SECONDS
    session[RECORDS_KEY] = entries


def unlock_pupil(session: Any, pupil_id: int) -> None:
    """A parent's look-up: every record of this pupil, for a while."""
    session[PUPIL_KEY] = {
        "pupil": pupil_id,
        "until": time.time() + settings.HOCBA_VERIFY_UNLOCK_SECONDS,
    }


def unlocked_pupil(session: Any) -> int | None:
    entry = session.get(PUPIL_KEY)
    if not entry or entry.get("until", 0) <= time.time():
        return None
    return int(entry["pupil"])


def forget_pupil(session: Any) -> None:
    session.pop(PUPIL_KEY, None)


def is_unlocked(session: Any, record: YearRecord) -> bool:
    if str(record.pk) in _live(session.get(RECORDS_KEY, {})):
        return True
    return unlocked_pupil(session) == record.pupil_id


# --- Downloads -----------------------------------------------------------------------------------


def issued_pdf(record: YearRecord, *, actor: Any, purpose: str) -> bytes:
    """The issued record's PDF, logged as a copy (channel download)."""
    if record.status != YearRecordStatus.ISSUED:
        raise DomainError(_("Chỉ tải được bản học bạ đang có hiệu lực."))
    data = current_pdf(record)
    record_copies(actor=actor, records=[record], channel=CopyChannel.DOWNLOAD, purpose=purpose)
    return data
