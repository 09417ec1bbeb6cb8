#!/bin/sh
# One scheduled forensics run on Cloud Run Jobs.
#
# Where the store lives: a Cloud Storage bucket mounted at $GCS_DIR (default /gcs). DuckDB does
# not run on the mount itself: Cloud Storage FUSE has no file locking and rewrites a whole object
# on every flush. So the run copies the store to local disk (/tmp, which is memory on Cloud Run:
# give the job memory for the store plus ~1 GiB), works on it, and puts it back as a new object
# that is then renamed over the old one, so the bucket holds the old store or the new one, never
# half of one. One execution at a time (tasks=1, and a schedule far longer than the job's timeout):
# two runs would both upload and the last one would win.
#
# Exit codes: 0 when the run worked, whatever it found (what needs attention is posted to
# $FORENSICS_WEBHOOK and printed to the job's log); 2 when forensics could not do its job, so a
# failed execution always means "the job is broken".
set -u
GCS_DIR=${GCS_DIR:-/gcs}
WORK=${TMPDIR:-/tmp}
export FORENSICS_DB=${FORENSICS_DB:-$WORK/forensics.duckdb}
DAY=$(date -u -d yesterday +%F)

if [ -f "$GCS_DIR/forensics.duckdb" ]; then
    cp "$GCS_DIR/forensics.duckdb" "$FORENSICS_DB" || exit 2
fi

# collect: 0 complete, 1 a source stayed incomplete (recorded as a data gap, shown by diff), 2 error
forensics collect --hours 26
rc=$?
[ "$rc" -le 1 ] || exit "$rc"

mkdir -p "$GCS_DIR/snapshots" "$GCS_DIR/reports"
# Yesterday and the 7 days before it, (re)taken from the store: the first runs have a baseline,
# and both sides are counted with today's catalog and claims (a day's snapshot is replaced).
# The Parquet file holds exactly what the diff compares.
forensics snapshot --date "$DAY" --days 8 --export-parquet "$GCS_DIR/snapshots/$DAY.parquet" \
    || exit 2

forensics diff --date "$DAY" --baseline 7d --markdown > "$WORK/diff-$DAY.md"
diff_rc=$?
cat "$WORK/diff-$DAY.md"
cp "$WORK/diff-$DAY.md" "$GCS_DIR/reports/diff-$DAY.md"

# The commands closed the store (DuckDB checkpoints on close): one file to upload.
cp "$FORENSICS_DB" "$GCS_DIR/forensics.duckdb.uploading" \
    && mv "$GCS_DIR/forensics.duckdb.uploading" "$GCS_DIR/forensics.duckdb" || exit 2

[ "$diff_rc" -le 1 ] || exit "$diff_rc"
exit 0
