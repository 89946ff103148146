"""descend keeps NumPy's large temporaries in glibc's heap (descend/_malloc.py): no page faults per step."""

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                                reason="the malloc tuning applies to glibc only")

# Allocate a 40 MB array (above the 32 MiB where glibc's own adaptive threshold stops), then free it;
# print, from glibc's mallinfo2, the bytes held in separate mmaps while it lives, the free bytes the
# heap keeps after it is gone, and whether descend tuned malloc.
PROBE = """
import ctypes
import numpy as np
import descend._malloc as m

class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                 "fordblks", "keepcost")]

mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = Info
a = np.ones(5 * 2**20)
mapped = mallinfo2().hblkhd
del a
print(mapped, mallinfo2().fordblks, m.TUNED)
"""
BLOCK = 40 * 2**20


def _probe(**env):
    base = {k: v for k, v in os.environ.items()
            if k not in ("DESCEND_MALLOC_TUNING", "GLIBC_TUNABLES") and not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", PROBE], env={**base, **env}, capture_output=True, text=True,
                         check=True).stdout.split()
    return int(out[0]), int(out[1]), out[2] == "True"


def test_a_large_block_comes_from_the_heap_and_stays_there_for_reuse():
    mapped, kept_free, tuned = _probe()
    assert tuned
    assert mapped < BLOCK  # not a separate mmap (which would page-fault in anew each time)
    assert kept_free >= BLOCK  # freed into the heap, not trimmed back to the kernel


def test_opting_out_leaves_glibc_default_which_maps_the_block_separately():
    mapped, kept_free, tuned = _probe(DESCEND_MALLOC_TUNING="0")
    assert not tuned
    assert mapped >= BLOCK and kept_free < BLOCK


def test_users_own_malloc_tunables_are_left_alone():
    assert not _probe(GLIBC_TUNABLES="glibc.malloc.mmap_threshold=131072")[2]
    assert not _probe(MALLOC_TRIM_THRESHOLD_="1000000")[2]
