#!/bin/sh
# Build the BigQuery emulator's own virtual environment for the BigQuery tests (tests/bqemu.py).
# bqemulator pins its own DuckDB (1.5.5), so it lives beside the project's .venv, never in it.
# Offline start: bqemulator runs `INSTALL spatial` at start; DuckDB finds the extension already
# installed when the file shipped by duckdb-extension-spatial sits in <HOME>/.duckdb/extensions,
# so it is copied into a PRIVATE home (VENV/home) that only the emulator process uses; the
# user's ~/.duckdb is never touched. Usage: sh scripts/setup-bq-emulator.sh [.venv-bq]
set -eu

VENV="${1:-.venv-bq}"
PYTHON="${PYTHON:-python3}"

test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet \
    "bqemulator==1.4.0" "duckdb-extension-spatial==1.5.5" "numpy>=2,<3"

# The extension directory DuckDB reads: <home>/.duckdb/extensions/<version>/<platform>/
"$VENV/bin/python" - "$VENV" <<'PY'
import shutil
import sys
from pathlib import Path

import duckdb
import duckdb_extension_spatial

venv = Path(sys.argv[1])
version = duckdb.execute("SELECT library_version FROM pragma_version()").fetchone()[0]
platform = duckdb.execute("PRAGMA platform").fetchone()[0]
shipped = list(Path(duckdb_extension_spatial.__file__).parent.glob(f"extensions/{version}/*.duckdb_extension"))
if not shipped:
    sys.exit(f"setup-bq-emulator: duckdb-extension-spatial ships no extension for DuckDB {version}")
target = venv / "home" / ".duckdb" / "extensions" / version / platform
target.mkdir(parents=True, exist_ok=True)
shutil.copy2(shipped[0], target / shipped[0].name)
print(f"setup-bq-emulator: spatial extension for DuckDB {version} ({platform}) in {target}")
PY
touch "$VENV/.installed-stamp"
