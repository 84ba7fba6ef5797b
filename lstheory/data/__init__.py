"""Data sets for the engines: one :class:`Dataset` type, loaders that never download.

>>> from lstheory.data import load_dataset
>>> data = load_dataset("digits")            # scikit-learn's 8x8 digits, [N, 1, 8, 8]
>>> data.n_train, data.n_test, data.input_shape
(1438, 359, (1, 8, 8))

Loaders
-------
``load_digits``      scikit-learn's 8×8 digits (ships with scikit-learn).
``load_mnist1d``     MNIST-1D, generated offline by the ``mnist1d`` package.
``load_cifar10``     CIFAR-10 from a local copy of the python batches (``root=``).
``load_mnist``       MNIST from a local copy of the IDX files (``root=``; .gz accepted).
``make_synthetic``   Gaussian blobs or a ReLU-teacher set, any input shape.
``dataset_from_file`` your own ``.pt`` file: ``(X, Y)``, ``{"x", "y"}`` / ``{"X", "Y"}`` (optionally
                     with ``"x_test"``, ``"y_test"``) or a ``TensorDataset``, read with
                     ``weights_only=True``; ``read_tensors`` returns its checked tensors.

``load_dataset(name, **options)`` dispatches on the names in :data:`DATASETS`; ``batches`` slices
tensors for evaluation loops; ``write_cifar10_batches`` writes arrays in CIFAR-10's format.
"""

from ._cifar import CIFAR10_MEAN, CIFAR10_STD, load_cifar10, write_cifar10_batches
from ._dataset import Dataset, batches
from ._digits import load_digits
from ._files import MAX_ROWS, TensorFile, dataset_from_file, read_tensors
from ._mnist import MNIST_MEAN, MNIST_STD, load_mnist, write_mnist_idx
from ._mnist1d import load_mnist1d
from ._registry import DATASETS, load_dataset
from ._synthetic import SYNTHETIC_KINDS, make_synthetic

__all__ = [
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "DATASETS",
    "Dataset",
    "MAX_ROWS",
    "TensorFile",
    "dataset_from_file",
    "read_tensors",
    "SYNTHETIC_KINDS",
    "batches",
    "load_cifar10",
    "load_dataset",
    "load_digits",
    "load_mnist",
    "load_mnist1d",
    "make_synthetic",
    "MNIST_MEAN",
    "MNIST_STD",
    "write_mnist_idx",
    "write_cifar10_batches",
]
