"""The export benchmark's bare writers do the service's work: the same deals, in the same order, as the same cells."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from openpyxl import load_workbook
from sqlalchemy import text

from bench.exports import (
    BARE_CSV,
    BARE_XLSX,
    SERVICE_CSV,
    SERVICE_SHEET,
    SERVICE_XLSX,
    bare_book,
    bare_csv,
    bare_rows,
    bare_xlsx,
    main,
    make_spec,
    service_export,
    verdict,
)
from bench.generate import Options, generate
from pipeline.exports.sheets import deal_cells
from pipeline.exports.weekly import WeeklyExport
from pipeline.extensions import db
from pipeline.reports.periods import iso_week
from pipeline.reports.scope import ReportScope

DEALS = 400


@pytest.fixture
def spec(app: Flask) -> dict[str, Any]:
    generate(Options(DEALS, seed=5, anchor=date(2026, 11, 23), checklists=True, board_only=True, activities=True))
    return make_spec(app.config["SQLALCHEMY_DATABASE_URI"])


def test_the_bare_query_lists_the_services_deals_in_its_order(spec: dict[str, Any]) -> None:
    assert spec["week"] == "2026-W47" and spec["today"] == "2026-11-23"  # the week before the data's anchor
    export = WeeklyExport(ReportScope(), iso_week(spec["week"]), "", datetime.fromisoformat(spec["made_at"]), "zh")
    with force_locale("zh"):  # as write_export does
        service = [cells[0] for cells in deal_cells(export)]
    assert service == [row[0] for row in bare_rows(spec)]
    assert len(service) == spec["board"] == DEALS  # --board-only: every generated deal is on the board


def test_the_bare_writers_write_the_services_cells(spec: dict[str, Any], tmp_path: Path) -> None:
    service_file, bare_file = tmp_path / "service.csv", tmp_path / "bare.csv"
    with open(service_file, "wb") as out:
        assert service_export(spec, SERVICE_CSV, out) == {spec["sheet"]: DEALS}
    with open(bare_file, "wb") as out:
        assert bare_csv(spec, out) == DEALS
    assert service_file.read_bytes() == bare_file.read_bytes()
    rows = list(csv.reader(io.StringIO(service_file.read_bytes().decode("utf-8-sig"), newline="")))
    assert rows[0] == spec["headers"] and len(rows) == DEALS + 1
    # The joins have something to join: checklist progress and last activities are filled in.
    assert any(r[17] != "0" for r in rows[1:]) and any(r[18] for r in rows[1:])

    sheet, bare = io.BytesIO(), io.BytesIO()
    assert service_export(spec, SERVICE_SHEET, sheet) == {spec["sheet"]: DEALS}
    assert bare_xlsx(spec, bare) == DEALS
    service_cells, bare_cells = (
        [
            # The service writes an empty text cell where a deal has no strategy; XlsxWriter's write_row leaves
            # the cell out. Both read back as nothing.
            [(None, None) if cell.value == "" else (cell.value, cell.number_format) for cell in row]
            for row in load_workbook(book, read_only=True).worksheets[0].iter_rows()
        ]
        for book in (sheet, bare)
    )
    assert service_cells == bare_cells and len(service_cells) == DEALS + 1
    assert any(cell == (None, None) for row in service_cells for cell in row)


def test_the_bare_workbook_writes_the_services_stalled_sheet(spec: dict[str, Any]) -> None:
    """The workbook's baseline writes the 停滞 sheet's cells as the service does (the same values and formats)."""
    service, bare = io.BytesIO(), io.BytesIO()
    service_export(spec, SERVICE_XLSX, service)
    assert bare_book(spec, bare) == DEALS
    service_book, bare_sheets = load_workbook(service, read_only=True), load_workbook(bare, read_only=True)
    assert bare_sheets.sheetnames == [spec["sheet"], spec["stalled_sheet"]]
    stalled = [
        [
            [(None, None) if cell.value in ("", None) else (cell.value, cell.number_format) for cell in row]
            for row in book[spec["stalled_sheet"]].iter_rows()
        ]
        for book in (service_book, bare_sheets)
    ]
    assert stalled[0] == stalled[1] and len(stalled[0]) > 1


def test_the_generated_deals_keep_what_the_tables_count(spec: dict[str, Any]) -> None:
    """bench.generate sets each deal's kept checklist counts and last activity (migration 0014) from its rows."""
    counted = """
        SELECT d.id, COALESCE(p.done, 0), COALESCE(p.required, 0), t.last FROM deals d
        LEFT JOIN (
            SELECT i.deal_id, COUNT(*) AS required, SUM(CASE WHEN i.done THEN 1 ELSE 0 END) AS done
            FROM deal_checklist_items i JOIN deals di ON di.id = i.deal_id AND di.stage = i.stage
            WHERE i.item_key IN (SELECT key FROM checklist_templates WHERE required) GROUP BY i.deal_id
        ) p ON p.deal_id = d.id
        LEFT JOIN (SELECT deal_id, MAX(occurred_at) AS last FROM activities GROUP BY deal_id) t ON t.deal_id = d.id
        ORDER BY d.id"""
    kept = "SELECT id, checklist_done, checklist_required, last_activity_at FROM deals ORDER BY id"
    expected, found = (db.session.execute(text(query)).all() for query in (counted, kept))
    assert found == expected and any(row[2] for row in found) and any(row[3] for row in found)


def test_a_run_checks_rows_and_bytes_and_gives_the_ratio(spec: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    args = ["--db", spec["url"], "--repeat", "1", "--warmup", "0", "--only", "service-csv,bare-csv"]
    assert main([*args, "--json", str(out)]) == 0  # each workload in its own process
    found = json.loads(out.read_text(encoding="utf-8"))
    assert found["problems"] == [] and found["board_deals"] == DEALS
    service, bare = found["results"][SERVICE_CSV], found["results"][BARE_CSV]
    assert service["rows"] == bare["rows"] == DEALS
    assert service["baseline_seconds"] == bare["seconds"] and service["ratio"] == service["seconds"] / bare["seconds"]
    assert 0 < bare["rss_before_mb"] <= bare["peak_rss_mb"] < 1000


def test_the_verdict_names_each_missed_target() -> None:
    fast = {"rows": 1_000_000, "seconds": 9.0, "ratio": 1.2, "peak_rss_mb": 99.0}
    assert verdict(SERVICE_CSV, fast) == ("≤ 10 s, RSS ≤ 100 MB", "pass")
    assert (
        verdict(SERVICE_CSV, fast | {"seconds": 12.5, "peak_rss_mb": 120.0})[1] == "miss (RSS 120 MB, 1.25× the time)"
    )
    assert verdict(SERVICE_CSV, fast | {"rows": 100_000, "seconds": 30.0}) == (
        "RSS ≤ 100 MB (≤ 10 s is for 1M)",
        "pass",
    )
    assert verdict(SERVICE_XLSX, fast) == ("≤ 1.3× bare, RSS ≤ 100 MB", "pass")
    assert verdict(SERVICE_SHEET, fast | {"ratio": 1.5})[1] == "miss (1.50×)"
    assert verdict(BARE_XLSX, fast) == ("", "")
