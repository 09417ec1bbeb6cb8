"""Load LogEntry JSON into the store in Arrow batches: normalize, dedupe, commit atomically.

Usage:
  1. ``ingest_files(store, paths)`` for export files, or ``ingest_texts(store, texts, source)``
     for entries already in memory (the API collectors use this with each page).
  2. A clean NDJSON file or JSON array is loaded whole, in one statement and one transaction,
     by DuckDB's own readers (forensics.fastload); consecutive small NDJSON files (a log sink's
     file per log and hour) together, still one run each. Any other file, and one they refuse, goes
     through batches: each chunk of ``batch_size`` entries streams (as small Arrow record
     batches, so memory stays bounded) through ONE normalizing INSERT (forensics.normalize)
     in one transaction. An interrupted ingest leaves only whole files and complete chunks,
     never half a row.
  3. Identity is the API's own, (log_name, insert_id, timestamp): re-ingesting a file or an
     overlapping export adds zero rows. Entries without an insertId get a content hash.
  4. Malformed entries are reported with their file and line; every valid entry is kept.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from pathlib import Path

import duckdb

from forensics.dedupe import settle_insert
from forensics.errors import InputError
from forensics.fastload import fast_path_applies, load_files_as_runs, load_whole_file
from forensics.feed import Feed, normalized_batch
from forensics.ingest_result import IngestResult, Rejection
from forensics.ingest_runs import count_rejected, finish_run, start_run
from forensics.ingest_settings import bounded_memory
from forensics.normalize import normalize_sql
from forensics.readers import LineBatch, RawBatch, detect_format, read_batches
from forensics.schema import column_names
from forensics.store import Store, run_finished, transaction

__all__ = [
    "BATCH_SIZE",
    "IngestResult",
    "Rejection",
    "ingest_files",
    "ingest_texts",
    "normalized_batch",
]

# Entries per transaction, all in one INSERT statement. A statement that appends full DuckDB
# row groups (122,880 rows) has them written straight to the database file; smaller appends go
# to the WAL and are written a second time at the checkpoint. Memory does not grow with it: the
# chunk streams through in READ_BATCH pieces (benchmarks/bench_ingest.py measures both).
BATCH_SIZE = 2 * 122_880
# Lines (array elements) per batch streamed into that statement.
READ_BATCH = 8_192
# Clean NDJSON files under GROUP_FILE_BYTES are loaded together, up to GROUP_BYTES a statement:
# a log sink writes a file per log and hour, and each small file's own commit went through the
# WAL and was written again at the checkpoint (`bench_e2e.py --layout sink`, a 1M-entry day in
# 103 files: 21.6 CPU s file by file, 13.6 together). A bigger file fills row groups by itself.
GROUP_FILE_BYTES = 64 * 2**20
GROUP_BYTES = 512 * 2**20

_STORED = [c for c in column_names("log_entries") if c not in ("source", "ingest_id")]


# Runs inside a chunk's transaction just before COMMIT (see ingest_texts).
BeforeCommit = Callable[[duckdb.DuckDBPyConnection], None]


def _load_chunk(
    store: Store,
    feed: Feed,
    source: str,
    ingest_id: int,
    minify: bool,
    before_commit: BeforeCommit | None = None,
    strict: bool = False,
) -> IngestResult:
    """Normalize and insert one chunk in a single transaction; count its outcome.

    The chunk streams through ONE INSERT statement, so DuckDB writes its full row groups
    straight to the database file instead of to the WAL first and the file again at the
    checkpoint (the main cost of a load). Entries the store already holds are deleted again
    in the same transaction. Problems are only looked for when the counts do not add up.
    """
    conn = store.conn
    cols = ", ".join(f'"{c}"' for c in _STORED)
    with transaction(conn):
        before = conn.execute("SELECT coalesce(max(rowid), -1) FROM log_entries").fetchone()
        conn.register("batch", feed.reader())
        try:
            row = conn.execute(
                f"INSERT INTO log_entries ({cols}, source, ingest_id) "
                f"SELECT {cols}, $source, $ingest_id FROM ({normalize_sql(minify, strict=strict)}) "
                "WHERE problem IS NULL",
                {"source": source, "ingest_id": ingest_id},
            ).fetchone()
        finally:
            conn.unregister("batch")
        result = settle_insert(conn, before[0] if before else -1, row, ingest_id)
        if before_commit is not None:
            before_commit(conn)
    return result


def _find_problems(
    store: Store, batches: Iterable[RawBatch | LineBatch], source: str, minify: bool
) -> list[Rejection]:
    """Name every malformed entry of a chunk (read again: this runs only on damaged input)."""
    rejections: list[Rejection] = []
    for batch in batches:
        with normalized_batch(store.conn, batch, minify):
            problems = store.conn.execute(
                f"SELECT line_no, problem FROM ({normalize_sql(minify, check_only=True)}) "
                "WHERE problem IS NOT NULL ORDER BY line_no"
            ).fetchall()
        element_of = dict(zip(batch.line_nos, batch.elements or [], strict=False))
        rejections.extend(
            Rejection(source, line_no, element_of.get(line_no), problem)
            for line_no, problem in problems
        )
    return rejections


def _is_malformed_json(err: Exception) -> bool:
    """Whether a strict parse failed on a line that is not JSON.

    DuckDB quotes the line's first 50 bytes in its message; when that cut falls inside a
    character, the driver cannot decode the message and raises UnicodeDecodeError instead.
    The strict statement decodes nothing else, so that error means the same thing.
    """
    return isinstance(err, UnicodeDecodeError) or "Malformed JSON" in str(err)


def _ingest_stream(
    store: Store,
    read: Callable[[], Iterator[RawBatch | LineBatch]],
    batches_per_chunk: int,
    source: str,
    minify: bool,
    on_batch: Callable[[IngestResult], None] | None,
    before_commit: BeforeCommit | None = None,
    whole_file: Path | None = None,
) -> IngestResult:
    """Ingest what ``read()`` yields, chunk by chunk. ``read`` must yield the same batches
    each time it is called: a chunk whose counts do not add up is read again to name its
    problems. ``whole_file``: the file ``read`` reads, tried first in one statement
    (forensics.fastload); the chunks only run when it needs the reader's path."""
    ingest_id = start_run(store, source)
    total = IngestResult()
    status = "failed"
    if whole_file is not None:
        try:
            part = load_whole_file(store, whole_file, source, ingest_id, minify, _STORED)
        except BaseException:  # interrupted, or the store failed: the run says so
            finish_run(store, ingest_id, total, status)
            raise
        if part is not None:
            if on_batch:
                on_batch(part)
            total.add(part)
            finish_run(store, ingest_id, total, "complete")
            return total
    batches = read()
    strict = True  # until a chunk holds a line that is not JSON
    try:
        try:
            for chunk in itertools.count():
                start = chunk * batches_per_chunk
                batch_slice = itertools.islice(batches, batches_per_chunk)
                feed = Feed(batch_slice)
                try:
                    part = _load_chunk(
                        store, feed, source, ingest_id, minify, before_commit, strict
                    )
                except (duckdb.InvalidInputException, UnicodeDecodeError) as err:
                    if not (strict and _is_malformed_json(err)):
                        raise
                    # Rolled back: this chunk, and the file's later ones, parse tolerantly.
                    strict = False
                    _drain(batch_slice)
                    feed = Feed(itertools.islice(read(), start, start + batches_per_chunk))
                    part = _load_chunk(store, feed, source, ingest_id, minify, before_commit)
                if part.accepted + part.duplicates < feed.entries:
                    again = itertools.islice(read(), start, start + batches_per_chunk)
                    part.rejections = _find_problems(store, _until_damage(again), source, minify)
                    part.rejected = len(part.rejections)
                    count_rejected(store, ingest_id, part.rejected)
                part.notes = [f"{source}: line {line}: {note}" for line, note in feed.notes]
                if on_batch and feed.entries:
                    on_batch(part)
                total.add(part)
                if feed.error:
                    # A file damaged half-way: every entry before the damage is committed.
                    raise feed.error
                if feed.batches < batches_per_chunk:
                    break
            status = "complete"
        except InputError as err:
            total.errors.append(str(err))
    finally:
        finish_run(store, ingest_id, total, status)
    return total


def _drain(batches: Iterator[RawBatch | LineBatch]) -> None:
    """Read past what is left of a chunk (damage is met again when it is read anew)."""
    try:
        for _ in batches:
            pass
    except InputError:
        return


def _until_damage(
    batches: Iterator[RawBatch | LineBatch],
) -> Iterator[RawBatch | LineBatch]:
    """The batches before the damage (already reported by the first read)."""
    try:
        yield from batches
    except InputError:
        return


def ingest_texts(
    store: Store,
    texts: Iterable[str],
    source: str,
    *,
    batch_size: int = BATCH_SIZE,
    before_commit: BeforeCommit | None = None,
) -> IngestResult:
    """Ingest LogEntry JSON strings (e.g. one API page); line numbers count entries from 1.

    ``before_commit(conn)`` runs inside each chunk's transaction just before COMMIT (also when
    there is nothing to insert): the API collectors advance their checkpoint there, so a page
    and its checkpoint are committed together or not at all.
    """
    items = list(texts)
    step = min(batch_size, READ_BATCH)

    def read() -> Iterator[RawBatch]:
        for i in range(0, len(items), step):
            chunk = items[i : i + step]
            yield RawBatch(list(range(i + 1, i + 1 + len(chunk))), chunk)

    return _ingest_stream(store, read, -(-batch_size // step), source, False, None, before_commit)


def ingest_files(
    store: Store,
    paths: Iterable[Path],
    *,
    on_batch: Callable[[IngestResult], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> IngestResult:
    """Ingest export files; a bad file is reported and the others still load.

    ``batch_size`` is the number of entries per transaction (one INSERT statement). Each file
    is one ingest run; consecutive small clean NDJSON files are loaded in one statement
    (forensics.fastload.load_files_as_runs), still one run each.
    """
    total = IngestResult()
    step = min(batch_size, READ_BATCH)
    group: list[tuple[Path, str]] = []
    in_group: set[str] = set()  # their absolute names: the same file twice splits the group
    group_bytes = 0

    def load_group() -> None:
        nonlocal group_bytes
        if group:
            total.add(_ingest_together(store, group, step, on_batch))
        group.clear()
        in_group.clear()
        group_bytes = 0

    with bounded_memory(store):
        for path in paths:
            source = _source_name(path)
            # A clean file is loaded whole by DuckDB's own readers, unless the caller asked
            # for other transactions than the default ones (or its name is not UTF-8, which
            # DuckDB cannot be given).
            fast = batch_size == BATCH_SIZE and source == str(path) and fast_path_applies(path)
            first = None
            size = 0
            try:
                # A plain NDJSON file's format says all the probe below would: it is there,
                # not empty, an export, and has no array to minify.
                plain_ndjson = fast and detect_format(path) == "ndjson"
                if plain_ndjson:
                    size = _size(path)
                else:
                    with closing(read_batches(path, step)) as probe:
                        first = next(probe, None)  # missing, empty or not JSON: no run row
            except InputError as err:
                total.errors.append(str(err))
                continue
            if not plain_ndjson and first is None:
                total.errors.append(f"{source}: empty file, no entries")
                continue
            minify = first is not None and first.elements is not None
            if plain_ndjson and size < GROUP_FILE_BYTES:
                # The same file twice in one statement would join each of its lines to both runs.
                name = str(path.absolute())
                if name in in_group or group_bytes + size > GROUP_BYTES:
                    load_group()
                group.append((path, source))
                in_group.add(name)
                group_bytes += size
                continue
            load_group()
            total.add(_ingest_file(store, path, source, step, batch_size, minify, fast, on_batch))
        load_group()
    return total


def _source_name(path: Path) -> str:
    """The name a file's run and entries are stored under: its path, with any bytes that are
    not UTF-8 (a name from another system's encoding) shown as U+FFFD."""
    name = str(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", errors="replace")
    return name


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as err:  # gone or unreadable since its format was read
        raise InputError(f"{_source_name(path)}: cannot read: {err.strerror}") from None


def _ingest_file(
    store: Store,
    path: Path,
    source: str,
    step: int,
    batch_size: int,
    minify: bool,
    fast: bool,
    on_batch: Callable[[IngestResult], None] | None,
) -> IngestResult:
    """One file as one run: whole (``fast``) when DuckDB's readers take it, else in chunks."""

    def read() -> Iterator[RawBatch | LineBatch]:
        return read_batches(path, step)

    return _ingest_stream(
        store,
        read,
        -(-batch_size // step),
        source,
        minify,
        on_batch,
        whole_file=path if fast else None,
    )


def _ingest_together(
    store: Store,
    files: list[tuple[Path, str]],
    step: int,
    on_batch: Callable[[IngestResult], None] | None,
) -> IngestResult:
    """Clean-looking NDJSON files, each ``(path, source)``, in one statement and one
    transaction, a run each; when any of them needs the reader's path, nothing is kept and
    each file is loaded on its own."""
    if len(files) == 1:
        path, source = files[0]
        return _ingest_file(store, path, source, step, BATCH_SIZE, False, True, on_batch)
    runs: list[int] = []
    parts: dict[int, IngestResult] | None = None
    try:
        with transaction(store.conn):
            runs = [start_run(store, source) for _, source in files]
            named = [(path, source, run) for (path, source), run in zip(files, runs, strict=True)]
            parts = load_files_as_runs(store, named, _STORED)
            for run in runs:
                finish_run(store, run, parts[run], "complete")
    except (duckdb.Error, UnicodeDecodeError):
        # Rolled back, the runs' rows with it: a file that is not clean NDJSON. Each file
        # then takes its own path, which names its bad lines.
        parts = None
    finally:
        for run in runs:
            run_finished(store.path, run)
    total = IngestResult()
    if parts is None:
        for path, source in files:
            total.add(_ingest_file(store, path, source, step, BATCH_SIZE, False, True, on_batch))
        return total
    for run in runs:
        if on_batch:
            on_batch(parts[run])
        total.add(parts[run])
    return total
