"""Entitlements: which plan and how many extra sessions each instance has, and when.

The compliance team keeps them as a CSV with the columns ``instance, customer,
plan, extra_sessions, valid_from, valid_to, timezone, account_manager``.
``valid_from`` (inclusive) and ``valid_to`` (exclusive, empty = open-ended) are
dates meaning local midnight in the row's ``timezone`` (IANA; empty = UTC).
The seat limit is the plan's base sessions + ``extra_sessions``.

A file with a header and no rows is refused unless the caller allows it
(``allow_empty``): it would silently make every instance unlicensed.

Once loaded they are stored in the warehouse (table ``entitlements``) with the
limit and the UTC instants resolved, so that later audits reuse them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa

from auditor import timezones
from auditor.errors import UsageError
from auditor.limits import MAX_PLAN_SESSIONS, check_date
from auditor.plans import PlanCatalogue
from auditor.tables import ENTITLEMENTS

COLUMNS = ("instance", "customer", "plan", "extra_sessions", "valid_from", "valid_to", "timezone", "account_manager")
#: What a caller passes to accept a file without rows (the CLI's flag has the same name).
ALLOW_EMPTY_FLAG = "--allow-empty-entitlements"
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


class EntitlementsFileError(UsageError):
    """The entitlements cannot be used; the message names file, line and fix."""


@dataclass(frozen=True)
class Entitlement:
    instance: str
    customer: str | None
    plan: str
    extra_sessions: int
    valid_from: date
    valid_to: date | None
    timezone: str
    account_manager: str | None
    line: int
    seat_limit: int = 0
    plan_maximum: int = 0

    @property
    def valid_from_ts(self) -> datetime:
        return timezones.local_midnight(self.valid_from, self.timezone)

    @property
    def valid_to_ts(self) -> datetime | None:
        return None if self.valid_to is None else timezones.local_midnight(self.valid_to, self.timezone)


def load_entitlements(
    path: Path, plans: PlanCatalogue, *, allow_empty: bool = False
) -> tuple[list[Entitlement], str]:
    """Read and check the CSV at PATH; returns the rows and the file's sha256.

    A file without rows is an error unless ALLOW_EMPTY.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise EntitlementsFileError(f"cannot read the entitlements file {path}: {exc.strerror or exc}") from None
    return parse_entitlements(raw, str(path), plans, allow_empty=allow_empty), hashlib.sha256(raw).hexdigest()


def parse_entitlements(
    raw: bytes, source: str, plans: PlanCatalogue, *, allow_empty: bool = False
) -> list[Entitlement]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise EntitlementsFileError(f"{source}: the entitlements file is not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise EntitlementsFileError(f"{source}: the file is empty; its first line must be: {','.join(COLUMNS)}") from None
    names = [h.strip().lower() for h in header]
    twice = next((n for i, n in enumerate(names) if n and n in names[:i]), None)
    if twice is not None:
        raise EntitlementsFileError(f"{source}:1: column {twice!r} appears twice; name each column once")
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise EntitlementsFileError(
            f"{source}:1: the header lacks column(s) {', '.join(missing)}; it must name: {','.join(COLUMNS)}"
        )
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        raise EntitlementsFileError(f"{source}:1: unknown column {unknown[0]!r}; the columns are: {','.join(COLUMNS)}")
    index = {name: names.index(name) for name in COLUMNS}
    rows: list[Entitlement] = []
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(names):
                raise EntitlementsFileError(
                    f"{source}:{line}: {len(record)} fields where the header has {len(names)}; quote values that contain commas"
                )
            cells = {name: record[i].strip() for name, i in index.items()}
            rows.append(_parse_row(cells, f"{source}:{line}", line))
    except csv.Error as exc:
        raise EntitlementsFileError(f"{source}:{reader.line_num}: malformed CSV ({exc})") from None
    if not rows and not allow_empty:
        raise EntitlementsFileError(
            f"{source}: no entitlement rows; add the instances' rows, or pass "
            f"{ALLOW_EMPTY_FLAG} to audit every instance as unlicensed"
        )
    return resolve(rows, plans, source)


def _parse_row(cells: dict[str, str], where: str, line: int) -> Entitlement:
    instance = cells["instance"].lower()
    if not instance:
        raise EntitlementsFileError(f"{where}: instance is empty; name the instance's host, e.g. acme.my.erp.net")
    if not cells["plan"]:
        raise EntitlementsFileError(f"{where}: plan is empty; name a plan of the catalogue")
    extra_text = cells["extra_sessions"] or "0"
    # Plain digits only: int() would also take "1_000" and digits of other scripts.
    if not _WHOLE_NUMBER.fullmatch(extra_text):
        raise EntitlementsFileError(f"{where}: extra_sessions {extra_text!r} is not a whole number")
    extra = int(extra_text)
    if extra < 0:
        raise EntitlementsFileError(f"{where}: extra_sessions {extra} is negative; use 0 or more")
    if extra > MAX_PLAN_SESSIONS:
        raise EntitlementsFileError(
            f"{where}: extra_sessions {extra} is above {MAX_PLAN_SESSIONS:,}, the most any seat limit may be"
        )
    valid_from = _date(cells["valid_from"], "valid_from", where, required=True)
    valid_to = _date(cells["valid_to"], "valid_to", where, required=False)
    if valid_from is None:  # pragma: no cover - _date raised
        raise AssertionError
    if valid_to is not None and valid_to <= valid_from:
        raise EntitlementsFileError(f"{where}: valid_to {valid_to} is not after valid_from {valid_from}")
    tz = cells["timezone"] or "UTC"
    if not timezones.is_known(tz):
        raise EntitlementsFileError(
            f"{where}: unknown time zone {tz!r}; use an IANA name such as Europe/Sofia, or leave it empty for UTC"
        ) from None
    return Entitlement(
        instance=instance,
        customer=cells["customer"] or None,
        plan=cells["plan"],
        extra_sessions=extra,
        valid_from=valid_from,
        valid_to=valid_to,
        timezone=tz,
        account_manager=cells["account_manager"] or None,
        line=line,
    )


def _date(text: str, column: str, where: str, *, required: bool) -> date | None:
    if not text:
        if required:
            raise EntitlementsFileError(f"{where}: {column} is empty; give a date as YYYY-MM-DD")
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise EntitlementsFileError(f"{where}: {column} {text!r} is not a date; write it as YYYY-MM-DD") from None
    try:
        return check_date(value, f"{where}: {column}")
    except UsageError as exc:
        raise EntitlementsFileError(str(exc)) from None


def resolve(rows: list[Entitlement], plans: PlanCatalogue, source: str) -> list[Entitlement]:
    """Give each row its seat limit from PLANS; check plans, maxima and overlaps."""
    out: list[Entitlement] = []
    for row in rows:
        where = f"{source}:{row.line}"
        plan = plans.get(row.plan)
        if plan is None:
            known = ", ".join(sorted(plans.plans))
            raise EntitlementsFileError(
                f"{where}: unknown plan {row.plan!r}; known plans ({plans.source}): {known}"
            )
        limit = plan.base_sessions + row.extra_sessions
        if limit > plan.max_sessions:
            raise EntitlementsFileError(
                f"{where}: seat limit {limit} ({plan.base_sessions} base + {row.extra_sessions} extra) is above "
                f"the maximum {plan.max_sessions} of plan {row.plan!r}; lower extra_sessions or choose another plan"
            )
        out.append(replace(row, seat_limit=limit, plan_maximum=plan.max_sessions))
    by_instance: dict[str, list[Entitlement]] = defaultdict(list)
    for row in out:
        by_instance[row.instance].append(row)
    for group in by_instance.values():
        group.sort(key=lambda r: (r.valid_from_ts, r.line))
        for earlier, later in zip(group, group[1:]):
            if earlier.valid_to_ts is None or later.valid_from_ts < earlier.valid_to_ts:
                raise EntitlementsFileError(
                    f"{source}:{later.line}: this row of {later.instance} overlaps the one on line {earlier.line}; "
                    "a row's valid_to must be on or before the next row's valid_from"
                )
    return sorted(out, key=lambda r: (r.instance, r.valid_from_ts))


def to_arrow(rows: list[Entitlement]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "instance": r.instance,
                "customer": r.customer,
                "plan": r.plan,
                "extra_sessions": r.extra_sessions,
                "seat_limit": r.seat_limit,
                "plan_maximum": r.plan_maximum,
                "valid_from": r.valid_from,
                "valid_to": r.valid_to,
                "timezone": r.timezone,
                "account_manager": r.account_manager,
                "valid_from_ts": r.valid_from_ts,
                "valid_to_ts": r.valid_to_ts,
                "source_line": r.line,
            }
            for r in rows
        ],
        schema=ENTITLEMENTS.schema,
    )


def from_arrow(table: pa.Table) -> list[Entitlement]:
    """Rows stored in the warehouse, back as Entitlements (to resolve against other plans)."""
    return [
        Entitlement(
            instance=r["instance"],
            customer=r["customer"],
            plan=r["plan"],
            extra_sessions=r["extra_sessions"],
            valid_from=r["valid_from"],
            valid_to=r["valid_to"],
            timezone=r["timezone"],
            account_manager=r["account_manager"],
            line=r["source_line"] or 0,
            seat_limit=r["seat_limit"],
            plan_maximum=r["plan_maximum"],
        )
        for r in table.to_pylist()
    ]
