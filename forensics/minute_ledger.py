"""The per-minute ledger: each ingest run's entries counted per minute, written once per run.

``MINUTE_LEDGER`` is a per-run derived table (forensics.derived): writers store a run's rows
when it is classified (forensics.pipeline.classify_pending), and ``minute_volume``
(forensics.store_macros) reads whole minutes of history from it, so a volume or traffic count
over days of history reads O(minutes x groups) ledger rows, not every entry; a run without
current rows (an older store, changed SQL, a run that grew) is counted from log_entries.
Cost of writing: one scan and hash aggregate of the new runs' entries.
"""

from __future__ import annotations

from forensics.derived import Derived
from forensics.store_macros import LEDGER_ROWS_SQL

__all__ = ["MINUTE_LEDGER"]

MINUTE_LEDGER = Derived("minute_ledger", LEDGER_ROWS_SQL)
