"""lstheory.models: parameter counts against closed forms and published numbers, shapes, seeds,
checkpoints, the training helper."""

import pytest
import torch

from lstheory import InvalidArgument, UnknownName
from lstheory.data import make_synthetic
from lstheory.models import (
    DCNN,
    MODELS,
    build_model,
    count_parameters,
    dcnn_layer_name,
    load_checkpoint,
    save_checkpoint,
    train,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_dcnn_has_liao_poggio_parameter_count():
    net = build_model("dcnn")
    assert count_parameters(net) == 188_810
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 5 and all(c.kernel_size == (3, 3) and c.stride == (2, 2) for c in convs)
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == 4 and not any(b.affine for b in bns)  # no shift, no scale
    assert not any(isinstance(m, (torch.nn.MaxPool2d, torch.nn.AvgPool2d)) for m in net.modules())
    assert dcnn_layer_name(2) == "conv1.weight" and dcnn_layer_name(6) == "conv5.weight"
    assert dict(net.named_parameters())[dcnn_layer_name(2)].shape == (256, 3, 3, 3)
    with pytest.raises(InvalidArgument):
        dcnn_layer_name(1)


@pytest.mark.parametrize("depth, published", [(20, 269_722), (56, 853_018), (110, 1_727_962)])
def test_resnet_counts(depth, published):
    # He et al.'s option-A CIFAR ResNets have these published counts; no-shortcut nets have the
    # same parameters; Li et al.'s option B adds two 1x1 conv + BN projections.
    a = count_parameters(build_model("resnet", depth=depth, shortcut_type="A"))
    assert a == published == count_parameters(build_model(f"resnet{depth}-noshort"))
    proj = (16 * 32 + 2 * 32) + (32 * 64 + 2 * 64)
    assert count_parameters(build_model(f"resnet{depth}")) == published + proj


def _resnet_closed_form(n, k):
    w = [16 * k, 32 * k, 64 * k]
    total = 3 * 9 * w[0] + 2 * w[0]  # stem conv + BN
    c = w[0]
    for p in w:
        for _ in range(n):
            total += 9 * c * p + 2 * p + 9 * p * p + 2 * p  # two convs + two BNs
            if c != p:
                total += c * p + 2 * p  # projection shortcut
            c = p
    return total + w[2] * 10 + 10


@pytest.mark.parametrize("k", [2, 4, 8])
def test_wide_resnet56_counts(k):
    assert count_parameters(build_model(f"wrn56-{k}")) == _resnet_closed_form(9, k)


def test_vgg9_count_closed_form():
    chans = [3, 64, 64, 128, 128, 256, 256, 256]
    conv = sum(9 * a * b + b + 2 * b for a, b in zip(chans, chans[1:]))
    fc = 256 * 4 * 4 * 256 + 256 + 2 * 256 + 256 * 10 + 10
    assert count_parameters(build_model("vgg9")) == conv + fc


@pytest.mark.parametrize(
    "name",
    sorted(
        set(MODELS)
        - {"resnet", "mlp", "wrn56-8", "wrn56-8-noshort", "resnet110", "resnet110-noshort"}
    ),
)
def test_forward_shapes_cifar_and_digits(name):
    for shape in ((3, 32, 32), (1, 8, 8)):
        net = build_model(name, input_shape=shape, n_classes=7).eval()
        with torch.no_grad():
            assert net(torch.randn(2, *shape)).shape == (2, 7)


def test_mlp_and_flat_inputs():
    net = build_model("mlp", input_shape=(40,), hidden=(32, 16))
    assert count_parameters(net) == 40 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10
    assert net(torch.randn(3, 40)).shape == (3, 10)
    with pytest.raises(InvalidArgument, match="input_shape"):
        build_model("dcnn", input_shape=(64,))


def test_noshort_blocks_have_no_shortcut():
    net = build_model("resnet20-noshort")
    assert not any("shortcut" in n for n, _ in net.named_parameters())
    x = torch.randn(2, 3, 32, 32)
    net.eval()
    blk = net.layer1[0]
    with torch.no_grad():
        h = torch.relu(net.bn1(net.conv1(x)))
        plain = torch.relu(blk.bn2(blk.conv2(torch.relu(blk.bn1(blk.conv1(h))))))
        torch.testing.assert_close(blk(h), plain)


def test_seeded_init_is_reproducible_and_leaves_global_rng():
    state = torch.random.get_rng_state()
    a, b = build_model("dcnn", seed=3), build_model("dcnn", seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = build_model("dcnn", seed=4)
    assert not torch.equal(a.conv1.weight, c.conv1.weight)


def test_unknown_model_and_bad_depth():
    with pytest.raises(UnknownName, match="resnet56"):
        build_model("resnet-56")
    with pytest.raises(InvalidArgument, match="6n"):
        build_model("resnet", depth=21)


def test_checkpoint_roundtrip_rebuilds_by_name(tmp_path):
    net = build_model("resnet20-noshort", input_shape=(1, 8, 8), n_classes=4, seed=2)
    net.train()
    net(torch.randn(8, 1, 8, 8))  # move the BN statistics
    path = save_checkpoint(tmp_path / "c.pt", net, epoch=3)
    ck = load_checkpoint(path)
    assert ck.meta["epoch"] == 3 and not ck.model.training
    for (k, v), (k2, v2) in zip(net.state_dict().items(), ck.model.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    # a bare state dict (e.g. Li et al.'s {'state_dict': ...} files) needs model=
    torch.save({"state_dict": net.state_dict(), "epoch": 9}, tmp_path / "bare.t7")
    with pytest.raises(InvalidArgument, match="model"):
        load_checkpoint(tmp_path / "bare.t7")
    again = load_checkpoint(tmp_path / "bare.t7", model=net).model
    assert torch.equal(again.conv1.weight, net.conv1.weight)


def test_train_reduces_loss_and_saves_checkpoints(tmp_path):
    data = make_synthetic("blobs", n_train=128, n_test=64, input_shape=(8,), n_classes=3, seed=0)
    net = build_model("mlp", input_shape=(8,), n_classes=3, hidden=(16,))
    seen = []
    res = train(
        net,
        data,
        "adam",
        lr=0.02,
        epochs=4,
        batch_size=32,
        checkpoint_dir=tmp_path,
        checkpoint_every=2,
        callback=lambda e, m, r: seen.append(e),
    )
    assert seen == [0, 1, 2, 3, 4]
    assert res.history[-1].train_loss < res.history[0].train_loss
    assert res.final.test_acc > 0.8
    assert [p.split("/")[-1] for p in res.checkpoints] == ["epoch_0002.pt", "epoch_0004.pt"]
    with pytest.raises(UnknownName, match="batch_size"):
        train(net, data, batch_sise=3)
    with pytest.raises(InvalidArgument, match="batch_size"):
        train(net, data, batch_size=0)


def test_dcnn_widths_are_configurable():
    assert count_parameters(DCNN(widths=(8, 8, 8, 8), in_channels=1, n_classes=2)) == (
        9 * 8 + 8 + 3 * (9 * 64 + 8) + 9 * 8 * 2 + 2
    )
