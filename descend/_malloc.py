"""Keep NumPy's large temporaries in the heap, so a training step does not page-fault them in anew.

glibc's malloc serves a block above its *mmap threshold* with a fresh ``mmap`` and hands it back to
the kernel on ``free``; the next block of that size page-faults in again, one fault per 4 KiB, each
zeroing its page. The threshold starts at 128 KiB and grows on its own only up to 32 MiB, and the
heap's top is trimmed back to the kernel whenever more than twice the threshold lies free there. A
training step allocates and frees the same large arrays every step (a LeNet-5 step at batch 256 frees
im2col columns of 15-20 MB, activations and their gradients of 1-5 MB), so that default re-faults
megabytes each step: 3,000-4,000 faults a step, a third of the step's time.

``tune()`` fixes both thresholds once, at import, through ``mallopt``: blocks up to
:data:`MMAP_THRESHOLD` come from the heap and are reused, and the heap keeps up to
:data:`TRIM_THRESHOLD` of free memory at its top before giving it back. The cost is that memory freed
by a finished job can stay with the process (at most :data:`TRIM_THRESHOLD` at the heap's top) until
the next allocation reuses it; the peak is unchanged.

It does nothing where the C library is not glibc, when the user set malloc's tunables themselves
(``GLIBC_TUNABLES`` naming malloc, or the ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_``
variables), or when ``DESCEND_MALLOC_TUNING=0``.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys

# NOTE: measured on LeNet-5 (real MNIST, 60 steps at batch 256 and 240 at 64, 2 threads): minor page
# faults 180k-240k -> 0 and 380k-510k -> 24; step time -25% to -35% at both batch sizes.
MMAP_THRESHOLD = 64 * 2**20
TRIM_THRESHOLD = 256 * 2**20

_M_TRIM_THRESHOLD = -1  # glibc's <malloc.h> parameter numbers
_M_MMAP_THRESHOLD = -3
_USER_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")


def _user_chose() -> bool:
    """Whether the environment already says how malloc should behave (then it is left as it is)."""
    if os.environ.get("DESCEND_MALLOC_TUNING", "1").strip().lower() in ("0", "false", "no", "off"):
        return True
    if "malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return True
    return any(name in os.environ for name in _USER_VARIABLES)


def tune() -> bool:
    """Set glibc's mmap and trim thresholds for NumPy-sized blocks; return whether they were set."""
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc" or _user_chose():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # mallopt returns 1 on success; setting the mmap threshold also turns off glibc's own adjustment.
    return mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1


TUNED = tune()
