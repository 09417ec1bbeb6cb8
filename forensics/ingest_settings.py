"""The DuckDB settings an ingest runs under, and putting them back after it.

Ingest writes much and reads little: its buffer pool is capped (peak RSS under 1 GB for any
file), the checkpoint waits for the end, row order is not kept and a compression that never
wins on log text is not tried. ``bounded_memory`` sets all of that for one ingest and restores
the connection's own settings afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa

from forensics.store import Store

__all__ = ["INGEST_MEMORY_LIMIT", "bounded_memory"]

# DuckDB's buffer pool during ingest. A chunk's rows wait in it, uncompressed, until their row
# group is written: below a chunk's size (about 300 MB for 245,760 typical entries) they are
# spilled and read back (a tenth of the load's CPU at 192 MB). Peak RSS stays under 1 GB.
INGEST_MEMORY_LIMIT = "512MB"
# Outside this limit, RSS also holds freed memory: glibc's heap (its dynamic mmap threshold
# rises after the first freed 4 MiB read chunk, and the heap then keeps later chunks' pages:
# ~230 MB at the peak of a real-shaped 1M-entry load) and jemalloc's dirty pages inside DuckDB
# (~50-140 MB, freed about a second later). Fixing glibc's threshold at 1 MiB (mallopt) saved
# the first for +1.4 s of system CPU per 1M entries (a fresh mapping per chunk); not done,
# since the plain and demo corpora peak well under 1 GB without it.


@contextmanager
def bounded_memory(store: Store) -> Iterator[None]:
    """Cap DuckDB's buffer pool while ingesting so a huge file cannot grow RSS without bound."""
    previous = store.scalar("SELECT current_setting('memory_limit')")
    order = store.scalar("SELECT current_setting('preserve_insertion_order')")
    threshold = store.scalar("SELECT current_setting('checkpoint_threshold')")
    disabled = store.scalar("SELECT current_setting('disabled_compression_methods')")
    store.conn.execute(f"SET memory_limit = '{INGEST_MEMORY_LIMIT}'")
    # One checkpoint at the end instead of one after every batch: a checkpoint rewrites the
    # table's last, partly filled row group, so checkpointing per batch rewrites data again
    # and again. Committed batches are safe in the WAL meanwhile.
    store.conn.execute("SET checkpoint_threshold = '16GB'")
    # Queries order by timestamp; letting DuckDB drop row order saves buffering on insert (a
    # quarter of the wall time on two threads). Only dedupe's tie-break within one run reads
    # it (forensics.dedupe.delete_repeats says which copy stays).
    store.conn.execute("SET preserve_insertion_order = false")
    # Dictionary+FSST is never the pick for log text, but trying it costs time on every column.
    store.conn.execute("SET disabled_compression_methods = 'dict_fsst'")
    try:
        yield
    finally:
        # What Arrow's allocator kept for reuse goes back, before the classification after an
        # ingest adds its own peak.
        pa.default_memory_pool().release_unused()
        store.conn.execute(f"SET checkpoint_threshold = '{threshold}'")
        store.conn.execute("CHECKPOINT")
        store.conn.execute(f"SET memory_limit = '{previous}'")
        store.conn.execute(f"SET preserve_insertion_order = {order}")
        store.conn.execute(f"SET disabled_compression_methods = '{disabled}'")
