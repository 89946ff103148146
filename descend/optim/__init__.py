"""Optimizers and learning-rate schedules with PyTorch's names, signatures and formulas.

Example:
    >>> opt = descend.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> sched = descend.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .gd import GD
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "GD", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
