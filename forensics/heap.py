"""Keep the C heap from holding on to big buffers a load has freed (glibc's malloc only).

glibc serves an allocation above its mmap threshold with its own mapping, returned to the
system on free. But the threshold is dynamic: once such a block is freed, it rises to that
block's size, so the next ones (an ingest's 4 MiB read chunks, their Arrow lines, the bytes
cut from them) come from the heap instead, and the heap keeps what they leave: a 1M-entry
real-shaped ingest held 230 MB of free heap at its peak (mallinfo2), a quarter of its RSS.
Fixing the threshold (mallopt, which also turns the adjustment off) keeps every big block in
its own mapping. O(1); a no-op where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["MMAP_THRESHOLD", "map_big_blocks"]

# Blocks from this size get their own mapping: far above the small objects that dominate
# Python's and the reader's allocations, far below a read chunk (forensics.ndjson.CHUNK).
MMAP_THRESHOLD = 1 << 20
_M_MMAP_THRESHOLD = -3  # glibc's malloc.h


def map_big_blocks() -> bool:
    """Fix glibc's mmap threshold at MMAP_THRESHOLD; whether it was set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
