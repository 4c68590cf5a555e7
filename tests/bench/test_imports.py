"""The import benchmark's file is what it claims (GB18030 without BOM, people written every way) and imports cleanly."""

from __future__ import annotations

import csv
from pathlib import Path

from flask import Flask

from bench.imports import generate
from pipeline.imports.contacts import CREATE, MERGE, plan_file
from tests.conftest import People


def test_the_generated_file_is_gb18030_without_bom_and_imports_without_bad_rows(
    app: Flask, people: People, tmp_path: Path
) -> None:
    path = tmp_path / "contacts.csv"
    generate(path, 500, seed=3)
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("gb18030")
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == ["姓名", "手机", "公司", "邮箱", "职位", "地址", "分组", "备注"]
    assert len(rows) == 501 and b"\r\n" in raw
    mobiles = [r[1] for r in rows[1:]]
    assert any(m.startswith("+86 ") for m in mobiles) and any("-" in m for m in mobiles)
    assert any("１" in m or "３" in m for m in mobiles)  # full-width digits
    with plan_file(path, people.admin) as plan:
        assert plan.encoding == "gb18030" and not plan.bad_rows
        assert plan.counts[CREATE] > 450 and plan.counts[MERGE] > 0
