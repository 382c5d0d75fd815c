"""A progress bar on stderr while files are read: bytes of the input, named by file."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn


class ReadProgress:
    """Shows progress only when enabled (the CLI enables it when stderr is a terminal)."""

    def __init__(self, enabled: bool, total_bytes: int) -> None:
        self._progress: Progress | None = None
        if enabled:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._task = self._progress.add_task("ingest", total=total_bytes)

    def __enter__(self) -> ReadProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()

    def file(self, name: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=name)

    def advance(self, n: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def phase(self, text: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=text)
