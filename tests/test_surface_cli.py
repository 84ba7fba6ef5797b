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
