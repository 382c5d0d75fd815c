"""The trusted application's client secret: read once, never shown.

A ``Secret`` prints as ``***`` (repr, str, f-strings), so that no error message,
log line or snapshot line can carry it by accident; ``redact`` takes it out of
text that came from elsewhere (a server's error message, an exception) before
the collector writes that text anywhere.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class SecretError(ValueError):
    """The secret cannot be had, or is kept where others can read it (a one-line reason, without the secret)."""


class Secret:
    """A value that only ``reveal()`` gives back."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def redact(text: str, secrets: list[Secret]) -> str:
    """TEXT with every secret's value replaced by ``***``."""
    for secret in secrets:
        if secret.reveal():
            text = text.replace(secret.reveal(), "***")
    return text


def secret_from_env(name: str, environ: dict[str, str] | None = None) -> Secret:
    """The secret in environment variable NAME; SecretError when it is unset or empty."""
    value = (os.environ if environ is None else environ).get(name, "")
    if not value.strip():
        raise SecretError(f"environment variable {name} (client_secret_env) is not set or empty")
    return Secret(value.strip())


def secret_from_file(path: Path) -> Secret:
    """The secret in file PATH (surrounding white space dropped).

    Refused when the file's group or others have any access to it (as ssh does for
    private keys): a secret readable by others is no longer a secret.
    """
    try:
        st = path.stat()
    except OSError as exc:
        raise SecretError(f"client_secret_file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise SecretError(f"client_secret_file {path} is not a regular file")
    if st.st_mode & 0o077:
        raise SecretError(
            f"client_secret_file {path} is open to other users (mode {stat.S_IMODE(st.st_mode):04o}); "
            f"make it readable by its owner only: chmod 600 {path}"
        )
    try:
        value = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretError(f"client_secret_file {path} cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    if not value:
        raise SecretError(f"client_secret_file {path} is empty")
    return Secret(value)
