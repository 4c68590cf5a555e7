"""The workbook opened by a real spreadsheet: LibreOffice (headless) reads every sheet, evaluates nothing from user
data, and reads the figures as numbers. Skipped where /usr/bin/soffice is missing (apt-get install libreoffice-calc).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.deals.models import Deal
from tests.exports.conftest import SHEETS, TODAY, expected_deals, make_export, xlsx_bytes

SOFFICE = shutil.which("soffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
# Comma, double quote, UTF-8, raw values (not as shown), formula results (not formulas), every sheet.
ALL_SHEETS_AS_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def through_libreoffice(data: bytes, tmp_path: Path) -> dict[str, list[list[str]]]:
    """Open the workbook in LibreOffice and save each sheet as CSV: what a person opening the file would see."""
    book = tmp_path / "book.xlsx"
    book.write_bytes(data)
    out = tmp_path / "lo"
    done = subprocess.run(
        [
            str(SOFFICE),
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            ALL_SHEETS_AS_CSV,
            "--outdir",
            str(out),
            str(book),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    sheets = {}
    for path in out.glob("book-*.csv"):
        with path.open(encoding="utf-8-sig", newline="") as f:
            sheets[path.stem.removeprefix("book-")] = list(csv.reader(f))
    return sheets


def test_libreoffice_reads_the_four_sheets_and_their_figures(week: dict[str, Deal], tmp_path: Path) -> None:
    sheets = through_libreoffice(xlsx_bytes(make_export()), tmp_path)
    assert sorted(sheets) == sorted(SHEETS["zh"])
    summary = {row[0]: row[1:] for row in sheets["汇总"][1:] if row and row[0]}
    assert summary["考察"] == ["3", "2", "1", "121234.5", "101234.5", "20000", "30308.63", "25308.63", "5000"]
    assert summary["成交"][:4] == ["0", "1", "-1", "0"]
    deals = sheets["商机"][1:]
    expected = expected_deals(TODAY)
    assert [(int(r[0]), r[1], int(r[7]), float(r[8]), float(r[11])) for r in deals] == [
        (e.id, e.title, e.days, float(e.amount), float(e.weighted)) for e in expected
    ]
    assert [r[6] for r in deals] == [e.entered_on.isoformat() for e in expected]  # real dates, yyyy-mm-dd
    assert len(sheets["本周变化"]) == 1 + 9 and len(sheets["停滞"]) == 1 + 2


def test_libreoffice_evaluates_no_user_text(hostile: dict[str, list[str]], tmp_path: Path) -> None:
    sheets = through_libreoffice(xlsx_bytes(make_export()), tmp_path)
    cells = {cell for rows in sheets.values() for row in rows for cell in row}
    for text in hostile["text"]:
        assert text in cells, repr(text)  # shown as typed: "=1+1" is not 2, "=HYPERLINK(…)" is not a link's label
    assert "2" not in {row[1] for row in sheets["商机"][1:]}  # no title came out as the result of =1+1
    assert "#NAME?" not in cells and "Err:508" not in cells
