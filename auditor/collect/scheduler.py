"""When each instance is polled: once (for cron), or on wall-clock boundaries until told to stop.

Each instance has its own loop, so that one instance's failures and waits never
delay another's; the shared ``gate`` caps the requests in flight over all of them.
With an interval of 5 minutes the polls fall on 08:00, 08:05, … (boundaries of
the interval since the Unix epoch, in UTC): a poll that overruns its slot skips
the boundaries it missed instead of drifting. SIGTERM and SIGINT set ``stop``:
loops waiting for their next boundary end at once, a poll in flight finishes
(its retries cut short) and its line is written.
"""

from __future__ import annotations

import asyncio
import math
import random
import signal
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from auditor.collect.client import InstanceClient, utc_now
from auditor.collect.config import CollectConfig, InstanceConfig
from auditor.collect.poll import EntitySets, Watermark, poll_audit_log, poll_sessions
from auditor.collect.secrets import redact
from auditor.collect.writer import SnapshotWriter
from auditor.errors import AuditorError

DEFAULT_CONCURRENCY = 32
#: A poll gives up retrying this share of its interval before the next boundary, so that its line is
#: written before the next poll starts.
DEADLINE_SHARE = 0.9


@dataclass
class CollectStats:
    """What the collector did: polls and audit-log reads, ok and failed, and the files written to.

    Counters only (the failures go to ``log`` as they happen), so that a service's memory stays flat.
    """

    polls: int = 0
    failed: int = 0
    audit_reads: int = 0
    audit_failed: int = 0
    #: The files written to, by a --once run (a service would collect one per instance and day forever).
    files: set[Path] = field(default_factory=set)

    def summary(self) -> str:
        text = f"{self.polls} poll(s), {self.failed} failed"
        if self.audit_reads:
            text += f"; {self.audit_reads} audit-log read(s), {self.audit_failed} failed"
        return text


def next_boundary(now: float, every: float) -> float:
    """The first multiple of EVERY seconds since the epoch at or after NOW (a Unix time)."""
    return math.ceil(now / every - 1e-9) * every


class Collector:
    """Polls the instances of CONFIG into OUT; ``log`` receives one line per failure and repair."""

    def __init__(
        self,
        config: CollectConfig,
        out: Path,
        *,
        every: timedelta | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        log: Callable[[str], None] = lambda _: None,
    ) -> None:
        if concurrency < 1:
            raise AuditorError("--concurrency must be at least 1")
        self.config = config
        self.out = out
        self.every = every
        self.concurrency = concurrency
        self.log = log
        self.stats = CollectStats()
        self.writer = SnapshotWriter(out, log)
        self.stop = asyncio.Event()
        self.once = False

    def interval(self, inst: InstanceConfig) -> float:
        """The instance's own ``every``, else --every, else [defaults].every (seconds)."""
        if self.every is not None and not inst.own_every:
            return self.every.total_seconds()
        return inst.every.total_seconds()

    async def run(self, once: bool) -> CollectStats:
        self.once = once
        check_writable(self.out)
        for inst in self.config.instances:
            await asyncio.to_thread(self.writer.repair_latest, inst.name)
        gate = asyncio.Semaphore(self.concurrency)
        # One TLS context for all: building one per instance costs milliseconds and memory each.
        tls = ssl.create_default_context()
        loop = asyncio.get_running_loop()
        installed = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, self.stop.set)
                installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread (a test driving the loop itself): stop via ``self.stop``
        try:
            async with asyncio.TaskGroup() as group:
                for inst in self.config.instances:
                    group.create_task(self._instance(inst, gate, tls, once))
        except BaseExceptionGroup as group_error:
            # One instance's task failed the collector (a write refused): the others were cancelled.
            # Raise that failure itself, so the CLI reports it as one line.
            first = group_error.exceptions[0]
            while isinstance(first, BaseExceptionGroup):
                first = first.exceptions[0]
            raise first from None
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)
        return self.stats

    async def _instance(self, inst: InstanceConfig, gate: asyncio.Semaphore, tls: ssl.SSLContext, once: bool) -> None:
        # A connection pool of its own, of one connection: one request at a time to the instance, and
        # no pool scanned per request over the connections to every other instance.
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(limits=limits, verify=tls, follow_redirects=False, trust_env=False) as http:
            await self._loop(InstanceClient(inst, http, gate, self.stop, random.Random()), once)

    async def _loop(self, client: InstanceClient, once: bool) -> None:
        every = self.interval(client.instance)
        sets = EntitySets()
        folder = self.writer.instance_dir(client.instance.name)
        mark = await asyncio.to_thread(Watermark.load, folder, utc_now().date())
        if once:
            await self._poll(client, sets, mark, time.monotonic() + every * DEADLINE_SHARE)
            return
        while not self.stop.is_set():
            boundary = next_boundary(time.time(), every)
            if await self._sleep_until(boundary):
                return
            deadline = time.monotonic() + (boundary + every * DEADLINE_SHARE - time.time())
            mark = await self._poll(client, sets, mark, deadline)

    async def _sleep_until(self, wall: float) -> bool:
        """Wait until Unix time WALL; True when told to stop first."""
        while (delay := wall - time.time()) > 0:
            try:
                await asyncio.wait_for(self.stop.wait(), delay)
                return True
            except TimeoutError:
                continue  # the clock may have been set back: look again
        return self.stop.is_set()

    async def _poll(self, client: InstanceClient, sets: EntitySets, mark: Watermark, deadline: float) -> Watermark:
        name = client.instance.name
        polled_at, line = await poll_sessions(client, sets, deadline)
        self._record(name, polled_at, line, audit=False)
        await self._write(name, polled_at, line)
        # The audit log is read after a successful poll only: a failing instance gets one error line per slot.
        if "rows" in line and mark.due(utc_now()) and not self.stop.is_set():
            polled_at, line, mark_after = await poll_audit_log(client, sets, mark, deadline)
            self._record(name, polled_at, line, audit=True)
            await self._write(name, polled_at, line)
            if mark_after is not mark:
                # Only after the line is on disk: a crash in between reads the rows again (ingest dedupes them).
                await asyncio.to_thread(mark_after.save, self.writer.instance_dir(name))
                mark = mark_after
        return mark

    async def _write(self, name: str, polled_at: datetime, line: dict) -> None:
        try:
            path = await asyncio.to_thread(self.writer.write, name, polled_at, line)
        except OSError as exc:
            raise AuditorError(f"cannot write the snapshot of {name} under {self.out}: {exc.strerror or exc}") from None
        if self.once:
            self.stats.files.add(path)

    def _record(self, name: str, polled_at: datetime, line: dict, *, audit: bool) -> None:
        if audit:
            self.stats.audit_reads += 1
        else:
            self.stats.polls += 1
        if "error" in line:
            if audit:
                self.stats.audit_failed += 1
            else:
                self.stats.failed += 1
            what = "audit log" if audit else "sessions"
            message = redact(f"{name} {line['polled_at']} {what}: {line['error']}", self.config.secrets())
            self.log(message)


def check_writable(out: Path) -> None:
    """Create OUT if needed and make sure this process can write there; AuditorError (exit 1) otherwise."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".auditor-collect-probe-{id(out)}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise AuditorError(f"cannot write snapshot files under {out}: {exc.strerror or exc}") from None


def collect(
    config: CollectConfig,
    out: Path,
    *,
    once: bool,
    every: timedelta | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    log: Callable[[str], None] = lambda _: None,
) -> CollectStats:
    """Poll CONFIG's instances into OUT: one round (ONCE), or on their intervals until SIGTERM or SIGINT."""
    collector = Collector(config, out, every=every, concurrency=concurrency, log=log)
    return asyncio.run(collector.run(once))
