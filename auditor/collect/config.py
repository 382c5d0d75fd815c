"""The collector's configuration file (TOML): which instances, how often, and as whom.

Every value is checked when the file is loaded, so that a typo stops the
collector at once (exit 2) instead of failing one poll after another; each error
names the file and the line. tomllib gives no positions for values, so
``_Lines`` finds the line of a key by reading the file's table headers and keys.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from auditor.collect.secrets import Secret, SecretError, secret_from_env, secret_from_file
from auditor.durations import parse_duration
from auditor.errors import UsageError

#: Keys of [defaults] that every [[instances]] table may override.
SHARED_KEYS = (
    "every",
    "timeout",
    "client_id",
    "client_secret_env",
    "client_secret_file",
    "collector_user",
    "collector_application",
)
INSTANCE_ONLY_KEYS = ("name", "base_url")
DEFAULT_EVERY = "5m"
DEFAULT_TIMEOUT = "30s"
#: Keys a secret could be written under inline; refused wherever they appear.
INLINE_SECRET_KEYS = ("client_secret", "secret", "password", "access_token")
#: A name is a directory under --out: no separators, nothing hidden, nothing that does not print.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$")


class ConfigError(UsageError):
    """The configuration file is wrong; the message starts with FILE:LINE."""


@dataclass(frozen=True)
class InstanceConfig:
    """One instance to poll, with the [defaults] it did not override filled in."""

    name: str
    base_url: str
    every: timedelta
    timeout: timedelta
    client_id: str
    secret: Secret
    collector_user: str
    collector_application: str
    #: True when the instance's table (not [defaults]) sets ``every``: --every does not change it.
    own_every: bool = False


@dataclass(frozen=True)
class CollectConfig:
    path: Path
    instances: tuple[InstanceConfig, ...]

    def secrets(self) -> list[Secret]:
        return [i.secret for i in self.instances]


class _Lines:
    """Where each table and key of a TOML file is (1-based line numbers)."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r"^\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_-]+)\s*=")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.tables: dict[tuple[str, int], int] = {}
        self.keys: dict[tuple[str, int, str], int] = {}
        table, index, counts = "", 0, {}
        for number, line in enumerate(self.lines, start=1):
            header = self._HEADER.match(line)
            if header:
                table = header.group(2).strip("\"'")
                if header.group(1) == "[[":
                    index = counts.get(table, -1) + 1
                    counts[table] = index
                else:
                    index = 0
                self.tables.setdefault((table, index), number)
                continue
            key = self._KEY.match(line)
            if key:
                self.keys.setdefault((table, index, key.group(1).strip("\"'")), number)

    def of(self, table: str, index: int = 0, key: str | None = None) -> int:
        if key is not None and (table, index, key) in self.keys:
            return self.keys[(table, index, key)]
        return self.tables.get((table, index), 1)


def load_config(path: Path, environ: dict[str, str] | None = None) -> CollectConfig:
    """Read and check the configuration at PATH; ConfigError (exit 2) naming file and line otherwise.

    Secrets are read here, once: from the environment variable ``client_secret_env``
    names, or from ``client_secret_file``.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text") from None
    lines = _Lines(text)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else 1
        raw_line = lines.lines[line - 1] if 0 < line <= len(lines.lines) else ""
        # The raw text helps find a typo, unless the line may hold a secret.
        shown = "" if "secret" in raw_line.lower() or "token" in raw_line.lower() else f": {raw_line.strip()!r}"
        raise ConfigError(f"{path}:{line}: not valid TOML ({re.sub(r' [(]at line.*', '', str(exc))}){shown}") from None
    return _Checker(path, lines, environ).config(doc)


class _Checker:
    def __init__(self, path: Path, lines: _Lines, environ: dict[str, str] | None) -> None:
        self.path = path
        self.lines = lines
        self.environ = environ

    def fail(self, reason: str, table: str, index: int = 0, key: str | None = None) -> ConfigError:
        return ConfigError(f"{self.path}:{self.lines.of(table, index, key)}: {reason}")

    def config(self, doc: dict[str, Any]) -> CollectConfig:
        for key in doc:
            if key not in ("defaults", "instances"):
                raise self.fail(f"unknown key or table {key!r}; the file has [defaults] and [[instances]]", key, 0, key)
        defaults = doc.get("defaults", {})
        if not isinstance(defaults, dict):
            raise self.fail("'defaults' must be a table: [defaults]", "", 0, "defaults")
        self.check_keys(defaults, SHARED_KEYS, "defaults", 0)
        instances = doc.get("instances")
        if not instances:
            raise self.fail("no instances: add an [[instances]] table with a name for each instance to poll", "defaults")
        if not isinstance(instances, list) or not all(isinstance(t, dict) for t in instances):
            raise self.fail("'instances' must be tables: [[instances]]", "", 0, "instances")
        seen: dict[str, int] = {}
        result = []
        for index, table in enumerate(instances):
            self.check_keys(table, SHARED_KEYS + INSTANCE_ONLY_KEYS, "instances", index)
            inst = self.instance(defaults, table, index)
            key = inst.name.lower()
            if key in seen:
                raise self.fail(f"instance {inst.name!r} is named twice (also in instance {seen[key] + 1})", "instances", index, "name")
            seen[key] = index
            result.append(inst)
        return CollectConfig(self.path, tuple(result))

    def check_keys(self, table: dict[str, Any], allowed: tuple[str, ...], where: str, index: int) -> None:
        for key in table:
            if key in INLINE_SECRET_KEYS:
                raise self.fail(
                    f"a secret written in the configuration ({key}) is refused; put it in a file only its owner can "
                    "read (client_secret_file) or an environment variable (client_secret_env)",
                    where, index, key,
                )
            if key not in allowed:
                raise self.fail(f"unknown key {key!r} in [{where}]; known keys: {', '.join(allowed)}", where, index, key)

    def instance(self, defaults: dict[str, Any], table: dict[str, Any], index: int) -> InstanceConfig:
        def pick(key: str) -> tuple[Any, str, int]:
            if key in table:
                return table[key], "instances", index
            if key in defaults:
                return defaults[key], "defaults", 0
            return None, "instances", index

        name, _, _ = pick("name")
        if not isinstance(name, str) or not name.strip():
            raise self.fail("an instance needs a name (name = \"acme.my.erp.net\")", "instances", index, "name")
        if not _NAME.match(name) or ".." in name:
            raise self.fail(
                f"instance name {name!r} is not a host name (letters, digits, '.', '-', '_'; it names a directory)",
                "instances", index, "name",
            )
        base_url = table.get("base_url", f"https://{name}")
        if not isinstance(base_url, str) or not re.match(r"^https?://[^/\s]+(/\S*)?$", base_url):
            raise self.fail(f"base_url {base_url!r} is not an http(s) URL", "instances", index, "base_url")

        def text(key: str, default: str | None = None) -> str:
            value, where, at = pick(key)
            if value is None and default is not None:
                value = default
            if value is None:
                raise self.fail(f"{key} is missing (in [defaults] or the instance's table)", where, at)
            if not isinstance(value, str) or not value.strip():
                raise self.fail(f"{key} must be a non-empty string", where, at, key)
            return value

        def duration(key: str, default: str) -> timedelta:
            value, where, at = pick(key)
            try:
                parsed = parse_duration(default if value is None else value)
            except ValueError as exc:
                raise self.fail(f"{key}: {exc}", where, at, key) from None
            if parsed <= timedelta(0):
                raise self.fail(f"{key} must be longer than zero", where, at, key)
            return parsed

        every = duration("every", DEFAULT_EVERY)
        timeout = duration("timeout", DEFAULT_TIMEOUT)
        return InstanceConfig(
            name=name,
            base_url=base_url.rstrip("/"),
            every=every,
            timeout=timeout,
            client_id=text("client_id"),
            secret=self.secret(pick, index),
            collector_user=text("collector_user"),
            collector_application=text("collector_application"),
            own_every="every" in table,
        )

    def secret(self, pick: Any, index: int) -> Secret:
        env, env_where, env_at = pick("client_secret_env")
        file, file_where, file_at = pick("client_secret_file")
        if env is not None and file is not None and env_where == file_where:
            raise self.fail("give client_secret_env or client_secret_file, not both", file_where, file_at, "client_secret_file")
        # An instance's own key wins over [defaults].
        use_env = env is not None and (file is None or env_where == "instances")
        try:
            if use_env:
                if not isinstance(env, str) or not env.strip():
                    raise self.fail("client_secret_env must name an environment variable", env_where, env_at, "client_secret_env")
                return secret_from_env(env, self.environ)
            if file is None:
                raise self.fail(
                    "no client secret: set client_secret_env or client_secret_file (in [defaults] or the instance's table)",
                    "instances", index,
                )
            if not isinstance(file, str) or not file.strip():
                raise self.fail("client_secret_file must be a path", file_where, file_at, "client_secret_file")
            path = Path(os.path.expanduser(file))
            if not path.is_absolute():
                path = self.path.parent / path
            return secret_from_file(path)
        except SecretError as exc:
            where, at, key = (env_where, env_at, "client_secret_env") if use_env else (file_where, file_at, "client_secret_file")
            raise self.fail(str(exc), where, at, key) from None
