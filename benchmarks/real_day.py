"""Tile the real staging export into a busy corpus for bench_e2e: real wording, real shapes.

The export (``../shared/fixtures/real-staging/entries.jsonl``, 4,898 entries over a month) is
copied ``--copies`` times over ``--days`` days ending 2025-09-17T00:00:00Z (bench_e2e's window
end): each copy squeezed into its share of the span in its own order, receiveTimestamp 150 ms
after the timestamp, insertIds made unique per copy (an entry without one keeps none, so the
store hashes it), the fixture's ``_`` keys (labels, provenance) dropped. 205 copies make about
1M entries (990 MB).

Plain copies repeat the export's message texts, so 1M entries hold only its ~2,500 distinct
messages. ``--vary`` makes each copy's texts differ the way a real day's do (see ``vary_text``):
in textPayload, every jsonPayload string and httpRequest's requestUrl and latency, timestamps
become the entry's own time in the same shape, and ids, ports, counts of 4+ digits, numeric path
segments, hex ids and durations' decimals become values derived from the copy index and the
original, of the same length; short numbers (exit codes, statuses, line numbers), timezone offsets
and revision names stay, so the catalog's signatures match what they matched.

    python benchmarks/real_day.py --copies 205 --days 1 /tmp/real/corpus.jsonl
    python benchmarks/bench_e2e.py --keep /tmp/real --reuse --entries 1000000

(``--entries`` and ``--days`` only label bench_e2e's report with --reuse; pass the same days.)
Cost: O(entries x their text) for the writing, one pass.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

EXPORT = Path(__file__).resolve().parents[2] / "shared/fixtures/real-staging/entries.jsonl"
END = datetime(2025, 9, 17, tzinfo=UTC)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# the variable parts of a message, first alternative first; an offset and a revision name stay
_VARIABLE = re.compile(
    r"(?P<stamp>\d{4}(?P<dsep>[-/])\d{2}(?P=dsep)\d{2}"
    r"(?:(?P<tsep>[T ])\d{2}:\d{2}:\d{2}(?:(?P<fsep>[.,])(?P<frac>\d+))?)?)"
    r"(?P<offset>\s?[+-]\d{2}:?\d{2}\b)?"
    r"|(?P<revision>\b[a-z][a-z0-9-]*-\d{5}-[a-z0-9]{2,4}\b)"
    r"|(?P<whole>\d+)\.(?P<decimals>\d+)(?P<unit>\s?m?s\b)"
    r"|(?P<hex>\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b)"
    r"|(?<=/)(?P<segment>\d+)(?=[/?#]|$)"
    r"|(?P<digits>\d{4,})"
)


def _derived(copy: int, original: str, alphabet: str, context: str = "") -> str:
    """``original``'s length over ``alphabet``, fixed by the copy, context and original."""
    key = f"{copy}\0{context}\0{original}".encode()
    seed = int.from_bytes(hashlib.blake2b(key, digest_size=16).digest())
    out = []
    for _ in original:
        seed, index = divmod(seed, len(alphabet))
        out.append(alphabet[index])
        if not seed:
            seed = int.from_bytes(hashlib.blake2b(str(out).encode(), digest_size=16).digest())
    if original[0] != "0" and out[0] == "0":  # a number keeps its magnitude
        out[0] = "1"
    return "".join(out)


def vary_text(text: str, copy: int, when: datetime) -> str:
    """``text`` as copy ``copy`` of an entry at ``when`` logs it: same shape, variable parts new."""

    def replace(match: re.Match[str]) -> str:
        if match["stamp"]:
            shape = f"%Y{match['dsep']}%m{match['dsep']}%d"
            if match["tsep"]:
                shape += f"{match['tsep']}%H:%M:%S"
            stamp = when.strftime(shape)
            if match["fsep"]:
                stamp += match["fsep"] + when.strftime("%f")[: len(match["frac"])].ljust(
                    len(match["frac"]), "0"
                )
            return stamp + (match["offset"] or "")
        if match["revision"]:
            return match[0]
        if match["decimals"]:
            decimals = _derived(copy, match["decimals"], "0123456789", match[0])
            return f"{match['whole']}.{decimals}{match['unit']}"
        if match["hex"]:
            return _derived(copy, match[0], "0123456789abcdef")
        return _derived(copy, match[0], "0123456789")

    return _VARIABLE.sub(replace, text)


def _latency(latency: str, copy: int) -> str:
    """A ``0.123s`` latency with other decimals of the same length."""
    whole, _, decimals = latency.rstrip("s").partition(".")
    if not decimals.isdigit():
        return latency
    return f"{whole}.{_derived(copy, decimals, '0123456789', whole)}s"


def _vary_value(value: object, copy: int, when: datetime) -> object:
    if isinstance(value, str):
        return vary_text(value, copy, when)
    if isinstance(value, dict):
        return {k: _vary_value(v, copy, when) for k, v in value.items()}
    if isinstance(value, list):
        return [_vary_value(v, copy, when) for v in value]
    return value


def _vary(entry: dict[str, object], copy: int, when: datetime) -> None:
    """Vary ``entry``'s message texts in place (its nested dicts are copied first)."""
    if isinstance(entry.get("textPayload"), str):
        entry["textPayload"] = vary_text(str(entry["textPayload"]), copy, when)
    if isinstance(entry.get("jsonPayload"), dict):
        entry["jsonPayload"] = _vary_value(entry["jsonPayload"], copy, when)
    request = entry.get("httpRequest")
    if isinstance(request, dict):
        request = dict(request)
        if isinstance(request.get("requestUrl"), str):
            request["requestUrl"] = vary_text(request["requestUrl"], copy, when)
        if isinstance(request.get("latency"), str):
            request["latency"] = _latency(request["latency"], copy)
        entry["httpRequest"] = request


def write_real_day(
    out: Path, copies: int, days: int, export: Path = EXPORT, vary: bool = False
) -> int:
    """Write the tiled corpus to ``out`` (texts varied per copy with ``vary``); return its size."""
    rows = []
    for line in export.read_text().splitlines():
        entry = {k: v for k, v in json.loads(line).items() if not k.startswith("_")}
        when = datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00"))
        rows.append((when, entry))
    rows.sort(key=lambda row: row[0])
    first, last = rows[0][0], rows[-1][0]
    span = (last - first).total_seconds() or 1.0
    share = 86400.0 * days / copies  # seconds of the corpus each copy fills
    start = END - timedelta(days=days)
    written = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w") as sink:
        for copy in range(copies):
            base = start + timedelta(seconds=copy * share)
            for when, entry in rows:
                tiled = dict(entry)
                at = base + timedelta(seconds=(when - first).total_seconds() / span * share * 0.999)
                tiled["timestamp"] = _stamp(at)
                if "receiveTimestamp" in tiled:
                    tiled["receiveTimestamp"] = _stamp(at + timedelta(milliseconds=150))
                if entry.get("insertId"):
                    tiled["insertId"] = f"{entry['insertId']}-{copy}"
                if vary:
                    _vary(tiled, copy, at)
                sink.write(json.dumps(tiled, separators=(",", ":")) + "\n")
                written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--copies", type=int, default=205)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument(
        "--vary", action="store_true", help="each copy's message texts differ, as a real day's do"
    )
    args = parser.parse_args()
    written = write_real_day(args.out, args.copies, args.days, vary=args.vary)
    print(f"{written:,} entries -> {args.out}")


if __name__ == "__main__":
    main()
