"""PyTorch's `torch.utils` path: `descend.utils.data` holds `descend.data`'s loading pipeline.

So `from torch.utils.data import DataLoader` and `torch.utils.data.DataLoader(...)` in tutorial code
run after `import descend as torch` (the module import needs `descend.utils.data` on the path too).
"""

from . import data

__all__ = ["data"]
