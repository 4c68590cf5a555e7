"""Deals of every owner on the board (and one that is not), and reading a downloaded file back as Excel would."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from flask import Flask

from pipeline.deals import services
from pipeline.deals.models import Deal
from pipeline.extensions import db
from tests.conftest import People


@pytest.fixture
def board(app: Flask, people: People, make_deal: Callable[..., Deal]) -> dict[str, Deal]:
    """A deal on the board for each of the lead, both 华东 reps and the 华南 rep; a lost one of 王芳's is not."""
    deals = {
        "rep": make_deal(people.rep, title="王芳的项目", strategy="frontal"),
        "rep_plain": make_deal(people.rep, title="王芳的第二个项目"),
        "rep_b": make_deal(people.rep_b, title="张伟的项目", strategy="frontal"),
        "lead": make_deal(people.lead, title="李经理的项目"),
        "outsider": make_deal(people.outsider, title="陈静的项目"),
    }
    lost = make_deal(people.rep, title="王芳输掉的项目")
    services.move(people.admin, lost, "lose", lost_reason="price")
    db.session.commit()
    return deals


def ids(board: dict[str, Deal], *names: str) -> set[int]:
    return {board[name].id for name in names}


def workbook(response: Any) -> openpyxl.Workbook:
    """The downloaded workbook, opened as Excel would open it."""
    assert response.status_code == 200, response.get_data()[:300]
    return openpyxl.load_workbook(io.BytesIO(response.data))


def sheet_ids(book: openpyxl.Workbook, sheet: str = "商机") -> set[int]:
    """The deal ids the sheet lists (its first column, under the header)."""
    rows = book[sheet].iter_rows(min_row=2, max_col=1, values_only=True)
    return {int(value) for (value,) in rows if value is not None}


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.get_data()[:300]
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
