"""Preview a built site on 127.0.0.1 (the standard library's server: fine for one reader)."""

from __future__ import annotations

import functools
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 (the base class declares it as a plain dict)
        **SimpleHTTPRequestHandler.extensions_map,
        ".md": "text/markdown; charset=utf-8",
        ".minisig": "text/plain; charset=utf-8",
        ".pub": "text/plain; charset=utf-8",
        ".json": "application/json",
    }

    base_path = "/"  # where the site is mounted, as deployed (the path of site.yaml's base_url)

    def send_head(self) -> Any:
        # Outside the base path there is nothing but the 404 page (as on GitHub Pages), and the
        # host's root leads to the site: the 404 page's links, which start from the base path, work.
        if not self.path.startswith(self.base_path):
            if self.path.split("?", 1)[0] == "/":
                self.send_response(302)
                self.send_header("Location", self.base_path)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            self.send_error(404)
            return None
        return super().send_head()

    def list_directory(self, path: Any) -> None:
        self.send_error(404)  # a folder without index.html, as on GitHub Pages: no listing
        return None

    def translate_path(self, path: str) -> str:
        return super().translate_path("/" + path[len(self.base_path):])

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


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A reader who closes the tab or follows a link while a page loads drops the connection: not
        # an error of the server, and no traceback for the terminal.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def mount_path(base_url: str) -> str:
    """The path a site is deployed under, from its base URL: '/clausewatch/' or '/'."""
    path = urlsplit(base_url).path.strip("/")
    return f"/{path}/" if path else "/"


def make_server(site_dir: Path, host: str = "127.0.0.1", port: int = 8000,
                quiet: bool = False, base_path: str = "/") -> ThreadingHTTPServer:
    """`quiet`: no line per request on stderr (the preview prints them; tests need not).
    `base_path`: where the site is served, e.g. '/clausewatch/' (mount_path)."""
    handler_class = type("Handler", (_QuietHandler if quiet else _Handler,), {"base_path": base_path})
    handler = functools.partial(handler_class, directory=str(site_dir))
    return _Server((host, port), handler)
