"""MDS defaults follow their own advice (squared distances) and SMACOF reports its stress."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

from lstheory import InvalidArgument
from lstheory.mds import SMACOF, TrajectoryStore
from lstheory.studies.liao_poggio import ExperimentOptions


def test_experiments_default_to_squared_distances_where_the_metric_allows():
    assert ExperimentOptions().squared is True  # cosine: 2(1 − cos), exact
    assert ExperimentOptions(metric="euclidean").squared is True
    assert ExperimentOptions(metric="angular").squared is False
    assert ExperimentOptions(squared=False).squared is False  # the paper's recipe, on request
    with pytest.raises(InvalidArgument, match="squared"):
        ExperimentOptions(metric="angular", squared=True)


@settings(deadline=None, max_examples=25)
@given(st.integers(4, 20), st.integers(1, 4), st.integers(0, 10_000))
def test_smacof_stress_one_is_the_normalised_raw_stress(n, dim, seed):
    """Oracle: for metric SMACOF, Kruskal stress-1 = √(raw / Σ_{i<j} d_ij²), and the fit never
    ends worse than its classical start."""
    x = np.random.default_rng(seed).standard_normal((n, dim + 1))
    d = cdist(x, x)
    s = SMACOF(2).fit(d)
    denom = (d[np.triu_indices(n, 1)] ** 2).sum()
    assert s.stress_ == pytest.approx(np.sqrt(s.raw_stress_ / denom), rel=1e-9, abs=1e-12)
    assert s.stress_ <= s.init_stress_ + 1e-9
    assert f"{s.stress_:.4f}" in s.summary() and f"{s.init_stress_:.4f}" in repr(s)


def test_smacof_of_a_planar_configuration_has_no_stress():
    x = np.random.default_rng(1).standard_normal((12, 2))
    s = SMACOF(2).fit(cdist(x, x))
    assert s.stress_ < 1e-6 and s.init_stress_ < 1e-6


@pytest.fixture
def store(tmp_path):
    rng = np.random.default_rng(0)
    s = TrajectoryStore.create(tmp_path / "t", {"w": (6, 5)}, dtype="float64")
    w = rng.standard_normal((6, 5))
    for i in range(8):
        w = w + 0.3 * rng.standard_normal((6, 5))
        s.append({"w": w}, run="a" if i < 4 else "b", epoch=i % 4)
    return s


def test_cli_embed_prints_and_writes_the_smacof_stress(cli, store, tmp_path):
    out_json = tmp_path / "e.json"
    code, out, _ = cli("mds", "embed", store.path, "--smacof", "--json", out_json)
    assert code == 0
    d = json.loads(out_json.read_text())
    assert d["squared"] is True  # the recommended setting by default
    st1 = d["smacof_stress"]
    assert set(st1) == {"kruskal_stress_1", "start_kruskal_stress_1", "raw_stress", "n_iter"}
    assert 0 <= st1["kruskal_stress_1"] <= st1["start_kruskal_stress_1"] + 1e-9
    assert f"Kruskal stress-1 {st1['kruskal_stress_1']:.4f}" in out
    assert "classical MDS (cosine, squared)" in out
    code, out, _ = cli("mds", "embed", store.path, "--no-squared", "--json", out_json)
    d = json.loads(out_json.read_text())
    assert code == 0 and d["squared"] is False and d["smacof_stress"] is None
    assert "stress-1" not in out
