"""A plain `pip install .` must carry the templates, migrations, static files and translations."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_ships_templates_migrations_and_assets(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("pipeline-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in (ROOT / "templates").rglob("*.html"):
        assert f"pipeline/templates/{template.relative_to(ROOT / 'templates').as_posix()}" in names
    for migration in (ROOT / "pipeline" / "migrations").rglob("*"):
        if migration.is_file() and "__pycache__" not in migration.parts:
            assert migration.relative_to(ROOT).as_posix() in names, migration
    for asset in (ROOT / "pipeline" / "static").rglob("*"):  # every stylesheet and script is served from the package
        if asset.is_file():
            assert asset.relative_to(ROOT).as_posix() in names, asset
    assert "pipeline/templates/error.html" in names
    assert not any(n.startswith("tests/") for n in names)


def test_the_readme_opens_with_the_two_set_up_commands_and_ci_runs_the_second() -> None:
    run_app, run_tests = (line.strip() for line in (ROOT / "README.md").read_text().splitlines()[:2])
    assert run_app.endswith(".venv/bin/pipeline demo") and "pip install ." in run_app
    assert run_tests.endswith(".venv/bin/pytest")
    assert run_tests in (ROOT / ".ci" / "run").read_text()
