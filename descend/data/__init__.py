"""Data for training: datasets, the batching loader, the tutorials' synthetic sets, MNIST.

Example:
    >>> from descend.data import DataLoader, TensorDataset, spirals
    >>> x, y = spirals(100)
    >>> loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, seed=0)
"""

from . import synthetic
from .loader import DataLoader, Dataset, Subset, TensorDataset, random_split
from .mnist import MNIST, FashionMNIST
from .synthetic import blobs, linear, moons, speed, spirals

__all__ = [
    "Dataset",
    "TensorDataset",
    "Subset",
    "DataLoader",
    "random_split",
    "MNIST",
    "FashionMNIST",
    "synthetic",
    "linear",
    "speed",
    "spirals",
    "blobs",
    "moons",
]
