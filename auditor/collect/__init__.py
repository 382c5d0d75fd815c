"""``auditor collect``: poll ERP.net instances through the Domain API into snapshot files.

config (TOML, secrets) → scheduler (once / every, signals) → poll (pages, old names,
audit log with its watermark) → client (token, retries, backoff over httpx) → writer
(one fsynced line per poll in DIR/INSTANCE/YYYY-MM-DD.jsonl).
"""

from __future__ import annotations

from auditor.collect.config import CollectConfig, ConfigError, InstanceConfig, load_config
from auditor.collect.scheduler import DEFAULT_CONCURRENCY, CollectStats, Collector, collect

__all__ = [
    "DEFAULT_CONCURRENCY",
    "CollectConfig",
    "CollectStats",
    "Collector",
    "ConfigError",
    "InstanceConfig",
    "collect",
    "load_config",
]
