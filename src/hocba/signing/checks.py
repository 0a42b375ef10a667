"""Deployment check (``hocba check --deploy``): no demo or test root in the trust folder.

``hocba pki init-demo`` copies the demo root into ``settings.TRUST_DIR`` under names that say
NOT-FOR-PRODUCTION, and every demo and test certificate says NOT FOR PRODUCTION in its subject.
Their private keys are on every laptop that ran the demo (and in this repository, for the test
PKI), so a production server that trusts them would accept records anyone can sign.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error

from hocba.signing.certcheck import TrustStore

DEMO_MARKERS = ("NOT FOR PRODUCTION", "NOT-FOR-PRODUCTION")


def _is_demo(text: str) -> bool:
    return any(marker in text.upper() for marker in DEMO_MARKERS)


def demo_material(folder: Path) -> list[str]:
    """Files named NOT-FOR-PRODUCTION and certificates whose subject says so, in ``folder``."""
    if not folder.is_dir():
        return []
    found = [path.name for path in sorted(folder.rglob("*")) if _is_demo(path.name)]
    store = TrustStore.from_folder(folder)
    for certificate in (*store.roots, *store.intermediates):
        subject = certificate.subject.human_friendly
        if _is_demo(subject):
            found.append(subject)
    return found


def demo_trust_roots(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """With DEBUG off, an error for each piece of demo or test PKI the server would trust."""
    if settings.DEBUG:
        return []  # the demo runs with DEBUG on and trusts its own root on purpose
    folder = Path(settings.TRUST_DIR)
    try:
        found = demo_material(folder)
    except ValueError as error:
        return [
            Error(
                f"Không đọc được thư mục tin cậy {folder} (cannot read the trust folder): {error}",
                id="hocba.signing.E002",
            )
        ]
    return [
        Error(
            f"Thư mục tin cậy {folder} có chứng thư thử nghiệm: {item} "
            "(a demo or test root is trusted in production).",
            hint="Xoá các tệp NOT-FOR-PRODUCTION khỏi HOCBA_TRUST_DIR; chỉ để các gốc thật "
            "(NEAC, VGCA, các CA được cấp phép).",
            id="hocba.signing.E001",
        )
        for item in found
    ]
