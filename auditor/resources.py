"""Where the packaged SQL and templates live, in a wheel and in a source checkout.

A wheel carries ``queries/`` and ``templates/`` inside the package
(``auditor/queries``); an editable install or a plain checkout has them at the
project's top level. Everything that needs them asks here.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _locate(folder: str) -> Path:
    for candidate in (_PACKAGE_DIR / folder, _PACKAGE_DIR.parent / folder):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"auditor's {folder}/ folder is missing from the installation")


def queries_dir() -> Path:
    return _locate("queries")


def templates_dir() -> Path:
    return _locate("templates")
