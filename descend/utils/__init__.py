"""PyTorch's `torch.utils.data` path: `descend.utils.data` is `descend.data`.

So `torch.utils.data.DataLoader(...)` in tutorial code runs after `import descend as torch`.
"""

from .. import data

__all__ = ["data"]
