"""Preview a built site on 127.0.0.1 (the standard library's server: fine for one reader)."""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 (the base class declares it as a plain dict)
        **SimpleHTTPRequestHandler.extensions_map,
        ".md": "text/markdown; charset=utf-8",
        ".minisig": "text/plain; charset=utf-8",
        ".pub": "text/plain; charset=utf-8",
        ".json": "application/json",
    }

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(str(self.directory)) / "404.html"
        if code == 404 and page.is_file():
            body = page.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        super().send_error(code, message, explain)


class _QuietHandler(_Handler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def make_server(site_dir: Path, host: str = "127.0.0.1", port: int = 8000,
                quiet: bool = False) -> ThreadingHTTPServer:
    """`quiet`: no line per request on stderr (the preview prints them; tests need not)."""
    handler = functools.partial(_QuietHandler if quiet else _Handler, directory=str(site_dir))
    return ThreadingHTTPServer((host, port), handler)
