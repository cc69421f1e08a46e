"""A real HTTP server on 127.0.0.1 whose routes tests program, for the fetch and capture tests.

    with LocalServer() as server:
        url = server.route("/terms", html("<p>Terms</p>"))
        server.route("/flaky", flaky(2, Reply(500), then=html("ok")))
        server.serve_directory(corpus, prefix="/corpus/")
        ...
        assert server.hits["/flaky"] == 3

A route is a `Reply` (always the same answer) or a `Handler`, a function of the `Received`
request. The server counts requests per path, records them, and tracks how many it was serving
at once (`max_in_flight`). It runs on daemon threads and closes every connection on exit.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import socket
import struct
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class Received:
    """One request as the server saw it; header names are lower-case."""

    method: str
    path: str  # without the query string
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Reply:
    status: int = 200
    # An iterable is streamed and delimited by closing the connection; it is consumed by one request.
    body: bytes | Iterable[bytes] = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    reset_after: int | None = None  # send this many bytes of the response, then reset the connection


Handler = Callable[[Received], Reply]


def html(text: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Reply:
    return Reply(status, text.encode(), {"Content-Type": "text/html; charset=utf-8", **(headers or {})})


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status, headers={"Location": location})


def reset() -> Reply:
    """Abort the connection with a TCP reset before answering (set `reset_after` to cut a reply short)."""
    return Reply(reset_after=0)


def large(size: int, chunk: int = 64 * 1024) -> Handler:
    """A body of `size` bytes streamed without Content-Length, generated rather than held in memory."""
    block = b"<p>" + b"x" * (chunk - 3)

    def handler(_: Received) -> Reply:
        chunks = (block[: min(chunk, size - sent)] for sent in range(0, size, chunk))
        return Reply(body=chunks, headers={"Content-Type": "text/html; charset=utf-8"})

    return handler


def flaky(failures: int, failure: Reply, then: Reply) -> Handler:
    """Answer `failure` to the first `failures` requests, `then` to the rest."""
    lock = threading.Lock()
    count = 0

    def handler(_: Received) -> Reply:
        nonlocal count
        with lock:
            count += 1
            return failure if count <= failures else then

    return handler


def conditional(reply: Reply, etag: str | None = None, last_modified: str | None = None) -> Handler:
    """Answer 304 when the request's validators match, else `reply` with its validators."""
    validators = {k: v for k, v in (("ETag", etag), ("Last-Modified", last_modified)) if v}

    def handler(request: Received) -> Reply:
        if _not_modified(request, etag, last_modified):
            return Reply(304, headers=validators)
        return replace(reply, headers={**reply.headers, **validators})

    return handler


def file(path: Path, content_type: str | None = None) -> Handler:
    """A file from disk with an ETag and a Last-Modified, so conditional requests work."""
    body = path.read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
    last_modified = formatdate(path.stat().st_mtime, usegmt=True)
    kind = content_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return conditional(Reply(200, body, {"Content-Type": kind}), etag, last_modified)


class LocalServer:
    def __init__(self) -> None:
        self.routes: dict[str, Reply | Handler] = {}
        self.directories: list[tuple[str, Path]] = []
        self.hits: Counter[str] = Counter()
        self.received: list[Received] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd = _Server(self)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="localserver",
                                        daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def route(self, path: str, answer: Reply | Handler) -> str:
        """Program `path` (no query string); returns its full URL."""
        self.routes[path] = answer
        return self.url(path)

    def serve_directory(self, root: Path, prefix: str = "/") -> None:
        """Serve the files under `root` at `prefix` + their relative path."""
        self.directories.append((prefix, root.resolve()))

    def requests_to(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._stopping.set()  # wakes delayed replies
        self._httpd.shutdown()
        with self._lock:
            for connection in self._connections:  # idle keep-alive connections would linger
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        self._thread.join()

    def _answer(self, request: Received) -> Reply:
        answer = self.routes.get(request.path)
        if answer is None:
            answer = self._from_directory(request.path)
        return answer(request) if callable(answer) else answer

    def _from_directory(self, path: str) -> Reply | Handler:
        for prefix, root in self.directories:
            if path.startswith(prefix):
                candidate = (root / unquote(path[len(prefix):]).lstrip("/")).resolve()
                if candidate.is_file() and candidate.is_relative_to(root):
                    return file(candidate)
        return Reply(404, b"not found", {"Content-Type": "text/plain"})

    def _enter(self, request: Received) -> None:
        with self._lock:
            self.hits[request.path] += 1
            self.received.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a benchmark opens many connections at once

    def __init__(self, owner: LocalServer) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.owner._lock:
            self.owner._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.owner._lock:
            self.owner._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up early (timeouts, size caps) are part of the tests; anything else is a bug.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        owner = self.server.owner
        request = Received(self.command, urlsplit(self.path).path,
                           {name.lower(): value for name, value in self.headers.items()})
        owner._enter(request)
        try:
            reply = owner._answer(request)
            if reply.delay and owner._stopping.wait(reply.delay):
                self.close_connection = True
                return
            self._send(reply)
        finally:
            owner._leave()

    def _send(self, reply: Reply) -> None:
        headers = dict(reply.headers)
        if isinstance(reply.body, bytes):
            chunks: Iterable[bytes] = [reply.body]
            if reply.status not in (204, 304):
                headers.setdefault("Content-Length", str(len(reply.body)))
        else:
            chunks = reply.body
            headers["Connection"] = "close"
            self.close_connection = True
        lines = [f"HTTP/1.1 {reply.status} {_phrase(reply.status)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if reply.reset_after is not None:
            self.wfile.write((head + b"".join(chunks))[: reply.reset_after])
            self._reset()
            return
        self.wfile.write(head)
        for chunk in chunks:
            self.wfile.write(chunk)

    def _reset(self) -> None:
        """Close with SO_LINGER 0: the kernel sends RST, the client sees 'connection reset'."""
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _not_modified(request: Received, etag: str | None, last_modified: str | None) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:  # takes precedence over If-Modified-Since (RFC 9110, 13.2.2)
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return etag is not None and ("*" in tags or etag.removeprefix("W/") in tags)
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since is None or last_modified is None:
        return False
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
