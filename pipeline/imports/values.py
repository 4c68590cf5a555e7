"""Cell values made clean: phones to E.164 (phonenumbers), e-mail lower-cased, dates read in the usual ways."""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

import phonenumbers
from flask_babel import lazy_gettext as _l
from phonenumbers import NumberParseException, PhoneNumberFormat

from pipeline.accounts.services import is_email

DEFAULT_REGION = "CN"
SEPARATORS = re.compile(r"[\s\-.()]+")
# The library's own pattern for Chinese mobile numbers: an 11-digit number it matches is valid, so the common
# case skips the full parse (42 µs a number; 100,000 contacts would spend 4 s there).
_CN = phonenumbers.PhoneMetadata.metadata_for_region(DEFAULT_REGION)
_CN_MOBILE = re.compile(_CN.mobile.national_number_pattern) if _CN and _CN.mobile else None
TAG_SEPARATORS = re.compile(r"[,，;；、|/]+")
DATE_FORMATS = (
    re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
CJK = re.compile(r"[\u3400-\u9fff]")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BadValue(ValueError):
    """A cell that cannot be used; the message is the reason shown for the row."""


def nfkc(text: str) -> str:
    """Full-width letters, digits and spaces as their plain forms (ＡＢＣ１２３ → ABC123), trimmed."""
    if text.isascii():  # NFKC leaves ASCII as it is; most cells are, and normalising costs a call each
        return text.strip()
    return unicodedata.normalize("NFKC", text).strip()


def text(value: str) -> str:
    """A free-text cell: trimmed; control characters (a NUL the database refuses) make it unusable."""
    value = value.strip()
    if CONTROL.search(value):
        raise BadValue(_l("contains a control character"))
    return value


def folded(value: str) -> str:
    """A name-like cell: full-width letters folded, spaces collapsed, control characters refused."""
    return " ".join(text(nfkc(value)).split())


# The same cleaning for a row already known to hold no control character (NFKC makes none from other
# characters): one call a cell instead of four, for the common row (read_candidate checks the whole row once).
def folded_clean(value: str) -> str:
    """folded() for a cell without control characters."""
    return " ".join((value if value.isascii() else unicodedata.normalize("NFKC", value)).split())


# Companies and titles repeat down a file (many people at one company, a few dozen titles): cleaned once each.
repeated_clean = functools.lru_cache(maxsize=1 << 14)(folded_clean)


def text_clean(value: str) -> str:
    """text() for a cell without control characters."""
    return value.strip()


def phone(value: str, region: str = DEFAULT_REGION) -> str:
    """A phone number in E.164 (+8613800138000): +86, 0086, spaces, dashes and full-width digits accepted."""
    cleaned = nfkc(value)
    if not cleaned:
        return ""
    if region == DEFAULT_REGION and _CN_MOBILE is not None:
        # Plain string work, not a regex (a match costs more than the rest of the fast path together);
        # ASCII digits only: other scripts' digits go to the library, which reads them.
        compact = cleaned if cleaned.isdigit() else SEPARATORS.sub("", cleaned)
        national = compact[3:] if compact.startswith("+86") else compact[4:] if compact.startswith("0086") else compact
        if len(national) == 11 and national.isascii() and national.isdigit() and _CN_MOBILE.fullmatch(national):
            return "+86" + national
    try:
        number = phonenumbers.parse(cleaned, region)
    except NumberParseException:
        raise BadValue(_l("not a phone number")) from None
    if not phonenumbers.is_valid_number(number):
        raise BadValue(_l("not a valid phone number"))
    formatted = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return f"{formatted};ext={number.extension}" if number.extension else formatted


def office_phone(value: str, region: str = DEFAULT_REGION) -> str:
    """An office number: E.164 when it is one, else the text as written (010-8888 6666 转 123 stays readable)."""
    try:
        return phone(value, region)
    except BadValue:
        return text(nfkc(value))


def email(value: str) -> str:
    """An e-mail address, lower-cased (full-width ＠ and letters folded first)."""
    cleaned = nfkc(value).lower()
    if cleaned.startswith("mailto:"):
        cleaned = cleaned[7:]
    if cleaned and not is_email(cleaned):
        raise BadValue(_l("not an e-mail address"))
    return cleaned


def day(value: str) -> date | None:
    """A date as people and spreadsheets write it: 1985-03-15, 1985/3/15, 1985.3.15, 19850315, 1985年3月15日."""
    cleaned = nfkc(value)
    if not cleaned:
        return None
    for pattern in DATE_FORMATS:
        found = pattern.fullmatch(cleaned)
        if found:
            try:
                return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
            except ValueError:
                break
    raise BadValue(_l("not a date (YYYY-MM-DD)"))


@functools.lru_cache(maxsize=1 << 12)  # a file's tag cells repeat the same few groups
def tags(value: str) -> tuple[str, ...]:
    """Group and tag names from one cell (重要客户,集团客户 or 朋友；同事), each once, in order."""
    names = (nfkc(t) for t in TAG_SEPARATORS.split(value))
    return tuple(dict.fromkeys(n for n in names if n))


def amount(value: str) -> Decimal:
    """Money as written in an export: ¥1,200,000.00, 1 200 000, 120万 (ten thousands)."""
    cleaned = nfkc(value).replace(",", "").replace(" ", "")
    for sign in ("¥", "￥", "CNY", "RMB", "$", "USD", "元"):
        cleaned = cleaned.replace(sign, "")
    factor = Decimal(1)
    if cleaned.endswith("万"):
        cleaned, factor = cleaned[:-1], Decimal(10_000)
    try:
        result = Decimal(cleaned or "0") * factor
    except InvalidOperation:
        raise BadValue(_l("not an amount")) from None
    if not result.is_finite() or result < 0 or result >= Decimal("1e13"):
        raise BadValue(_l("not an amount between 0 and 10,000,000,000,000"))
    return result.quantize(Decimal("0.01"))


@functools.lru_cache(maxsize=1 << 16)  # a file names few companies, many times each
def key(text_: str) -> str:
    """How names are matched: full-width folded, case folded, runs of spaces as one."""
    return " ".join(nfkc(text_).casefold().split())
