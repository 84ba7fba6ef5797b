"""The commands are shells over library jobs (issue 14): ``lstheory surface`` is
``surface._job.run_job(SurfaceJob(...))``, ``lstheory mds embed`` is ``mds._job.embed_store``.
The same numbers come out by both routes; the jobs check their fields before any work, naming
them; the vocabulary's synonyms (``--loss ce``, ``--bn eval``) are the same computation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory._errors import InvalidArgument, UnknownName
from lstheory.commands._common import as_flags, name_list
from lstheory.data import load_dataset
from lstheory.models import build_model, save_checkpoint
from lstheory.surface import load_surface
from lstheory.surface._job import MAX_EPOCHS, SurfaceJob, run_job

BASE = dict(data="synthetic", x="-1:1:3", n_train=16, n_test=8)


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    d = load_dataset("synthetic")
    net = build_model("mlp", input_shape=d.input_shape, n_classes=d.n_classes, seed=0)
    return str(save_checkpoint(tmp_path_factory.mktemp("c") / "mlp.pt", net))


# ------------------------------------------------------------------------ the job's fields
INT_FIELDS = ("train_epochs", "train_batch_size", "batch_size", "n_train", "n_test", "threads")


@settings(deadline=None, max_examples=60)
@given(field=st.sampled_from(INT_FIELDS), value=st.integers(max_value=0))
def test_a_job_refuses_counts_below_one_naming_the_field(field, value):
    with pytest.raises(InvalidArgument) as e:
        SurfaceJob(model="mlp", **{field: value})
    assert e.value.name == field and str(e.value).startswith(f"{field}=")


@settings(deadline=None, max_examples=40)
@given(lr=st.one_of(st.floats(max_value=0), st.floats(min_value=1e6 + 1),
                    st.sampled_from([float("nan"), float("inf")])))
def test_a_job_refuses_learning_rates_outside_its_range(lr):
    with pytest.raises(InvalidArgument) as e:
        SurfaceJob(model="mlp", lr=lr)
    assert e.value.name == "lr"


@pytest.mark.parametrize("fields,name", [
    ({}, "model"),  # neither a model nor a checkpoint
    ({"model": "mlp", "target_y": "b.pt"}, "y"),
    ({"model": "mlp", "train_epochs": MAX_EPOCHS + 1}, "train_epochs"),
    ({"model": "mlp", "x": "1:2"}, "x"),
    ({"model": "mlp", "x": "nan:1:3"}, "x"),
    ({"model": "mlp", "x": "-1:1:5000", "y": "-1:1:5000"}, "y"),
    ({"model": "mlp", "points_per_pass": "0"}, "points_per_pass"),
    ({"model": "mlp", "loss": "square"}, "loss"),  # a _vocab loss a surface does not offer
    ({"model": "mlp", "bn": "train"}, "bn"),
    ({"model": "mlp", "precision": "half"}, "precision"),
])
def test_a_job_is_checked_when_made(fields, name):
    with pytest.raises(InvalidArgument) as e:
        SurfaceJob(**fields)
    assert e.value.flag == name


@pytest.mark.parametrize("given_,canonical", [("cross_entropy", "cross-entropy"),
                                              ("ce", "cross-entropy"),
                                              ("cross-entropy", "cross-entropy"), ("mse", "mse")])
def test_loss_spellings_normalise_to_the_vocabulary(given_, canonical):
    assert SurfaceJob(model="mlp", loss=given_).loss == canonical


@pytest.mark.parametrize("given_,canonical", [("eval", "keep"), ("keep", "keep"),
                                              ("recompute", "recompute")])
def test_batch_norm_spellings_normalise_to_the_vocabulary(given_, canonical):
    assert SurfaceJob(model="mlp", bn=given_).bn == canonical


def test_the_default_grid_follows_budget_and_target():
    assert SurfaceJob(model="mlp", budget="fast").grid.shape == (11,)
    g = SurfaceJob(checkpoint="a.pt", target="b.pt").grid
    assert g.shape == (51,) and g.xs[0] == -0.5 and g.xs[-1] == 1.5
    assert SurfaceJob(model="mlp", x=(-2, 2, 4), y="-1:1:3").grid.shape == (4, 3)


# ------------------------------------------------------------------------ both routes agree
def test_the_command_and_the_job_give_the_same_surface(cli, centre, tmp_path):
    args = ["surface", "--checkpoint", centre, "--data", "synthetic", "--x", "-1:1:3",
            "--y", "-0.5:0.5:2", "--n-train", "16", "--n-test", "8", "--quiet"]
    code, _, err = cli(*args, "--out", tmp_path / "cli.h5", "--json", tmp_path / "s.json")
    assert code == 0, err
    run = run_job(SurfaceJob(checkpoint=centre, y="-0.5:0.5:2", **BASE),
                  path=tmp_path / "api.h5")
    a, b = load_surface(tmp_path / "cli.h5"), run.surface
    for m in ("train_loss", "test_loss", "train_acc"):
        np.testing.assert_array_equal(a[m], b[m])
    got = json.loads((tmp_path / "s.json").read_text())
    want = run.to_dict()
    assert got["metrics"] == want["metrics"] and got["model"] == want["model"]
    assert got["surface"]["shape"] == [3, 2] and got["run"]["options"]["loss"] == "cross-entropy"


@pytest.mark.parametrize("first,again", [
    (("--loss", "cross_entropy"), ("--loss", "ce")),
    (("--loss", "cross-entropy", "--bn", "keep"), ("--bn", "eval")),
])
def test_synonyms_are_the_same_computation(cli, centre, tmp_path, first, again):
    """A file made with one spelling is finished, not recomputed or refused, by the other
    (resuming compares the provenance, loss and batch-norm policy included)."""
    args = ["surface", "--checkpoint", centre, "--data", "synthetic", "--x", "-1:1:3",
            "--n-train", "16", "--n-test", "8", "--quiet", "--out", tmp_path / "s.h5"]
    code, out, err = cli(*args, *first)
    assert code == 0 and "computed 3 points" in out, err
    code, out, err = cli(*args, *again, "--json", tmp_path / "s.json")
    assert code == 0 and "computed 0 points" in out, err
    options = json.loads((tmp_path / "s.json").read_text())["run"]["options"]
    assert (options["loss"], options["bn"]) == ("cross-entropy", "keep")  # canonical names


def test_precision_bfloat16_from_the_command_stays_within_the_stated_bound(cli, centre, tmp_path):
    from lstheory.surface._evaluate import BFLOAT16_LOSS_TOL

    args = ["surface", "--checkpoint", centre, "--data", "synthetic", "--x", "-1:1:5",
            "--y", "-1:1:3", "--n-train", "16", "--n-test", "8", "--quiet"]
    code, _, err = cli(*args, "--out", tmp_path / "full.h5")
    assert code == 0, err
    code, _, err = cli(*args, "--precision", "bfloat16", "--out", tmp_path / "bf16.h5")
    assert code == 0, err
    full, bf16 = load_surface(tmp_path / "full.h5"), load_surface(tmp_path / "bf16.h5")
    assert bf16.provenance["precision"] == "bfloat16"  # the flag reached the engine
    assert full.provenance.get("precision", "full") == "full"
    for m in ("train_loss", "test_loss"):
        assert np.all(np.abs(bf16[m] - full[m]) <= BFLOAT16_LOSS_TOL * (1 + np.abs(full[m])))


def test_a_job_limits_threads_while_it_runs_and_restores_them(centre, tmp_path):
    seen = []

    def loss(outputs, targets):  # tried once on the centre before the surface is computed
        seen.append(torch.get_num_threads())
        return torch.nn.functional.cross_entropy(outputs, targets, reduction="none")

    before = torch.get_num_threads()
    want = 2 if before == 1 else 1
    run_job(SurfaceJob(checkpoint=centre, loss=loss, threads=want, **BASE),
            path=tmp_path / "t.h5")
    assert seen and set(seen) == {want} and torch.get_num_threads() == before


def test_the_job_says_what_a_person_reads(tmp_path):
    lines = []
    run = run_job(SurfaceJob(model="mlp", train_epochs=1, train_batch_size=256,
                             save_model=str(tmp_path / "m.pt"),
                             **BASE), path=tmp_path / "t.h5", say=lines.append)
    assert lines[0].startswith("trained mlp:") and "--checkpoint" in lines[1]
    assert run.source["source"] == "trained" and (tmp_path / "m.pt").exists()


# ------------------------------------------------------------------------ helpers of _common
def test_as_flags_names_a_field_by_its_flag_and_leaves_others():
    with pytest.raises(InvalidArgument) as e, as_flags({"train_epochs"}):
        SurfaceJob(model="mlp", train_epochs=0)
    assert e.value.flag == "--train-epochs" and "--train-epochs=0" in str(e.value)
    with pytest.raises(InvalidArgument) as e, as_flags({"train_epochs"}):
        raise InvalidArgument("seeds", 0, "a positive integer", flag="--seeds")
    assert e.value.flag == "--seeds"


def test_name_list_splits_checks_and_suggests():
    assert name_list(" a, b ,", "--models", ("a", "b")) == ["a", "b"]
    with pytest.raises(InvalidArgument, match="--models"):
        name_list(" , ", "--models", ("a",))
    with pytest.raises(InvalidArgument, match="did you mean"):
        name_list("a,bb", "--models", ("a", "b"))


# ------------------------------------------------------------------------ mds embed
@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from lstheory.mds import TrajectoryStore

    s = TrajectoryStore.create(tmp_path_factory.mktemp("st") / "run", {"w": (4, 5), "b": (3,)})
    rng = np.random.default_rng(0)
    for epoch in range(7):
        s.append({"w": rng.normal(size=(4, 5)), "b": rng.normal(size=3)}, run="main",
                 epoch=epoch, train_error=0.1 * epoch)
    return s


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "angular"])
def test_embed_store_is_classical_mds_of_the_dissimilarity(store, metric):
    from lstheory.mds import ClassicalMDS, dissimilarity
    from lstheory.mds._job import embed_store

    emb = embed_store(store.path, metric=metric, layers=["w"])
    assert emb.squared == (metric != "angular")  # the recommended default
    d = dissimilarity(store, metric, layers=["w"])
    want = ClassicalMDS(2, squared=emb.squared).fit(
        d.squared_distances if emb.squared else d.values)
    np.testing.assert_allclose(emb.embedding, want.embedding_)
    out = emb.to_dict()
    assert out["layers"] == ["w"] and len(out["records"]) == 7 and out["smacof_stress"] is None


@pytest.mark.parametrize("metric", ["cosine", "angular"])
def test_embed_store_solvers_agree_and_auto_picks_by_size(tmp_path, metric, monkeypatch):
    """Lanczos and dense give one embedding (up to each axis' sign) and the same top
    eigenvalues; ``auto`` is dense below LANCZOS_FROM checkpoints and Lanczos from there. (40
    checkpoints: ClassicalMDS's Lanczos route solves densely below 32.)"""
    from lstheory.mds import TrajectoryStore, _job
    from lstheory.mds._job import embed_store

    store = TrajectoryStore.create(tmp_path / "walk", {"w": (6, 5)})
    rng = np.random.default_rng(1)
    w = rng.normal(size=(6, 5))
    for epoch in range(40):
        w = w + 0.3 * rng.normal(size=w.shape)
        store.append({"w": w}, run="main", epoch=epoch)

    dense = embed_store(store.path, metric=metric, solver="dense")
    lanczos = embed_store(store.path, metric=metric, solver="lanczos")
    assert (dense.solver, lanczos.solver) == ("dense", "lanczos")
    assert lanczos.to_dict()["solver"] == "lanczos"
    sign = np.sign((dense.embedding * lanczos.embedding).sum(0))
    np.testing.assert_allclose(lanczos.embedding * sign, dense.embedding, atol=1e-8)
    np.testing.assert_allclose(lanczos.mds.eigenvalues_[:2], dense.mds.eigenvalues_[:2],
                               rtol=1e-9)
    assert embed_store(store.path, metric=metric).solver == "dense"  # 40 < LANCZOS_FROM
    monkeypatch.setattr(_job, "LANCZOS_FROM", len(store))
    assert embed_store(store.path, metric=metric).solver == "lanczos"
    with pytest.raises(InvalidArgument, match="solver=arpack"):
        embed_store(store.path, solver="arpack")


def test_mds_embed_command_writes_the_job_s_dict(cli, store, tmp_path):
    from lstheory.mds._job import embed_store

    code, out, err = cli("mds", "embed", store.path, "--smacof", "--json", tmp_path / "e.json",
                         "--plot", tmp_path / "e.png", "--quiet")
    assert code == 0 and "stress" in out, err
    got = json.loads((tmp_path / "e.json").read_text())
    want = embed_store(store.path, smacof=True).to_dict()
    np.testing.assert_allclose(got["embedding"], want["embedding"])
    assert got["smacof_stress"] == pytest.approx(want["smacof_stress"])
    assert got["run"]["options"]["squared"] is True and (tmp_path / "e.png").stat().st_size
    with pytest.raises(InvalidArgument, match="at least 3"):
        from lstheory.mds import TrajectoryStore

        small = TrajectoryStore.create(tmp_path / "small", {"w": (2,)})
        small.append({"w": np.ones(2)}, run="r", epoch=0)
        embed_store(small)


def test_unknown_loss_lists_the_canonical_names():
    with pytest.raises(UnknownName) as e:
        SurfaceJob(model="mlp", loss="hinge")
    assert "cross-entropy" in str(e.value) and "MODULE:FUNCTION" in str(e.value)


def test_no_command_sets_torch_threads_itself():
    """Commands run their work under lstheory._runtime.limit_threads (restored after), never
    torch.set_num_threads, whose count is process-global."""
    import ast
    from pathlib import Path

    import lstheory.commands

    folder = Path(lstheory.commands.__file__).parent
    calls = [f"{p.name}:{n.lineno}" for p in [*folder.glob("*.py"), folder.parent / "cli.py"]
             for n in ast.walk(ast.parse(p.read_text()))
             if isinstance(n, ast.Attribute) and n.attr == "set_num_threads"]
    assert not calls, calls
