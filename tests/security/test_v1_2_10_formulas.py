"""ASVS 5.0 V1.2.10 CSV and formula injection: RFC 4180 quoting, and a leading = + - @ tab or NUL escaped with a
single quote, in every file the app writes.

Every CSV the app writes (the weekly export, the greetings for an SMS tool) goes through exports/csvfile.write_csv,
and every workbook through exports/xlsx.py; both ask exports/cells.is_formula_like. Proven end to end elsewhere:
- tests/exports/test_injection.py: hostile titles, accounts, next steps, owners, team names and reasons in the
  weekly workbook (never a formula cell; quote-prefixed text) and CSV (an apostrophe first), leading spaces too;
- tests/care/test_greetings.py::test_the_csv_has_name_mobile_greeting_with_formulas_neutralised.
This module pins the rule itself to the list ASVS gives, and the CSV writer to RFC 4180 sections 2.6 and 2.7.
"""

from __future__ import annotations

import csv
import io

import pytest

from pipeline.exports.cells import Column, is_formula_like, neutralised
from pipeline.exports.csvfile import write_csv
from pipeline.exports.sheets import Sheet

ASVS_STARTS = ["=", "+", "-", "@", "\t", "\0"]


def written(*cells: str) -> tuple[str, list[list[str]]]:
    """The CSV text of one row of text cells under a header, and the rows a CSV reader gets back."""
    sheet = Sheet("t", [Column(header=lambda: "文本") for _ in cells], iter([cells]))
    out = io.StringIO(newline="")
    write_csv(sheet, out)
    text = out.getvalue()
    return text, list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("start", [*ASVS_STARTS, "\r", " =", "  @"], ids=repr)
def test_each_character_asvs_names_is_escaped_with_a_single_quote(start: str) -> None:
    """V1.2.10: a field starting with = + - @ tab or NUL (or CR, or any of them after spaces) gets a leading '."""
    value = f'{start}HYPERLINK("http://evil.example","点我")'
    assert is_formula_like(value)
    assert neutralised(value) == "'" + value
    _text, rows = written(value)
    assert rows[1] == ["'" + value]


@pytest.mark.parametrize("value", ["上海华信", "ERP 升级", "a-b", "1+1 is text here", "'quoted", "", "100"])
def test_ordinary_text_is_left_as_it_is(value: str) -> None:
    """V1.2.10 without damage: text that no spreadsheet would evaluate is written unchanged."""
    assert not is_formula_like(value) and neutralised(value) == value


def test_quotes_commas_and_line_breaks_are_quoted_as_rfc_4180_says() -> None:
    """V1.2.10, RFC 4180 2.6 and 2.7: fields with a comma, a double quote or a line break are enclosed in double
    quotes and an inner quote is doubled, so a cell cannot spill into the next one or the next row."""
    tricky = ['他说"好"', "甲,乙", "第一行\r\n第二行", '=1,"x"']
    text, rows = written(*tricky)
    assert text.splitlines()[0] == ",".join(["文本"] * 4)
    assert '"他说""好"""' in text and '"甲,乙"' in text and '"第一行\r\n第二行"' in text
    assert '"\'=1,""x"""' in text  # neutralised first, then quoted
    assert rows[1] == ['他说"好"', "甲,乙", "第一行\r\n第二行", '\'=1,"x"']
    assert text.endswith("\r\n") and len(rows) == 2
