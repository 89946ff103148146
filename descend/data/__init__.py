"""Data for training: datasets, the batching loader, the tutorials' synthetic sets, MNIST.

Example:
    >>> from descend.data import DataLoader, TensorDataset, spirals
    >>> x, y = spirals(100)
    >>> loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, seed=0)
"""

from . import synthetic
from .loader import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    WorkerInfo,
    default_collate,
    get_worker_info,
    random_split,
)
from .mnist import MNIST, FashionMNIST
from .synthetic import blobs, linear, moons, speed, spirals

__all__ = [
    "Dataset",
    "TensorDataset",
    "Subset",
    "DataLoader",
    "random_split",
    "IterableDataset",
    "ConcatDataset",
    "default_collate",
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
    "WorkerInfo",
    "get_worker_info",
    "MNIST",
    "FashionMNIST",
    "synthetic",
    "linear",
    "speed",
    "spirals",
    "blobs",
    "moons",
]
