"""lstheory.data: loaders give the documented shapes, never download, and are reproducible."""

import random

import numpy as np
import pytest
import torch

from lstheory import InvalidArgument, UnknownName
from lstheory.data import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    Dataset,
    batches,
    load_cifar10,
    load_dataset,
    load_digits,
    load_mnist1d,
    make_synthetic,
    write_cifar10_batches,
)


def test_digits_shapes_split_and_normalisation():
    d = load_digits()
    assert (d.n_train + d.n_test, d.input_shape, d.n_classes) == (1797, (1, 8, 8), 10)
    assert abs(float(d.x_train.mean())) < 1e-5 and abs(float(d.x_train.std()) - 1) < 1e-3
    assert set(d.y_test.tolist()) == set(range(10))  # stratified: every class is tested
    assert load_digits(shape="flat").input_shape == (64,)
    assert torch.equal(load_digits(seed=3).y_test, load_digits(seed=3).y_test)
    assert not torch.equal(load_digits(seed=3).y_test, load_digits(seed=4).y_test)


def test_mnist1d_is_generated_offline_and_leaves_global_rng_alone(monkeypatch):
    import requests

    def no_network(*a, **k):
        raise AssertionError("mnist1d tried to download")

    monkeypatch.setattr(requests, "get", no_network)
    np.random.seed(123)
    random.seed(123)
    before = (np.random.random(), random.random())
    np.random.seed(123)
    random.seed(123)
    d = load_mnist1d(n_samples=200, seed=7)
    assert (np.random.random(), random.random()) == before
    assert (d.n_train, d.n_test, d.input_shape) == (160, 40, (40,))
    assert load_mnist1d(n_samples=200, seed=7, shape="signal").input_shape == (1, 40)
    assert torch.equal(d.x_train, load_mnist1d(n_samples=200, seed=7).x_train)


def _tiny_cifar(tmp_path, n_train=15, n_test=4):
    rng = np.random.default_rng(0)
    xtr = rng.integers(0, 256, (n_train, 3, 32, 32), dtype=np.uint8)
    ytr = rng.integers(0, 10, n_train)
    xte = rng.integers(0, 256, (n_test, 3, 32, 32), dtype=np.uint8)
    yte = rng.integers(0, 10, n_test)
    root = write_cifar10_batches(tmp_path / "cifar-10-batches-py", xtr, ytr, xte, yte)
    return root, (xtr, ytr, xte, yte)


def test_cifar10_reader_roundtrips_the_python_batch_format(tmp_path):
    root, (xtr, ytr, xte, yte) = _tiny_cifar(tmp_path)
    raw = load_cifar10(tmp_path, normalize=False)  # the parent folder is accepted too
    assert raw.input_shape == (3, 32, 32) and (raw.n_train, raw.n_test) == (15, 4)
    np.testing.assert_allclose(raw.x_train.numpy() * 255, xtr, atol=1e-3)
    np.testing.assert_array_equal(raw.y_train.numpy(), ytr)
    np.testing.assert_array_equal(raw.y_test.numpy(), yte)
    norm = load_dataset("cifar10", root=root)
    mean = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
    torch.testing.assert_close(norm.x_test, (raw.x_test - mean) / std)
    assert norm.info["label_names"][0] == "airplane"
    assert load_cifar10(root, n_batches=2).n_train == 6  # 15 split over 5 files: 3 + 3


def test_cifar10_reader_errors_say_where_and_what(tmp_path):
    with pytest.raises(InvalidArgument, match="never downloads"):
        load_cifar10(tmp_path)
    root, _ = _tiny_cifar(tmp_path)
    (root / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(InvalidArgument, match="data_batch_3"):
        load_cifar10(root)
    with pytest.raises(InvalidArgument, match="root"):
        load_dataset("cifar10")


def test_synthetic_is_reproducible_and_shaped():
    a = make_synthetic("teacher", input_shape=(1, 8, 8), n_train=50, n_test=20, seed=1)
    b = make_synthetic("teacher", input_shape=(1, 8, 8), n_train=50, n_test=20, seed=1)
    assert a.input_shape == (1, 8, 8) and torch.equal(a.x_train, b.x_train)
    assert not torch.equal(
        a.x_train,
        make_synthetic("teacher", input_shape=(1, 8, 8), n_train=50, n_test=20, seed=2).x_train,
    )
    with pytest.raises(UnknownName, match="blobs"):
        make_synthetic("blob")


def test_subset_fingerprint_and_batches():
    d = make_synthetic(n_train=100, n_test=30)
    s = d.subset(40, None, seed=5)
    assert (s.n_train, s.n_test) == (40, 30) and s.info["subset_seed"] == 5
    assert torch.equal(s.x_train, d.subset(40, None, seed=5).x_train)
    assert (
        s.fingerprint() != d.fingerprint()
        and d.fingerprint() == make_synthetic(n_train=100, n_test=30).fingerprint()
    )
    assert sum(len(yb) for _, yb in batches(*d.train, 33)) == 100
    with pytest.raises(InvalidArgument, match="n_train=101"):
        d.subset(101)
    assert d.flat().input_shape == (16,)


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(y_train=torch.zeros(4)), "int64"),
        (dict(y_train=torch.full((4,), 7)), r"labels in \[0, 3\)"),
        (dict(x_test=torch.zeros(2, 5)), "shape"),
    ],
)
def test_dataset_validates(bad, match):
    kw = dict(
        name="t",
        x_train=torch.zeros(4, 3),
        y_train=torch.zeros(4, dtype=torch.long),
        x_test=torch.zeros(2, 3),
        y_test=torch.zeros(2, dtype=torch.long),
        n_classes=3,
    )
    kw.update(bad)
    with pytest.raises(InvalidArgument, match=match):
        Dataset(**kw)


def test_load_dataset_names_close_matches():
    with pytest.raises(UnknownName, match="did you mean digits"):
        load_dataset("digit")
