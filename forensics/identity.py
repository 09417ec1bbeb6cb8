"""An entry's identity when it has no insertId: a hash of its canonical form.

The same entry exported twice must get the same identity whatever the export did to it: keys
in another order, other white space, its timestamp written with `Z`, `+00:00`, another offset
or extra zero nanoseconds. So the hash covers the set of nodes of the parsed entry (JSON path,
type and value; combined order-free as two 64-bit XORs, then sha256), leaving out
``timestamp`` and ``receiveTimestamp``: the timestamp
is the identity's own third part, already normalized to UTC, and the receive time is the
logging system's, not the entry's.

Normalization (forensics.normalize) gives such an entry the placeholder ``PENDING``;
``fill_identities`` then replaces it in one SQL statement (DuckDB's json_tree, no Python per
entry) inside the same transaction, before duplicates are looked for.
"""

from __future__ import annotations

from typing import Any

import duckdb

__all__ = ["PENDING", "PENDING_SQL", "fill_identities"]

# Cannot come from an export by accident: it starts with a NUL character.
PENDING = "\x00identity-pending"
PENDING_SQL = "chr(0) || 'identity-pending'"
SLICE_ROWS = 8192


def fill_identities(
    conn: duckdb.DuckDBPyConnection, table: str, where: str = "TRUE", params: Any = None
) -> None:
    """Give the rows of ``table`` (matching ``where``) that wait for one their content hash.

    Done in slices of SLICE_ROWS rows: json_tree expands each entry into its nodes, and a whole
    chunk's nodes at once would not fit the buffer pool ingest runs with.
    """
    bounds = conn.execute(
        f"SELECT min(rowid), max(rowid) FROM {table} AS r "
        f"WHERE r.insert_id = {PENDING_SQL} AND ({where})",
        params,
    ).fetchone()
    if bounds is None or bounds[0] is None:
        return
    named = dict(params or {})
    for low in range(int(bounds[0]), int(bounds[1]) + 1, SLICE_ROWS):
        named |= {"_low": low, "_high": low + SLICE_ROWS}
        conn.execute(
            f"""
            UPDATE {table} AS e SET insert_id = h.id
            FROM (
                -- XOR of per-node hashes: independent of key order, and no sort or string the
                -- size of the entry per row (paths are unique, so no two nodes cancel out).
                SELECT r.rowid AS rid, 'sha256:' || sha256(
                        CAST(bit_xor(hash(j.fullkey, j.type, j.atom)) AS VARCHAR) || ':'
                        || CAST(bit_xor(hash(j.atom, j.fullkey, j.type, 'x')) AS VARCHAR)) AS id
                FROM {table} AS r, json_tree(r.raw) AS j
                WHERE r.rowid >= $_low AND r.rowid < $_high
                    AND r.insert_id = {PENDING_SQL} AND ({where})
                    AND j.fullkey NOT IN ('$.timestamp', '$.receiveTimestamp')
                GROUP BY r.rowid
            ) AS h
            WHERE e.rowid = h.rid
            """,
            named,
        )
