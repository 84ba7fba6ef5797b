"""MNIST from local IDX files: read back what was written, plain and gzipped; clear errors."""

import numpy as np
import pytest
import torch

from lstheory import InvalidArgument
from lstheory.data import MNIST_MEAN, MNIST_STD, load_dataset, load_mnist, write_mnist_idx


def _arrays(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (12, 28, 28)), rng.integers(0, 10, 12),
            rng.integers(0, 256, (5, 28, 28)), rng.integers(0, 10, 5))


@pytest.mark.parametrize("gz", [False, True])
def test_round_trip(tmp_path, gz):
    xtr, ytr, xte, yte = _arrays()
    write_mnist_idx(tmp_path / "raw", xtr, ytr, xte, yte, gz=gz)
    d = load_mnist(tmp_path)  # finds raw/ below the root
    assert d.x_train.shape == (12, 1, 28, 28) and d.x_test.shape == (5, 1, 28, 28)
    torch.testing.assert_close(d.y_train, torch.from_numpy(ytr).long())
    pixels = d.x_train[:, 0] * MNIST_STD + MNIST_MEAN
    np.testing.assert_allclose(pixels.numpy() * 255, xtr, atol=1e-3)
    raw = load_dataset("mnist", root=tmp_path / "raw", normalize=False)
    np.testing.assert_allclose(raw.x_test[:, 0].numpy() * 255, xte, atol=1e-3)


def test_missing_or_corrupt_files_are_clear_errors(tmp_path):
    with pytest.raises(InvalidArgument, match="never downloads"):
        load_mnist(tmp_path)
    with pytest.raises(InvalidArgument, match="root"):
        load_dataset("mnist")
    write_mnist_idx(tmp_path, *_arrays())
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"\x01\x02\x03\x04junk")
    with pytest.raises(InvalidArgument, match="unreadable"):
        load_mnist(tmp_path)
