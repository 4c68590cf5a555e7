"""Which encoding a text file is in: a BOM says it, else UTF-8 if the start decodes as UTF-8, else GB18030."""

from __future__ import annotations

import codecs

from pipeline.core.errors import DomainError

# Excel's "CSV UTF-8" writes a UTF-8 BOM, its "Unicode text" UTF-16 with a BOM; WPS and older Excel in China
# write GBK, which GB18030 contains. Without a BOM, text that decodes as UTF-8 is UTF-8: GBK text almost never does.
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
SAMPLE_BYTES = 1 << 16
ALIASES = {"gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030", "utf8": "utf-8", "utf-8": "utf-8"}


class UnreadableFile(DomainError):
    """The file cannot be read as what it claims to be: the message says why and what to try."""

    status = 422


def detect(head: bytes) -> str:
    """The encoding of a file starting with `head` (its first SAMPLE_BYTES bytes)."""
    for bom, name in BOMS:
        if head.startswith(bom):
            return name
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut off by the end of the sample is still UTF-8.
        if not (exc.reason == "unexpected end of data" and exc.start >= len(head) - 3):
            return "gb18030"
    return "utf-8"


def checked(name: str) -> str:
    """The codec for an encoding the user named (GBK and GB2312 read as GB18030, their superset)."""
    wanted = name.strip().lower()
    try:
        codec = codecs.lookup(ALIASES.get(wanted, wanted)).name
    except LookupError:
        raise UnreadableFile(f"unknown encoding {name!r} (try utf-8, gb18030 or utf-16)") from None
    return "gb18030" if codec in ("gbk", "gb2312") else codec
