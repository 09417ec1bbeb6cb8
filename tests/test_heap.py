"""forensics.heap: with the mmap threshold fixed, freed big blocks do not stay in the C heap."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

import pytest

from forensics.heap import MMAP_THRESHOLD, map_big_blocks


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd")
    ] + [
        (name, ctypes.c_size_t)
        for name in ("usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")
    ]


def _heap_bytes() -> int:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    return int(libc.mallinfo2().arena)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_big_blocks_are_mapped_not_kept_in_the_heap() -> None:
    assert map_big_blocks()
    size = 4 * MMAP_THRESHOLD
    # Dynamic, the threshold would rise to the first block's size once it is freed, and the
    # next ones would be carved from the heap (which keeps the pages they leave).
    first = ctypes.create_string_buffer(size)
    del first
    before = _heap_bytes()
    held = [ctypes.create_string_buffer(size) for _ in range(3)]
    assert _heap_bytes() - before < size
    del held
