"""`pipeline serve`: gunicorn's settings from the options, refusals and warnings in one line, and a real start."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from pipeline import create_app
from pipeline.core import serve
from pipeline.extensions import db
from tests.conftest import PASSWORDS, REDIS_URL, People, refused
from tests.deploy.servers import Browser, serving


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The settings each `pipeline serve` would have started gunicorn with (it is not started)."""
    runs: list[dict[str, Any]] = []

    def run(self: serve.PipelineServer) -> None:
        runs.append({name: self.cfg.settings[name].get() for name in self.cfg.settings})

    monkeypatch.setattr(serve.PipelineServer, "run", run)
    return runs


def test_the_defaults_suit_this_app(runner: FlaskCliRunner, started: list[dict[str, Any]]) -> None:
    result = runner.invoke(args=["serve", "--workers", "1"])
    assert result.exit_code == 0, result.output
    [cfg] = started
    assert cfg["bind"] == ["127.0.0.1:8000"]
    assert (cfg["workers"], cfg["threads"], cfg["worker_class"]) == (1, 2, "gthread")
    assert cfg["preload_app"] is True
    assert cfg["max_requests"] == 2000 and cfg["max_requests_jitter"] == 200
    assert (cfg["timeout"], cfg["graceful_timeout"]) == (60, 30)
    assert cfg["accesslog"] == "-" and "%(M)s" in cfg["access_log_format"]  # to stdout, with each duration
    assert cfg["secure_scheme_headers"] == {}  # forwarded headers are PIPELINE_TRUSTED_PROXIES' business alone
    assert result.stderr == ""  # one worker: nothing to share, nothing to warn about


def test_workers_default_to_the_usable_cores(
    runner: FlaskCliRunner, started: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serve, "usable_cores", lambda: 3)
    assert runner.invoke(args=["serve"]).exit_code == 0
    assert started[0]["workers"] == 3


def test_options_and_their_environment_variables(
    runner: FlaskCliRunner, started: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["serve", "-b", "0.0.0.0:9000", "-b", "unix:/run/pipeline.sock", "-w", "1", "--threads", "1"]
    result = runner.invoke(args=[*args, "--timeout", "120", "--graceful-timeout", "5"])
    assert result.exit_code == 0, result.output
    assert started[0]["bind"] == ["0.0.0.0:9000", "unix:/run/pipeline.sock"]
    assert (started[0]["threads"], started[0]["worker_class"]) == (1, "sync")
    assert (started[0]["timeout"], started[0]["graceful_timeout"]) == (120, 5)
    monkeypatch.setenv("PIPELINE_BIND", "127.0.0.1:8001")
    monkeypatch.setenv("PIPELINE_WORKERS", "1")
    assert runner.invoke(args=["serve"]).exit_code == 0
    assert (started[1]["bind"], started[1]["workers"]) == (["127.0.0.1:8001"], 1)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--workers", "0"], "--workers"),
        (["--threads", "many"], "--threads"),
        (["--bind", "127.0.0.1:port"], "--bind"),
        (["--timeout", "0"], "--timeout"),
    ],
)
def test_wrong_options_are_refused_naming_them(
    runner: FlaskCliRunner, started: list[dict[str, Any]], args: list[str], named: str
) -> None:
    result = runner.invoke(args=["serve", *args])
    assert result.exit_code == 2 and named in result.stderr, result.output
    assert started == []


def test_several_workers_without_redis_are_warned_about_in_one_line(
    runner: FlaskCliRunner, started: list[dict[str, Any]]
) -> None:
    result = runner.invoke(args=["serve", "--workers", "2"])
    assert result.exit_code == 0 and len(started) == 1
    [line] = result.stderr.splitlines()
    assert "warning" in line and "PIPELINE_REDIS_URL" in line and "2 workers" in line
    assert "failed sign-in counts" in line and "API call counts" in line


def test_with_redis_configured_nothing_is_warned_about(app: Flask, started: list[dict[str, Any]]) -> None:
    shared = create_app({**app.config, "PIPELINE_REDIS_URL": REDIS_URL})
    try:
        result = shared.test_cli_runner().invoke(args=["serve", "--workers", "4"])
    finally:
        with shared.app_context():
            db.engine.dispose()
    assert result.exit_code == 0 and result.stderr == "" and len(started) == 1


def test_an_unmigrated_database_is_refused_before_anything_starts(
    tmp_path: Path, started: list[dict[str, Any]]
) -> None:
    empty = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.db'}", "SECRET_KEY": "t"})
    result = empty.test_cli_runner().invoke(args=["serve"])
    refused(result, "no schema yet", "pipeline init")
    assert started == []


def test_it_really_serves_and_every_request_has_its_own_context(
    database_url: str, people: People, tmp_path: Path
) -> None:
    """A sync worker serves one request after another: the last one's signed-in user must not leak into the next."""
    settings = {"PIPELINE_DATABASE_URL": database_url, "PIPELINE_SECRET_KEY": "serve-test-secret"}
    with serving([settings], tmp_path, "--workers", "1", "--threads", "1") as [server]:
        rep = Browser()
        assert rep.sign_in(server, people.rep.email, PASSWORDS[people.rep.email]).status == 302
        assert people.rep.name in rep.get(f"{server.url}/board").body
        stranger = Browser().get(f"{server.url}/board")
        assert stranger.status == 302 and "/login" in stranger.headers["Location"]
    log = server.output()
    assert "Using worker: sync" in log
    assert re.search(r'"GET /board HTTP/1\.1" 200 \d+ .* \d+ms', log)  # the access log, with durations
    assert server.process.returncode == 0  # stopped gracefully
