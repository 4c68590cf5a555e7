"""The real app served by gunicorn on loopback: for the HTTP benchmark and for the tests that need real servers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

STARTUP_S = 60


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(servers: Sequence[subprocess.Popen[bytes]]) -> None:
    """SIGTERM (gunicorn finishes the requests in flight), then kill whatever is still there after 30 s."""
    for server in servers:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
    for server in servers:
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_ready(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Return once the server answers its sign-in page; raise (pointing at its log) if it stopped or never did."""
    deadline = time.monotonic() + STARTUP_S
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped (exit {server.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within {STARTUP_S} s; see {log}") from None
            time.sleep(0.2)


@contextmanager
def serving(
    url: str, *logs: Path, workers: int = 1, threads: int = 1, env: Mapping[str, str] | None = None
) -> Iterator[list[int]]:
    """One gunicorn per log file, serving `pipeline:create_app()` on the database `url`, each on a free port.

    Yields their ports once every one answers. More than one thread makes gunicorn use its gthread worker. The
    servers are started together and stopped on leaving the block, whatever happened inside it; each one's output
    (with any traceback) is in its log.
    """
    environment = {
        **os.environ,
        "PIPELINE_DATABASE_URL": url,
        "PIPELINE_SECRET_KEY": "loopback-server-secret",
        "PIPELINE_LOGIN_LIMIT_PER_ACCOUNT": "1000 per minute",
        "PIPELINE_LOGIN_LIMIT_PER_ADDRESS": "1000 per minute",
        "PIPELINE_API_RATE_LIMIT": "1000000 per minute",  # loads and races send every call through a token or two
        **(env or {}),
    }
    servers: list[subprocess.Popen[bytes]] = []
    ports: list[int] = []
    try:
        for log in logs:
            port = free_port()
            command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads)]
            command += ["--bind", f"127.0.0.1:{port}", "pipeline:create_app()"]
            with log.open("wb") as out:
                servers.append(subprocess.Popen(command, env=environment, stdout=out, stderr=subprocess.STDOUT))
            ports.append(port)
        for server, port, log in zip(servers, ports, logs, strict=True):
            _wait_ready(server, port, log)
        yield ports
    finally:
        _stop(servers)
