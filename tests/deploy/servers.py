"""`pipeline serve` as real server processes, and a browser-like HTTP client to talk to them.

Each server binds port 0 and the port it got is read from its log ("Listening at: …"), so two servers never
race for a port. A server runs in a process group of its own and is stopped with the whole group.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PIPELINE = Path(sys.executable).with_name("pipeline")
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+) \(")  # the whole line, not a half-written one
START_S, STOP_S = 60.0, 15.0


@dataclass
class Server:
    """One `pipeline serve` process and where it listens."""

    process: subprocess.Popen[bytes]
    log: Path
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _environment(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without its PIPELINE_* settings, plus the server's own."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_")}
    return {**inherited, **settings}


def _launch(settings: dict[str, str], log: Path, args: Iterable[str]) -> Server:
    command = [str(PIPELINE), "serve", "--bind", "127.0.0.1:0", *args]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=_environment(settings), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(process, log)


def _wait_until_answering(server: Server, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"pipeline serve stopped (exit {server.process.returncode}):\n{server.output()}")
        found = LISTENING.search(server.output())
        if found:
            server.port = int(found.group(1))
            try:
                with urllib.request.urlopen(f"{server.url}/login", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
        time.sleep(0.1)
    raise AssertionError(f"pipeline serve did not answer within {START_S:.0f} s:\n{server.output()}")


def stop(server: Server) -> None:
    """Stop the server's whole process group: gracefully, then by force."""
    if server.process.poll() is not None:
        return
    os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=STOP_S)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()


@contextmanager
def serving(
    settings: list[dict[str, str]], folder: Path, *args: str, meanwhile: Callable[[], object] = lambda: None
) -> Iterator[list[Server]]:
    """One `pipeline serve` per settings, started side by side; all stopped on the way out, whatever happened.

    `meanwhile` runs while they start (their start-up is the slow part), before they are waited for.
    """
    servers: list[Server] = []
    try:
        for n, each in enumerate(settings):
            servers.append(_launch(each, folder / f"server-{n}.log", args))
        meanwhile()
        deadline = time.monotonic() + START_S
        for server in servers:
            _wait_until_answering(server, deadline)
        yield servers
    finally:
        for server in servers:
            stop(server)


@dataclass
class Answer:
    """What a server answered: status, headers and body."""

    status: int
    headers: Any
    body: str

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None  # a 302 is an answer to look at, as the tests' own clients see it


class Browser:
    """One browser: one cookie jar, whichever server it talks to (as behind one load balancer's address)."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirects())

    def open(
        self, url: str, data: bytes | None = None, headers: dict[str, str] | None = None, method: str = ""
    ) -> Answer:
        request = urllib.request.Request(url, data=data, headers=headers or {}, method=method or None)
        try:
            with self.opener.open(request, timeout=30) as answer:
                return Answer(answer.status, answer.headers, answer.read().decode("utf-8"))
        except urllib.error.HTTPError as answer:
            return Answer(answer.code, answer.headers, answer.read().decode("utf-8"))

    def get(self, url: str) -> Answer:
        return self.open(url)

    def csrf_token(self, page_url: str) -> str:
        """The CSRF token of the form on a page."""
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self.get(page_url).body)
        assert found, f"no CSRF token on {page_url}"
        return found.group(1)

    def submit(self, page_url: str, action_url: str, fields: dict[str, str]) -> Answer:
        """Post a form as a person would: with the CSRF token of the page the form is on."""
        data = urllib.parse.urlencode({"csrf_token": self.csrf_token(page_url), **fields}).encode()
        return self.open(action_url, data, {"Content-Type": "application/x-www-form-urlencoded"})

    def upload(self, page_url: str, action_url: str, name: str, content: bytes) -> Answer:
        """Send a file through a page's upload form (multipart, with the page's CSRF token)."""
        boundary = "pipeline-test-boundary"
        parts = [
            f"--{boundary}",
            'Content-Disposition: form-data; name="csrf_token"',
            "",
            self.csrf_token(page_url),
            f"--{boundary}",
            f'Content-Disposition: form-data; name="file"; filename="{name}"',
            "Content-Type: application/octet-stream",
            "",
            "",
        ]
        body = "\r\n".join(parts).encode() + content + f"\r\n--{boundary}--\r\n".encode()
        return self.open(action_url, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def sign_in(self, server: Server, email: str, password: str) -> Answer:
        return self.submit(f"{server.url}/login", f"{server.url}/login", {"email": email, "password": password})


def api(server: Server, method: str, path: str, token: str, body: Any = None) -> Answer:
    """An API call with a bearer token (no cookies)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    data = None if body is None else json.dumps(body).encode()
    return Browser().open(f"{server.url}{path}", data, headers, method)
