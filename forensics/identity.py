"""An entry's identity when it has no insertId: a hash of its canonical form.

The same entry exported twice must get the same identity whatever the export did to it: keys
in another order, other white space, its timestamp written with `Z`, `+00:00`, another offset
or extra zero nanoseconds. So the hash covers every node of the parsed entry (JSON path, type
and value), sorted by path, leaving out ``timestamp`` and ``receiveTimestamp``: the timestamp
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


def fill_identities(
    conn: duckdb.DuckDBPyConnection, table: str, where: str = "TRUE", params: Any = None
) -> None:
    """Give the rows of ``table`` (matching ``where``) that wait for one their content hash."""
    conn.execute(
        f"""
        UPDATE {table} AS e SET insert_id = h.id
        FROM (
            SELECT r.rowid AS rid, 'sha256:' || sha256(string_agg(
                    j.fullkey || chr(31) || j.type || chr(31)
                        || coalesce(CAST(j.atom AS VARCHAR), ''),
                    chr(30) ORDER BY j.fullkey)) AS id
            FROM {table} AS r, json_tree(r.raw) AS j
            WHERE r.insert_id = {PENDING_SQL} AND ({where})
                AND j.fullkey NOT IN ('$.timestamp', '$.receiveTimestamp')
            GROUP BY r.rowid
        ) AS h
        WHERE e.rowid = h.rid
        """,
        params,
    )
