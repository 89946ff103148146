"""`descend.nn.functional` (import as F): the same functions as `descend.functional`, PyTorch's path.

Example:
    >>> import descend.nn.functional as F
    >>> F.relu(descend.tensor([-1.0, 1.0]))
    tensor([0., 1.])
"""

from ..functional import *  # noqa: F403 - this module is a re-export by design
from ..functional import __all__  # noqa: F401
