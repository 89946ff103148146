"""`descend.utils.data`, PyTorch's `torch.utils.data`: the names of `descend.data`'s loading pipeline.

Example:
    >>> from descend.utils.data import DataLoader, TensorDataset
    >>> len(DataLoader(TensorDataset(descend.arange(10)), batch_size=4))
    3
"""

from ...data.loader import *  # noqa: F403 - the pipeline's public names, one list (loader.__all__)
from ...data.loader import __all__  # noqa: F401
