"""Requests to one instance's Domain API: token, retries, backoff, and what a failure says.

httpx does the HTTP. This module adds what ERP.net asks of a client
(``erpnet-native-sources.md``): a client-credentials token cached until shortly
before it expires and renewed once after a 401; 429 and 503 answered by waiting
(``Retry-After``, or exponential backoff with jitter) but never past the poll's
deadline, so that the next poll goes ahead on schedule; at most ``gate``
requests in flight over all instances. Every failure becomes ``PollFailed``
with one line of text, from which the secret has been taken out.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import httpx

from auditor.collect.config import InstanceConfig
from auditor.collect.secrets import redact

#: The first backoff step (seconds) when a 429 or 503 names no Retry-After; it doubles on each retry.
BACKOFF_BASE = 1.0
#: The longest single backoff step (seconds).
BACKOFF_CAP = 60.0
#: A token is renewed this share of its lifetime before it expires (at most TOKEN_MARGIN_MAX seconds).
TOKEN_MARGIN_SHARE = 0.1
TOKEN_MARGIN_MAX = 60.0
#: At most this much of a server's error message goes into an error line.
MAX_MESSAGE = 300


class PollFailed(Exception):
    """A request failed for good; ``str()`` is the error line's text, ``status`` the HTTP status if there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class _Token:
    value: str
    renew_at: float  # time.monotonic()


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class InstanceClient:
    """One instance's requests, one at a time (the caller awaits each before the next)."""

    def __init__(
        self,
        instance: InstanceConfig,
        http: httpx.AsyncClient,
        gate: asyncio.Semaphore,
        stop: asyncio.Event,
        rng: random.Random | None = None,
    ) -> None:
        self.instance = instance
        self.http = http
        self.gate = gate
        self.stop = stop
        self.rng = rng or random.Random()
        self._token: _Token | None = None
        #: When the first request of the current poll was sent (set by ``send``; the poller resets it).
        self.first_sent_at: datetime | None = None

    def url(self, path: str) -> str:
        return f"{self.instance.base_url}{path}"

    async def get_json(self, url: str, params: dict[str, str] | None, deadline: float) -> tuple[dict[str, Any], datetime]:
        """GET URL as the trusted application; the JSON object and when the request that got it was sent.

        DEADLINE (``time.monotonic()``) bounds the waits between retries.
        """
        renewed = False
        attempt = 0
        while True:
            token = await self._bearer(deadline)
            sent_at, response = await self._send("GET", url, deadline, params=params, headers={"Authorization": f"Bearer {token}"})
            if response.status_code == 401 and not renewed:
                # The token expired early or was revoked: one new token, one more try.
                self._token = None
                renewed = True
                continue
            if response.status_code in (429, 503):
                await self._wait_to_retry(response, attempt, deadline)
                attempt += 1
                continue
            if response.status_code >= 400:
                raise PollFailed(self._describe(response), response.status_code)
            try:
                body = response.json()
            except ValueError:
                raise PollFailed(f"HTTP {response.status_code}: the answer is not JSON", response.status_code) from None
            if not isinstance(body, dict):
                raise PollFailed(f"HTTP {response.status_code}: the answer is not a JSON object", response.status_code)
            return body, sent_at

    async def _bearer(self, deadline: float) -> str:
        if self._token is not None and time.monotonic() < self._token.renew_at:
            return self._token.value
        self._token = None
        attempt = 0
        form = {
            "grant_type": "client_credentials",
            "client_id": self.instance.client_id,
            "client_secret": self.instance.secret.reveal(),
            "scope": "read",
        }
        while True:
            _, response = await self._send("POST", self.url("/id/connect/token"), deadline, data=form)
            if response.status_code in (429, 503):
                await self._wait_to_retry(response, attempt, deadline)
                attempt += 1
                continue
            if response.status_code >= 400:
                raise PollFailed(f"token request refused: {self._describe(response)}", response.status_code)
            try:
                body = response.json()
                value = body["access_token"]
                lifetime = float(body.get("expires_in", 3600))
            except (ValueError, KeyError, TypeError):
                raise PollFailed("token request: the answer has no access_token", response.status_code) from None
            if not isinstance(value, str) or not value:
                raise PollFailed("token request: the answer has no access_token", response.status_code)
            margin = min(TOKEN_MARGIN_MAX, lifetime * TOKEN_MARGIN_SHARE)
            self._token = _Token(value, time.monotonic() + lifetime - margin)
            return value

    async def _send(self, method: str, url: str, deadline: float, **kwargs: Any) -> tuple[datetime, httpx.Response]:
        timeout = self.instance.timeout.total_seconds()
        async with self.gate:
            sent_at = utc_now()
            if self.first_sent_at is None:
                self.first_sent_at = sent_at
            try:
                response = await self.http.request(method, url, timeout=timeout, **kwargs)
            except httpx.TimeoutException:
                raise PollFailed(f"timeout: no answer within {timeout:g} s ({method} {_path(url)})") from None
            except httpx.HTTPError as exc:
                # Connection refused, name not resolved, TLS handshake failed, connection dropped …
                reason = " ".join(str(exc).split()) or type(exc).__name__
                raise PollFailed(self._clean(f"connection failed: {type(exc).__name__}: {reason} ({method} {_path(url)})")) from None
        return sent_at, response

    async def _wait_to_retry(self, response: httpx.Response, attempt: int, deadline: float) -> None:
        """Wait as a 429 or 503 asks, or raise PollFailed when that would pass DEADLINE or the collector stops."""
        wait = retry_after(response.headers.get("Retry-After"))
        if wait is not None:
            # Honour it, and spread the instances that were told the same.
            wait += self.rng.uniform(0, min(1.0, wait * 0.1))
        else:
            step = min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)
            wait = step / 2 + self.rng.uniform(0, step / 2)
        if time.monotonic() + wait > deadline:
            raise PollFailed(f"{self._describe(response)} (no retry left within the polling interval)", response.status_code)
        try:
            await asyncio.wait_for(self.stop.wait(), wait)
        except TimeoutError:
            return
        raise PollFailed(f"{self._describe(response)} (the collector stopped before the retry)", response.status_code)

    def _describe(self, response: httpx.Response) -> str:
        """``HTTP 500 Internal Server Error``, with the JSON body's code and message when there is one."""
        text = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
        detail = ""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict):  # OData's {"error": {"code", "message"}}
                body = error
            code = body.get("code") or (error if isinstance(error, str) else None)
            message = body.get("message") or body.get("error_description")
            detail = ": ".join(" ".join(str(part).split()) for part in (code, message) if part)
        if detail:
            text = f"{text}: {detail[:MAX_MESSAGE]}"
        return self._clean(text)

    def _clean(self, text: str) -> str:
        return redact(text, [self.instance.secret])


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - utc_now()).total_seconds())


def _path(url: str) -> str:
    """URL without its query: enough to say which request, and short."""
    return str(httpx.URL(url).copy_with(query=None))
