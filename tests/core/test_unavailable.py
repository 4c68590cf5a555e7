"""The database goes away and comes back: pages and the API answer a clear 503 meanwhile, then 200 with no restart.

On PostgreSQL the app talks to the server through a TCP forwarder this test stops (every connection cut, the port
closed) and starts again; on SQLite the database file cannot be opened for a while (its path is a folder, as when
its volume is not mounted).
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from pipeline.auth.models import User
from pipeline.core.database import is_unavailable
from pipeline.extensions import db
from tests.conftest import People

PIPELINE = Path(sys.executable).with_name("pipeline")


class Forwarder:
    """127.0.0.1:<port> → the database server, in threads; stop() cuts every connection and closes the port."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for s in (source, sink):
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self._listener is not None:
            with suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone would not
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for s in sockets:
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


@pytest.fixture
def forwarder(database_url: str) -> Iterator[Forwarder | None]:
    if not database_url.startswith("postgresql"):
        yield None
        return
    url = make_url(database_url)
    proxy = Forwarder(url.host or "127.0.0.1", url.port or 5432)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def app_config(database_url: str, forwarder: Forwarder | None) -> dict[str, Any]:
    """The app reaches PostgreSQL through the forwarder."""
    if forwarder is None:
        return {}
    through = make_url(database_url).set(host="127.0.0.1", port=forwarder.port)
    return {"SQLALCHEMY_DATABASE_URI": through.render_as_string(hide_password=False)}


@pytest.fixture
def outage(app: Flask, forwarder: Forwarder | None, tmp_path: Path) -> Iterator[tuple[Callable[[], None], ...]]:
    """(down, up): make the database unreachable, and reachable again."""
    moved = tmp_path / "away"

    def down() -> None:
        db.session.remove()
        if forwarder is not None:
            forwarder.stop()
            return
        path = Path(str(db.engine.url.database))
        moved.mkdir()
        for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
            if (path.parent / name).exists():
                shutil.move(path.parent / name, moved / name)
        path.mkdir()  # a folder where the file was: "unable to open database file"
        db.engine.dispose()  # as after a restart of the volume: the open connections are gone with it

    def up() -> None:
        if forwarder is not None:
            forwarder.start()
            return
        path = Path(str(db.engine.url.database))
        path.rmdir()
        for found in moved.iterdir():
            shutil.move(found, path.parent / found.name)
        moved.rmdir()

    yield down, up


def _is_unavailable_page(response: Any, words: str) -> None:
    assert response.status_code == 503, response.status_code
    assert response.headers["Retry-After"].isdigit()
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert words in page, page


@pytest.mark.parametrize(("lang", "words"), [("zh", "数据库暂时无法连接"), ("en", "The database cannot be reached")])
def test_pages_and_the_api_answer_503_while_the_database_is_away_and_200_once_it_is_back(
    client: FlaskClient,
    people: People,
    browser: Callable[[User], FlaskClient],
    token_for: Callable[[User], dict[str, str]],
    outage: tuple[Callable[[], None], Callable[[], None]],
    lang: str,
    words: str,
) -> None:
    down, up = outage
    headers = token_for(people.rep)
    browser(people.rep)
    assert client.post("/lang", data={"lang": lang}).status_code == 302  # this browser's language
    assert client.get("/deals").status_code == 200
    assert client.get("/api/v1/deals", headers=headers).status_code == 200

    down()
    for _ in range(2):  # the first request finds the pooled connection dead, the next one cannot connect
        _is_unavailable_page(client.get("/deals"), words)
    _is_unavailable_page(client.get("/login"), words)
    api = client.get("/api/v1/deals", headers=headers)
    assert api.status_code == 503
    assert api.headers["Retry-After"].isdigit()
    assert api.json == {"error": "the database cannot be reached right now; try again in a moment"}
    changed = client.post("/api/v1/deals", headers=headers, json={"title": "x"})
    assert changed.status_code == 503
    _is_unavailable_page(client.post("/deals/new", data={"title": "断网时提交的项目"}), words)  # a form sent

    up()
    page = client.get("/deals")
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    assert client.get("/api/v1/deals", headers=headers).status_code == 200


def test_an_app_started_while_the_database_is_away_serves_once_it_is_back(
    client: FlaskClient, outage: tuple[Callable[[], None], Callable[[], None]]
) -> None:
    """The first request checks the schema (PIPELINE_CHECK_MIGRATED); that check failing is a 503, tried again."""
    down, up = outage
    down()
    _is_unavailable_page(client.get("/login"), "数据库暂时无法连接")
    up()
    assert client.get("/login").status_code == 200


def test_a_command_says_in_one_line_that_it_cannot_use_the_database(
    app: Flask, people: People, outage: tuple[Callable[[], None], Callable[[], None]]
) -> None:
    down, _up = outage
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    down()
    env = {**os.environ, "PIPELINE_DATABASE_URL": url, "PIPELINE_SECRET_KEY": "t"}
    done = subprocess.run([str(PIPELINE), "users", "list"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("pipeline: error: cannot use the database: ") and done.stderr.count("\n") == 1


def _raised(action: Callable[[], object]) -> Exception:
    try:
        action()
    except Exception as exc:
        return exc
    raise AssertionError("nothing raised")


def test_only_a_database_that_cannot_be_reached_or_used_is_unavailable(tmp_path: Path) -> None:
    """A bug (no such table) stays a 500 and a busy SQLite its own 503; refused connections and unopenable files
    are the database being away."""
    memory = sqlite3.connect(":memory:")
    no_table = _raised(lambda: memory.execute("SELECT * FROM nowhere"))
    memory.close()
    cannot_open = _raised(lambda: sqlite3.connect(tmp_path / "missing" / "x.db"))
    refused = _raised(lambda: psycopg.connect("host=127.0.0.1 port=1 user=postgres connect_timeout=5"))

    def wrapped(orig: Exception) -> OperationalError:
        return OperationalError("SELECT 1", {}, orig)

    assert is_unavailable(wrapped(cannot_open))
    assert is_unavailable(wrapped(refused))
    assert not is_unavailable(wrapped(no_table))
    assert not is_unavailable(no_table)
    assert not is_unavailable(ValueError("x"))
