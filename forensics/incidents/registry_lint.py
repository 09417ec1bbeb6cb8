"""Check the issue registry against the signature catalog (run by `forensics patterns lint`).

The registry (patterns/issues.yaml) is the one place that says which signatures, symptoms and
metric signals belong to which tracked issue; signature files hold none. So every id it names
must exist: a signature or symptom id with no pattern file, or a signal the collectors never
emit, would silently count nothing.
"""

from __future__ import annotations

from pathlib import Path

from forensics.config import Thresholds
from forensics.errors import ConfigError
from forensics.incidents.registry import REGISTRY_FILE, load_registry
from forensics.paths import patterns_dir
from forensics.signatures.catalog import CatalogScan

__all__ = ["emitted_signals", "registry_file_for", "registry_problems"]


def emitted_signals() -> set[str]:
    """The metric signal names the collectors write into the signals table."""
    from forensics.collectors.signals import threshold_signals

    return {s.signal for s in threshold_signals(Thresholds())}


def registry_file_for(directory: Path) -> Path:
    """The registry for a patterns directory: its own issues.yaml, else the shipped one."""
    own = directory / REGISTRY_FILE
    return own if own.is_file() else patterns_dir() / REGISTRY_FILE


def registry_problems(scan: CatalogScan, user_file: Path | None = None) -> None:
    """Add a problem to ``scan`` for each registry entry the catalog cannot back."""
    base = registry_file_for(scan.directory)
    try:
        registry = load_registry(user_file, base_file=base, check_signatures=False)
    except ConfigError as err:
        scan.add(base, "(registry)", str(err))
        return
    known = {s.id: s for s in scan.signatures}
    signals = emitted_signals()
    where = registry.files[-1] if user_file else str(base)
    for issue in registry.issues:
        for key, ids in (("signatures", issue.signatures), ("symptoms", issue.symptoms)):
            for sig_id in ids:
                sig = known.get(sig_id)
                if sig is None:
                    scan.add(where, f"issues[{issue.id}].{key}", f"no signature {sig_id!r}")
                elif sig.status == "deprecated":
                    scan.add(
                        where,
                        f"issues[{issue.id}].{key}",
                        f"{sig_id!r} is deprecated: it no longer classifies anything",
                        fatal=False,
                    )
        for signal in issue.signals:
            if signal not in signals:
                scan.add(
                    where,
                    f"issues[{issue.id}].signals",
                    f"no collector emits {signal!r} (known: {', '.join(sorted(signals))})",
                )
