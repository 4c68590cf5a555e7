"""No input crashes the importer: any bytes, any text, any cell ends in a plan or a refusal naming the problem."""

from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path

import phonenumbers
import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from pipeline.accounts.models import Contact
from pipeline.core.errors import DomainError
from pipeline.extensions import db
from pipeline.imports import values
from pipeline.imports.contacts import plan_file
from pipeline.imports.contacts_write import write_contacts
from pipeline.imports.errors import BadRows
from pipeline.imports.rows import FIELD_LABELS, read_candidate
from tests.conftest import People
from tests.imports.conftest import HEADER, write_csv

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SUFFIXES = st.sampled_from(["x.csv", "x.vcf", "x.xlsx", "x.txt", "noname"])


def plan_or_refuse(path: Path, owner) -> None:
    try:
        with plan_file(path, owner) as plan:
            assert plan.rows >= 0
    except DomainError as exc:
        assert exc.message  # a refusal that says something


@SETTINGS
@given(data=st.binary(max_size=3000), name=SUFFIXES)
def test_any_bytes(app: Flask, people: People, data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        plan_or_refuse(path, people.rep)


PREFIXES = st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"BEGIN:VCARD\r\nVERSION:2.1\r\n", b"PK\x03\x04"])


@SETTINGS
@given(prefix=PREFIXES, data=st.binary(max_size=2000), name=SUFFIXES)
def test_any_bytes_after_a_plausible_start(app: Flask, people: People, prefix: bytes, data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(prefix + data)
        plan_or_refuse(path, people.rep)


CELLS = st.text(max_size=30) | st.sampled_from(["13800138000", "+86 139-1234-5678", "a@b.cn", "1985-03-15", "华信"])


@SETTINGS
@given(
    rows=st.lists(st.lists(CELLS, min_size=0, max_size=8), max_size=12),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "gb18030"]),
)
def test_any_text_imports_or_is_refused_whole(app: Flask, people: People, rows: list[list[str]], encoding: str) -> None:
    if encoding == "gb18030":
        rows = [[c.encode("gb18030", "replace").decode("gb18030") for c in row] for row in rows]
    rows = [[c.replace("\x00", "") if encoding != "utf-8" else c for c in row] for row in rows]
    with tempfile.TemporaryDirectory() as folder:
        try:
            path = write_csv(Path(folder) / "x.csv", [HEADER, *rows], encoding=encoding)
        except UnicodeEncodeError:  # lone surrogates cannot be written by anyone
            return
        before = db.session.scalar(select(func.count()).select_from(Contact))
        try:
            with plan_file(path, people.rep) as plan:
                bad = bool(plan.bad_rows)
                write_contacts(plan, via="cli", actor=None, filename="x.csv")
                assert not bad
                db.session.flush()
        except BadRows:
            assert db.session.scalar(select(func.count()).select_from(Contact)) == before
        except DomainError as exc:
            assert exc.message
        finally:
            db.session.rollback()


@SETTINGS
@given(cells=st.lists(st.text(max_size=60), min_size=12, max_size=12))
def test_any_cells_make_a_candidate_or_reasons(app: Flask, cells: list[str]) -> None:
    mapping = {
        f: i
        for i, f in enumerate(
            [
                "name",
                "mobile",
                "phone",
                "email",
                "company",
                "title",
                "address",
                "birthday",
                "notes",
                "tags",
                "first_name",
                "last_name",
            ]
        )
    }
    result = read_candidate(2, cells, mapping)
    assert (isinstance(result, list) and all(isinstance(r, str) and r for r in result)) or result.line == 2


@settings(max_examples=500, deadline=None)
@given(national=st.from_regex(r"1[0-9]{10}", fullmatch=True), style=st.sampled_from(["{}", "+86 {}", "0086{}", "{}-"]))
def test_fast_path_agrees_with_the_library(national: str, style: str) -> None:
    written = style.format(national)
    try:
        number = phonenumbers.parse(written, "CN")
    except phonenumbers.NumberParseException:
        number = None
    expected = (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if number is not None and phonenumbers.is_valid_number(number)
        else None
    )
    try:
        got = values.phone(written)
    except values.BadValue:
        got = None
    assert got == expected


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("13800138000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("138-0013-8000", "+8613800138000"),
        ("１３８００１３８０００", "+8613800138000"),
        ("(+86) 138.0013.8000", "+8613800138000"),
        ("010-8888 6666", "+861088886666"),
        ("+1 650-253-0000", "+16502530000"),
        ("١٣٨٠٠١٣٨٠٠٠", "+8613800138000"),  # Arabic-Indic digits: read by the library, not passed through as digits
    ],
)
def test_phones_people_write(written: str, e164: str) -> None:
    assert values.phone(written) == e164


@SETTINGS
@given(data=st.binary(max_size=2000), name=st.sampled_from(["deals.csv", "deals.xlsx", "deals"]))
def test_any_bytes_as_a_deals_export(app: Flask, people: People, data: bytes, name: str) -> None:
    from pipeline.imports.deals import plan_deals

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(b"Deal Name,Account,Amount,Stage,Close Date\r\n" + data if name.endswith("csv") else data)
        try:
            plan = plan_deals(path, people.rep)
            assert len(plan.rows) + len(plan.bad_rows) + plan.skipped >= 0
        except DomainError as exc:
            assert exc.message


NO_CONTROL = st.text(max_size=40).map(lambda t: values.CONTROL.sub("", t))


@settings(max_examples=300, deadline=None)
@given(cell=NO_CONTROL)
def test_the_clean_row_cleaners_agree_with_the_checking_ones(cell: str) -> None:
    assert values.folded_clean(cell) == values.folded(cell)
    assert values.text_clean(cell) == values.text(cell)
    assert values.nfkc(cell) == unicodedata.normalize("NFKC", cell).strip()


@SETTINGS
@given(cells=st.lists(NO_CONTROL, min_size=6, max_size=6), at=st.integers(0, 5))
def test_a_control_character_anywhere_is_refused_naming_its_field(app: Flask, cells: list[str], at: int) -> None:
    fields = ["name", "title", "company", "address", "notes", "first_name"]
    mapping = {f: i for i, f in enumerate(fields)}
    cells[at] = f"{cells[at]}\x07x"
    result = read_candidate(2, cells, mapping)
    assert isinstance(result, list)
    control = [reason for reason in result if "control character" in reason]
    assert len(control) == 1 and control[0].startswith(str(FIELD_LABELS[fields[at]]) + ":")
