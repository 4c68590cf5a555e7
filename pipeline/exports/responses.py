"""A finished export sent as an attachment, for the web download and the API alike."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from flask import Response, send_file

from pipeline.exports.services import Download

CHUNK = 64 * 1024


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    """The file's bytes; the file is closed once sent, or when the server drops the response half-way."""
    try:
        while chunk := file.read(CHUNK):
            yield chunk
    finally:
        file.close()


def send_download(made: Download) -> Response:
    """The file as an attachment named for the week and whose deals (a Chinese name as RFC 6266 filename*)."""
    response = send_file(made.file, mimetype=made.media_type, as_attachment=True, download_name=made.name)
    # send_file's wrapper closes the file only if the server calls close(); this body closes it when it ends
    response.response = _chunks(made.file)
    response.headers["Content-Type"] = made.media_type  # as given: send_file would add a second charset to text/csv
    response.content_length = made.written.size
    return response
