"""The faster hex-string reader pades installs into pyHanko gives exactly pyHanko's results."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfReadError

from hocba.signing import pades

ORIGINAL = pades._pyhanko_read_hex_string
FAST = pades._read_hex_string_from_stream

hex_body = st.text(alphabet="0123456789abcdefABCDEF \n\r\t", max_size=300)
odd_body = st.text(alphabet="0123456789abcdefxyz%<( \n", max_size=60)


def _read(reader: object, data: bytes) -> tuple[object, int] | tuple[str, str]:
    stream = io.BytesIO(data)
    try:
        value = reader(stream)  # type: ignore[operator]
    except (PdfReadError, ValueError) as error:
        return ("error", type(error).__name__)
    return (value, stream.tell())


@given(body=hex_body, tail=st.binary(max_size=20))
def test_well_formed_strings_read_the_same(body: str, tail: bytes) -> None:
    data = b"<" + body.encode() + b">" + tail
    assert _read(FAST, data) == _read(ORIGINAL, data)


@given(body=odd_body, closed=st.booleans())
def test_unusual_strings_fall_back_to_pyhanko(body: str, closed: bool) -> None:
    data = b"<" + body.encode() + (b">" if closed else b"")
    assert _read(FAST, data) == _read(ORIGINAL, data)


def test_pyhanko_uses_the_fast_reader_for_long_signature_contents() -> None:
    assert generic.read_hex_string_from_stream is FAST
    contents = b"<" + b"3082" * 4096 + b">"
    assert _read(FAST, contents) == _read(ORIGINAL, contents)
