"""Fetch stage of the capture: download many pages politely and say plainly what happened to each.

Polite: a descriptive User-Agent, a few connections per host, conditional requests so that an
unchanged page costs a 304, retries that back off and honour Retry-After. Every request ends in
one FetchResult whose `outcome` the check log records; no failure stops the other requests.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import re
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import urlsplit

import httpx

from . import __version__
from .charset import decode, is_text
from .hosts import LOOPBACK_HOSTS

PROJECT_URL = "https://clausewatch.github.io/clausewatch/"
USER_AGENT = f"clausewatch/{__version__} (+{PROJECT_URL}; transparency archive of terms of service)"

Outcome = Literal["ok", "not-modified", "fetch-failed", "http-error", "blocked"]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class FetchRequest:
    """A page to fetch, with the validators of its previous capture if any."""

    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchSettings:
    timeout: float = 30.0  # seconds one attempt may take, connect to last body byte
    retries: int = 3  # further attempts after a transient failure
    backoff_base: float = 1.0  # seconds before the first retry; doubles each time, with jitter
    max_retry_after: float = 120.0  # a server asking for a longer wait is not retried
    max_body_bytes: int = 10 * 1024 * 1024
    concurrency: int = 16
    per_host: int = 2
    user_agent: str = USER_AGENT
    max_redirects: int = 10

    def __post_init__(self) -> None:
        # Zero slots would wait forever, a zero timeout would fail everything: refuse both up front.
        for name in ("timeout", "concurrency", "per_host", "max_body_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"fetch settings: {name} must be positive, not {getattr(self, name)!r}")
        for name in ("retries", "backoff_base", "max_retry_after", "max_redirects"):
            if getattr(self, name) < 0:
                raise ValueError(f"fetch settings: {name} must not be negative, not {getattr(self, name)!r}")


@dataclass(frozen=True)
class FetchResult:
    url: str  # as requested
    final_url: str | None  # after redirects; None when no server answered
    status: int | None
    outcome: Outcome
    reason: str  # one human-readable line
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    body: bytes = field(default=b"", repr=False)
    text: str = field(default="", repr=False)
    charset: str | None = None  # None when nothing was decoded (no body, or not a text type)
    attempts: int = 0
    elapsed: float = 0.0  # seconds, first attempt to result, retry waits included


def fetch_many(requests: Sequence[FetchRequest], settings: FetchSettings,
               transport: httpx.AsyncBaseTransport | None = None,
               on_result: Callable[[FetchResult], None] | None = None,
               sleep: Sleep = asyncio.sleep) -> list[FetchResult]:
    """Synchronous `fetch_all`, for callers without an event loop."""
    return asyncio.run(fetch_all(requests, settings, transport, on_result, sleep))


async def fetch_all(requests: Sequence[FetchRequest], settings: FetchSettings,
                    transport: httpx.AsyncBaseTransport | None = None,
                    on_result: Callable[[FetchResult], None] | None = None,
                    sleep: Sleep = asyncio.sleep) -> list[FetchResult]:
    """Fetch every request; results come back in the order of `requests`.

    `on_result` sees each result as soon as it is known (progress); `sleep` waits between retries
    (tests inject one that records the delays instead of waiting).
    """
    fetcher = _Fetcher(settings, asyncio.Semaphore(settings.concurrency), {}, sleep)
    limits = httpx.Limits(max_connections=settings.concurrency,
                          max_keepalive_connections=settings.concurrency)
    headers = {"User-Agent": settings.user_agent, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
               "Accept-Encoding": ACCEPT_ENCODING}
    async with httpx.AsyncClient(transport=transport, limits=limits, headers=headers,
                                 timeout=settings.timeout, follow_redirects=False) as client:

        async def one(request: FetchRequest) -> FetchResult:
            try:
                result = await fetcher.fetch(client, request)
            except Exception as exc:
                result = FetchResult(request.url, None, None, "fetch-failed",
                                     f"unexpected error: {type(exc).__name__}: {exc}")
            if on_result:
                on_result(result)
            return result

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(request)) for request in requests]
    return [task.result() for task in tasks]


class _Failure(Exception):
    """An attempt that got no usable response; transient ones are worth another attempt."""

    def __init__(self, reason: str, transient: bool, response: httpx.Response | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.final_url = str(response.url) if response else None
        self.status = response.status_code if response else None


@dataclass(frozen=True)
class _Reply:
    final_url: str
    status: int
    headers: httpx.Headers
    body: bytes
    text: str
    charset: str | None


@dataclass
class _Fetcher:
    settings: FetchSettings
    overall: asyncio.Semaphore
    hosts: dict[str, asyncio.Semaphore]
    sleep: Sleep

    async def fetch(self, client: httpx.AsyncClient, request: FetchRequest) -> FetchResult:
        try:
            host = httpx.URL(request.url).host
        except httpx.InvalidURL as exc:
            return FetchResult(request.url, None, None, "fetch-failed", f"invalid URL: {exc}")
        # The host slot is held through the retry waits (a struggling server gets no other request
        # from us meanwhile); the overall slot only during each attempt, so waits block no one else.
        async with self.hosts.setdefault(host, asyncio.Semaphore(self.settings.per_host)):
            started = time.monotonic()
            attempts = 0
            while True:
                attempts += 1
                async with self.overall:
                    reply = await _attempt(client, request, self.settings)
                result = _judge(request, reply)
                if result is None:
                    delay = _retry_delay(reply, attempts, self.settings)
                    if delay is not None:
                        await self.sleep(delay)
                        continue
                    result = _give_up(request, reply, attempts, self.settings)
                return replace(result, attempts=attempts, elapsed=time.monotonic() - started)


async def _attempt(client: httpx.AsyncClient, request: FetchRequest,
                   settings: FetchSettings) -> _Reply | _Failure:
    try:
        async with asyncio.timeout(settings.timeout):
            return await _follow(client, request, settings)
    except _Failure as failure:
        return failure
    except (httpx.TimeoutException, TimeoutError):
        return _Failure(f"timed out after {settings.timeout:g} s", transient=True)
    except httpx.ConnectError as exc:
        return _Failure(f"could not connect: {_describe(exc)}", transient=True)
    except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        return _Failure(f"connection broken: {_describe(exc)}", transient=True)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return _Failure(f"request failed: {_describe(exc)}", transient=False)


async def _follow(client: httpx.AsyncClient, request: FetchRequest, settings: FetchSettings) -> _Reply:
    """Follow redirects by hand, to tell a loop from a long chain and to stream with a size cap."""
    headers = {}
    if request.etag:
        headers["If-None-Match"] = request.etag
    if request.last_modified:
        headers["If-Modified-Since"] = request.last_modified
    outgoing = client.build_request("GET", request.url, headers=headers)
    chain = [str(outgoing.url)]  # URLs requested so far
    if outgoing.url.host not in LOOPBACK_HOSTS and await _is_internal(outgoing.url.host):
        # (validate refuses such addresses written out; a public name can still resolve inside)
        raise _Failure(f"{chain[0]} is, or resolves to, an address inside the runner's network, whose "
                       "answer we would sign and publish", False)
    while True:
        response = await client.send(outgoing, stream=True)
        try:
            if response.next_request is None:
                body = await _read_capped(response, settings.max_body_bytes)
                return _reply(response, body)
        finally:
            await response.aclose()
        outgoing = response.next_request
        target = str(outgoing.url)
        if outgoing.url.scheme == "http" and any(url.startswith("https:") for url in chain):
            # Past this hop the text could be altered on the way, and nothing would show it.
            raise _Failure(f"redirected from HTTPS to plain HTTP: {chain[-1]} -> {target}", False, response)
        if target in chain:
            raise _Failure("redirect loop: " + " -> ".join([*chain, target]), False, response)
        if await _is_internal(outgoing.url.host) and not await _is_internal(httpx.URL(chain[0]).host):
            # A public page must not lead us into the runner's own network (a cloud's metadata
            # address, a service on loopback), whose answer we would sign and publish.
            raise _Failure(f"redirected from a public address to an internal one: {chain[-1]} -> {target}",
                           False, response)
        if len(chain) > settings.max_redirects:
            raise _Failure(f"more than {settings.max_redirects} redirects", False, response)
        chain.append(target)


# The codings we ask for and undo ourselves, a bounded step at a time: httpx would undo a whole
# network chunk at once, and "gzip, gzip" nests a bomb: 7 KB that unpack to gigabytes in one step.
ACCEPT_ENCODING = "gzip, deflate"
_CODINGS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


class _Unpacker:
    """One body's decompression, each step producing at most the bytes asked for."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self.unpack = zlib.decompressobj(_CODINGS[coding])
        self.started = False

    def step(self, data: bytes, at_most: int) -> bytes:
        first, self.started = not self.started, True
        try:
            return self.unpack.decompress(data, at_most)
        except zlib.error:
            if not (first and self.coding == "deflate"):
                raise
            # Some servers send "deflate" without its zlib header (as httpx, try raw deflate).
            self.unpack = zlib.decompressobj(-zlib.MAX_WBITS)
            return self.unpack.decompress(data, at_most)


async def _is_internal(host: str) -> bool:
    """Whether a host is, or resolves to, a loopback, private, link-local or otherwise non-public
    address. A name that does not resolve is not internal: the request fails on its own."""
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(host, None)
        except OSError:
            return False
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]
    return any(not address.is_global for a in addresses for address in (a, *_embedded_ipv4(a)))


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 address an IPv6 one carries and may be routed to: Python counts "::127.0.0.1"
    (IPv4-compatible), "64:ff9b::7f00:1" (NAT64) and 6to4 or Teredo ones as global."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo:
        found += list(address.teredo)
    if int(address) >> 32 == 0 or address in _NAT64:  # ::a.b.c.d, 64:ff9b::a.b.c.d
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    """The body, undone from its Content-Encoding, refused once it would exceed `limit` bytes."""
    coding = response.headers.get("Content-Encoding", "").strip().lower()
    if coding not in ("", "identity", *_CODINGS):
        raise _Failure(f"unsupported Content-Encoding {coding!r} (we ask for {ACCEPT_ENCODING})",
                       transient=False, response=response)
    unpacker = _Unpacker(coding) if coding in _CODINGS else None
    if response.is_stream_consumed:  # built with its body in memory, already undone (MockTransport)
        unpacker, stream = None, _at_once(response.content)
    else:
        stream = response.aiter_raw()
    chunks: list[bytes] = []
    size = 0
    async for raw in stream:
        try:
            chunk = unpacker.step(raw, limit - size + 1) if unpacker else raw
        except zlib.error as exc:
            raise _Failure(f"body is not valid {coding} data ({exc})", transient=False,
                           response=response) from exc
        size += len(chunk)
        if size > limit:
            raise _Failure(f"body larger than {limit} bytes", transient=False, response=response)
        chunks.append(chunk)
    if unpacker and unpacker.started and not unpacker.unpack.eof:
        # A compressed stream ends with its own end marker: without it, the body was cut short
        # (its Content-Length, counting the compressed bytes, cannot tell), and half a policy
        # would pass for a new version.
        raise _Failure(f"body cut short: its {coding} data stops before its end", transient=True,
                       response=response)
    return b"".join(chunks)


async def _at_once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _reply(response: httpx.Response, body: bytes) -> _Reply:
    final_url, content_type = str(response.url), response.headers.get("Content-Type")
    if not body or not is_text(content_type):
        return _Reply(final_url, response.status_code, response.headers, body, "", None)
    decoded = decode(body, content_type)
    return _Reply(final_url, response.status_code, response.headers, body, decoded.text, decoded.charset)


def _judge(request: FetchRequest, reply: _Reply | _Failure) -> FetchResult | None:
    """The result of one attempt, or None when it failed in a way worth another attempt."""
    if isinstance(reply, _Failure):
        return None if reply.transient else _failed(request, reply)
    wall = bot_wall(reply.status, reply.headers, reply.text)
    if wall:
        return _result(request, reply, "blocked", f"HTTP {reply.status}: {wall}")
    if reply.status == 429 or 500 <= reply.status <= 599:
        return None
    if reply.status == 304:
        return _result(request, reply, "not-modified", "not modified since the previous capture")
    if 200 <= reply.status < 300:
        if not (reply.text.strip() if reply.charset else reply.body):
            return _result(request, reply, "fetch-failed", "empty body")
        if failed := error_page(request.url, reply.final_url, reply.text):
            return _result(request, reply, failed[0], f"{_status_line(reply.status)}, but {failed[1]}")
        return _result(request, reply, "ok", _status_line(reply.status))
    if not 100 <= reply.status <= 599:
        return _result(request, reply, "fetch-failed", f"the server answered with status {reply.status}, "
                       "which HTTP does not define (LinkedIn answers automated requests with 999)")
    return _result(request, reply, "http-error", _status_line(reply.status))


def _give_up(request: FetchRequest, reply: _Reply | _Failure, attempts: int,
             settings: FetchSettings) -> FetchResult:
    """The result of a transient failure that is not retried (any more)."""
    tries = f"{attempts} attempt{'s' if attempts > 1 else ''}"
    if isinstance(reply, _Failure):
        return _failed(request, reply, f" ({tries})")
    why = f"{_status_line(reply.status)} after {tries}"
    wait = retry_after(reply.headers.get("Retry-After"))
    if wait is not None and wait > settings.max_retry_after:
        why += f"; server asked to retry after {_duration(wait)}, over the {settings.max_retry_after:g} s cap"
    if reply.status == 429:
        return _result(request, reply, "blocked", f"rate limited: {why}")
    return _result(request, reply, "http-error", why)


def _retry_delay(reply: _Reply | _Failure, attempts: int, settings: FetchSettings) -> float | None:
    """Seconds to wait before the next attempt, or None to stop."""
    if attempts > settings.retries:
        return None
    if isinstance(reply, _Reply):
        wait = retry_after(reply.headers.get("Retry-After"))
        if wait is not None:
            return wait if wait <= settings.max_retry_after else None
    # Exponential backoff with "equal jitter", so that retries of many pages do not arrive in step;
    # never longer than the longest wait a server may ask for.
    backoff = min(settings.backoff_base * 2.0 ** (attempts - 1), settings.max_retry_after)
    return backoff / 2 + random.uniform(0, backoff / 2)


def _duration(seconds: float) -> str:
    """"90 s", "2.5 h", "3 days": a wait as a reader reads it (a far Retry-After printed as 2.29987e+09 s)."""
    for unit, size in (("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.1f} {unit}".replace(".0 ", " ")
    return f"{seconds:g} s"


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks to wait (delay-seconds or HTTP-date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdecimal():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


# Markup of the challenge pages of common bot protections (Cloudflare, DataDome, PerimeterX,
# Imperva), none of which occurs in any page of the sample corpus.
_CHALLENGE_MARKERS = ("<title>just a moment", "_cf_chl_opt", "attention required! | cloudflare",
                      "captcha-delivery.com", "px-captcha", "_incapsula_resource")
# Their sentences (Turnstile's "Verify you are human", Imperva's "Pardon Our Interruption") and the
# captcha widgets they load: a policy may say the words ("we use hCaptcha to verify you are human"),
# and a site may load a captcha on every page (for a contact form), so these count only on an
# error page or one with little text.
_CHALLENGE_PHRASES = ("enable javascript and cookies to continue", "checking your browser before accessing",
                      "verify you are human", "pardon our interruption", "made us think you were a bot",
                      'class="g-recaptcha"', 'class="h-captcha"', "hcaptcha.com/1/api.js",
                      "google.com/recaptcha/api")
# Words that signal a wall only on an error page: a policy may well talk about captchas.
_ERROR_PAGE_MARKERS = ("captcha", "access denied", "are you a robot", "unusual traffic", "request blocked")
# Challenge pages are small; a policy that quotes a marker is usually far larger.
_WALL_MAX_CHARS = 64 * 1024
_WALL_MAX_TEXT = 1500  # characters of text outside tags: a challenge says a sentence or two
_TAGS = re.compile(r"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)


def bot_wall(status: int, headers: httpx.Headers, text: str) -> str | None:
    """Why a response is a challenge, captcha or bot wall rather than the page; None if it is not."""
    if headers.get("cf-mitigated", "").lower() == "challenge":
        return "Cloudflare challenge (cf-mitigated header)"
    if "x-amzn-waf-action" in headers:
        return f"AWS WAF {headers['x-amzn-waf-action']} (x-amzn-waf-action header)"
    if len(text) > _WALL_MAX_CHARS:
        return None
    lowered = text.lower()
    markers: tuple[str, ...] = _CHALLENGE_MARKERS
    if status >= 400:
        markers += _CHALLENGE_PHRASES + _ERROR_PAGE_MARKERS
    elif any(phrase in lowered for phrase in _CHALLENGE_PHRASES) and \
            len(" ".join(_TAGS.sub(" ", text).split())) <= _WALL_MAX_TEXT:
        markers += _CHALLENGE_PHRASES
    found = next((marker for marker in markers if marker in lowered), None)
    return f"challenge page ({found!r})" if found else None


_TITLE = re.compile(r"<title[^>]*>([^<]*)", re.IGNORECASE)
# A title saying the page was not found, served as a success (a "soft 404"). Not "404" alone: a
# service may have it in its name.
_NOT_FOUND = re.compile(r"\b(page not found|not found|error 404|404 error|404 not found|"
                        r"page (does not|doesn't|no longer) exists?|cannot be found)\b", re.IGNORECASE)
# A wall's title, served as a success (the words alone, in a page's body, could be a policy's).
_WALL = re.compile(r"\b((?:h|re)?captcha|are you a robot|verify you are (a )?human|access denied|"
                   r"unusual traffic)\b", re.IGNORECASE)
# A path where a redirect ends when the page now needs signing in.
_SIGN_IN = re.compile(r"/(log[-_]?in|sign[-_]?in|servicelogin|sso|auth|authenticate|oauth2?/authorize)"
                      r"(/|$|\.|;)", re.IGNORECASE)


def error_page(requested: str, final: str | None, text: str) -> tuple[Outcome, str] | None:
    """(outcome, why) when a success response is not the page: one whose title says it was not found
    or is a bot wall's, or a redirect that ended on a sign-in page; None otherwise."""
    title = _TITLE.search(text, 0, _WALL_MAX_CHARS)
    if title and (found := _NOT_FOUND.search(title.group(1))):
        return "http-error", f"the page's title says it was not found ({found.group(1)!r})"
    if title and (found := _WALL.search(title.group(1))):
        return "blocked", f"the page's title is a bot wall's ({found.group(1)!r})"
    if final and final != requested and _SIGN_IN.search(urlsplit(final).path) \
            and not _SIGN_IN.search(urlsplit(requested).path):
        return "blocked", f"it redirected to a sign-in page ({final})"
    return None


def _result(request: FetchRequest, reply: _Reply, outcome: Outcome, reason: str) -> FetchResult:
    # A 304 may omit the validators; keep the previous ones so the next check still sends them.
    etag = reply.headers.get("ETag") or (request.etag if reply.status == 304 else None)
    last_modified = reply.headers.get("Last-Modified") or (
        request.last_modified if reply.status == 304 else None)
    # (a status HTTP does not define, such as 999, is said in the reason: the check log keeps HTTP's)
    status = reply.status if 100 <= reply.status <= 599 else None
    return FetchResult(request.url, reply.final_url, status, outcome, reason, etag, last_modified,
                       reply.headers.get("Content-Type"), reply.body, reply.text, reply.charset)


def _failed(request: FetchRequest, failure: _Failure, suffix: str = "") -> FetchResult:
    reason = failure.reason + suffix
    return FetchResult(request.url, failure.final_url, failure.status, "fetch-failed", reason)


def _status_line(status: int) -> str:
    return f"HTTP {status} {httpx.codes.get_reason_phrase(status)}".rstrip()


def _describe(exc: BaseException) -> str:
    """The most telling message in an exception's chain: httpx often wraps the OS error's message."""
    messages: list[str] = []
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
        messages.append(str(cause))
        cause = cause.__cause__ or cause.__context__
    return next((message for message in messages if message), type(exc).__name__)
