"""Lay an NDJSON export out as a log sink to Cloud Storage writes it: a file per log and hour.

A sink writes ``LOG_ID/YYYY/MM/DD/HH:00:00_HH:59:59_S0.json`` (the log id URL-decoded, so
``run.googleapis.com/stderr`` is two directories), each file NDJSON of that hour's entries. The
end-to-end benchmark's ``--layout sink`` times ingest on such a day: many small files, each a
few thousand entries, where a single-file corpus hides the cost of a commit per file.

    python benchmarks/sink_layout.py corpus.jsonl OUT_DIR   # prints the number of files
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO
from urllib.parse import unquote

__all__ = ["write_sink_layout"]


def write_sink_layout(corpus: Path, out: Path) -> list[Path]:
    """Write ``corpus``'s entries into ``out`` as a sink lays them out; the files, sorted."""
    files: dict[Path, TextIO] = {}
    try:
        with corpus.open(encoding="utf-8") as lines:
            for line in lines:
                if not line.strip():
                    continue
                entry = json.loads(line)
                log_id = unquote(entry["logName"].split("/logs/", 1)[1])
                stamp = entry["timestamp"]
                hour = stamp[11:13]
                name = out / log_id / stamp[:10].replace("-", "/")
                path = name / f"{hour}:00:00_{hour}:59:59_S0.json"
                handle = files.get(path)
                if handle is None:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    handle = files[path] = path.open("w", encoding="utf-8")
                handle.write(line if line.endswith("\n") else line + "\n")
    finally:
        for handle in files.values():
            handle.close()
    return sorted(files)


if __name__ == "__main__":
    print(len(write_sink_layout(Path(sys.argv[1]), Path(sys.argv[2]))))
