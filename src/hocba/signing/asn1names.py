"""Faster X.509 name comparison for pyHanko, patched into asn1crypto process-wide on import.

Validating one record compares X.509 names about 2,000 times (pyHanko matching issuer and
serial, path building); asn1crypto prepares both sides' strings (RFC 4518) every time on
freshly parsed objects, a third of a full validation and of the long-term validation step
(:mod:`hocba.signing.longterm`). The preparation is a pure function of the string, so it is
cached; identical DER names are equal without it. Results are the same as asn1crypto's own.
"""

from __future__ import annotations

import functools
from typing import Any

from asn1crypto import x509 as asn1_x509

_ldap_string_prep = getattr(
    asn1_x509.NameTypeAndValue._ldap_string_prep,
    "asn1crypto_original",
    asn1_x509.NameTypeAndValue._ldap_string_prep,
)


@functools.lru_cache(maxsize=4096)
def _cached_string_prep(string: str) -> str:
    prepared: str = _ldap_string_prep(None, string)
    return prepared


def _prep(self: Any, string: str) -> str:
    return (
        _cached_string_prep(string) if isinstance(string, str) else _ldap_string_prep(self, string)
    )


_prep.asn1crypto_original = _ldap_string_prep  # type: ignore[attr-defined]
asn1_x509.NameTypeAndValue._ldap_string_prep = _prep

_name_eq = getattr(asn1_x509.Name.__eq__, "asn1crypto_original", asn1_x509.Name.__eq__)


def _name_equal(self: asn1_x509.Name, other: object) -> bool:
    if isinstance(other, asn1_x509.Name) and self.dump() == other.dump():
        return True
    equal: bool = _name_eq(self, other)
    return equal


_name_equal.asn1crypto_original = _name_eq  # type: ignore[attr-defined]
asn1_x509.Name.__eq__ = _name_equal
