"""``lstheory surface`` end to end, and its errors."""

from lstheory.models import build_model, save_checkpoint


def test_surface_cli_trains_plots_and_resumes(cli, tmp_path):
    out, png = tmp_path / "s.h5", tmp_path / "s.png"
    args = [
        "surface",
        "--model",
        "mlp",
        "--data",
        "digits",
        "--train-epochs",
        "1",
        "--x",
        "-1:1:5",
        "--y",
        "-1:1:4",
        "--n-train",
        "100",
        "--out",
        out,
        "--plot",
        png,
        "--threads",
        "1",
    ]
    code, stdout, stderr = cli(*args)
    assert code == 0, stderr
    assert "surface 5x4 (complete)" in stdout and out.exists() and png.exists()
    code, stdout, _ = cli(*args, "--quiet")
    assert code == 0 and "computed 0 points" in stdout


def test_surface_cli_interpolates_between_checkpoints(cli, tmp_path):
    a = build_model("resnet20", input_shape=(1, 8, 8), seed=0)
    b = build_model("resnet20", input_shape=(1, 8, 8), seed=1)
    pa, pb = save_checkpoint(tmp_path / "a.pt", a), save_checkpoint(tmp_path / "b.pt", b)
    code, stdout, stderr = cli(
        "surface",
        "--checkpoint",
        pa,
        "--target",
        pb,
        "--states",
        "--x",
        "0:1:3",
        "--n-train",
        "64",
        "--n-test",
        "32",
        "--out",
        tmp_path / "i.h5",
        "--quiet",
        "--threads",
        "1",
    )
    assert code == 0, stderr
    assert "surface 3 (complete)" in stdout


def test_surface_cli_errors_are_one_line(cli, tmp_path):
    code, _, err = cli("surface", "--model", "resnet-20")
    assert code == 2 and "did you mean" in err
    code, _, err = cli("surface", "--model", "mlp", "--bn", "train")
    assert code == 2 and "--bn" in err and "'recompute'" in err
    code, _, err = cli("surface", "--model", "mlp", "--x", "1:2")
    assert code == 2 and "MIN:MAX:NUM" in err
    code, _, err = cli("surface")
    assert code == 2 and "--model" in err
    code, _, err = cli("surface", "--model", "mlp", "--data", "cifar10", "--data-root", tmp_path)
    assert code == 2 and "--data-root" in err and "never downloads" in err


def test_surface_help_is_whole_shows_defaults_and_every_data_set(cli, capsys):
    import pytest

    from lstheory.cli import main

    with pytest.raises(SystemExit) as e:
        main(["surface", "--help"])
    text = capsys.readouterr().out
    assert e.value.code == 0
    assert "a finished file is returned unchanged." in text  # the description, not cut
    assert "mnist" in text and "FILE.pt" in text and "TensorDataset" in text
    assert "(default: filter)" in text and "{filter,layer" in text  # defaults and choices
    assert "schema" in text and "versions" in text  # the JSON keys, in the epilog


def _tiny(tmp_path):
    """A saved MLP centre and the CLI arguments of a small surface of it."""
    model = build_model("mlp", input_shape=(1, 8, 8), n_classes=10, seed=0)
    ckpt = save_checkpoint(tmp_path / "c.pt", model)
    return model, ["surface", "--checkpoint", ckpt, "--x", "-1:1:4", "--n-train", "64",
                   "--n-test", "32", "--quiet", "--threads", "1"]


def test_fresh_deletes_only_surface_files(cli, tmp_path):
    _, args = _tiny(tmp_path)
    precious = tmp_path / "notes.h5"
    for content in (b"my notes", b"\x89HDF\r\n\x1a\n" + b"\0" * 64):
        precious.write_bytes(content)
        for extra in ((), ("--fresh",)):
            code, _, err = cli(*args, "--out", precious, *extra)
            assert code == 2 and "--out" in err and err.count("\n") == 1, err
            assert precious.read_bytes() == content
    partial = tmp_path / "s.h5.partial"
    partial.write_bytes(b"not a surface")
    code, _, err = cli(*args, "--out", tmp_path / "s.h5", "--fresh")
    assert code == 2 and partial.read_bytes() == b"not a surface"


def test_a_partial_file_in_use_is_refused_in_one_line(cli, tmp_path):
    import fcntl

    from lstheory.data import load_dataset
    from lstheory.surface import Grid, compute_surface, random_direction

    model, args = _tiny(tmp_path)
    out = tmp_path / "s.h5"
    code, _, err = cli(*args, "--out", out)  # a complete file to start from
    assert code == 0, err
    data = load_dataset("digits")
    d = random_direction(model, seed=0, stream="x")
    surf = compute_surface(model, data, d, Grid.linspace(-1, 1, 6), path=tmp_path / "p.h5",
                           n_train=64, n_test=32, stop_after=2)
    partial = tmp_path / "p.h5.partial"
    assert not surf.complete and partial.exists()
    with open(tmp_path / "p.h5.lock", "a") as other_writer:  # another run holds the lock
        fcntl.flock(other_writer.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        for fresh in (False, True):
            try:
                compute_surface(model, data, d, Grid.linspace(-1, 1, 6), path=tmp_path / "p.h5",
                                n_train=64, n_test=32, fresh=fresh)
            except ValueError as e:
                assert "in use" in str(e) and "\n" not in str(e)
            else:
                raise AssertionError("a second writer was let in")
    resumed = compute_surface(model, data, d, Grid.linspace(-1, 1, 6), path=tmp_path / "p.h5",
                              n_train=64, n_test=32)
    assert resumed.complete and resumed.n_evaluated == 4 and not partial.exists()
    assert not (tmp_path / "p.h5.lock").exists()  # removed when the run ends


def test_the_partial_file_stays_readable_while_a_run_holds_its_lock(tmp_path):
    import h5py

    from lstheory.data import load_dataset
    from lstheory.surface import Grid, compute_surface, random_direction
    from lstheory.surface._surface import _RunLock

    model, _ = _tiny(tmp_path)
    d = random_direction(model, seed=0, stream="x")
    compute_surface(model, load_dataset("digits"), d, Grid.linspace(-1, 1, 6),
                    path=tmp_path / "p.h5", n_train=64, n_test=32, stop_after=2)
    with _RunLock() as lock:
        lock.acquire(tmp_path / "p.h5")
        with h5py.File(tmp_path / "p.h5.partial", "r") as f:  # HDF5's own locking: unaffected
            assert int(f["done"][...].sum()) == 2


def test_surface_cli_shards_merge_to_the_serial_surface_with_its_figure(cli, tmp_path):
    """--shard i/n runs, then ``surface merge OUT SHARD...  --plot``: the serial run's values
    point for point, and the merged surface's figure."""
    import numpy as np

    from lstheory.data import load_dataset
    from lstheory.surface import load_surface

    d = load_dataset("synthetic")
    net = build_model("mlp", input_shape=d.input_shape, n_classes=d.n_classes, seed=0)
    ckpt = save_checkpoint(tmp_path / "c.pt", net)
    base = ["surface", "--checkpoint", ckpt, "--data", "synthetic", "--x", "-1:1:3", "--y",
            "-1:1:2", "--n-train", "16", "--n-test", "8", "--points-per-pass", "1",
            "--threads", "1", "--quiet"]
    assert cli(*base, "--out", tmp_path / "serial.h5")[0] == 0
    for i in range(2):
        code, _, err = cli(*base, "--out", tmp_path / "s.h5", "--shard", f"{i}/2")
        assert code == 0, err
    shards = [tmp_path / f"s.shard-{i}-of-2.h5" for i in range(2)]
    code, out, err = cli("surface", "merge", tmp_path / "m.h5", *shards, "--plot",
                         tmp_path / "m.png", "--quiet")
    assert code == 0 and "plot:" in out, err
    merged, serial = load_surface(tmp_path / "m.h5"), load_surface(tmp_path / "serial.h5")
    assert merged.complete and (tmp_path / "m.png").stat().st_size > 0
    for m in ("train_loss", "test_acc"):
        np.testing.assert_array_equal(merged[m], serial[m])
    code, out, _ = cli("surface", "merge", tmp_path / "half.h5", shards[0], "--quiet")
    assert code == 3 and "missing" in out  # one shard alone: not a finished surface
