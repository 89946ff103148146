"""`descend.nn`: modules, parameters, layers, losses, initialisers and gradient utilities.

Example:
    >>> import descend as torch
    >>> model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    >>> loss_fn = torch.nn.MSELoss()
"""

from . import functional, init, utils
from .attention import *  # noqa: F403 - MultiheadAttention and the Transformer family (attention.__all__)
from .attention import __all__ as _attention_names
from .conv import *  # noqa: F403 - convolutions, pooling, channel dropout, Unfold/Fold (conv.__all__)
from .conv import __all__ as _conv_names
from .layers import *  # noqa: F403 - every layer (layers.__all__)
from .layers import (
    GELU,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ModuleList,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from .layers import __all__ as _layer_names
from .losses import *  # noqa: F403 - every loss (losses.__all__)
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    RMSELoss,
)
from .losses import __all__ as _loss_names
from .module import Module, Parameter
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "GELU",
    "HuberLoss",
    "Identity",
    "L1Loss",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "RMSELoss",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "functional",
    "init",
    "utils",
]
__all__ += _conv_names
__all__ += ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell"]
__all__ += _attention_names
__all__ += [n for n in _layer_names + _loss_names if n not in __all__]
