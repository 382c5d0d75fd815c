"""What an ingest run did, per file and in total: the figures the summary and ingest_log show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass
class FileResult:
    """One input file. ``read`` = ``accepted`` + ``duplicates`` + ``rejected`` always holds."""

    path: Path
    #: None for a file not read (``skipped``).
    sha256: str | None
    #: None only for a directory that was skipped.
    format: str | None
    compression: str | None
    bytes: int | None
    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    unknown_fields: list[str] = field(default_factory=list)
    #: With ``skip_known_files``: the content was ingested before, so the file was not read.
    skipped_known: bool = False
    #: Why a file found in a named directory could not be read (``dangling symbolic link``, …);
    #: None for a file read.
    skipped: str | None = None


@dataclass
class IngestResult:
    run_id: str
    started_at: datetime
    finished_at: datetime
    files: list[FileResult]
    #: Per instance, the first and last instant of the events and snapshot lines newly accepted in this run.
    new_spans: dict[str, tuple[datetime, datetime]]
    #: Files inside named directories that were not read (their names are not those of logs).
    ignored: list[Path] = field(default_factory=list)

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def accepted(self) -> int:
        return sum(f.accepted for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def unknown_fields(self) -> list[str]:
        """Every unknown field name seen in the run, each once."""
        return sorted({name for f in self.files for name in f.unknown_fields})
