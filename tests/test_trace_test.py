"""The trace test: complete solution sets pass, a set less one solution fails (issue 15)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory import InvalidArgument
from lstheory.algebra import (
    ParameterHomotopy,
    PathStatus,
    generic_rank,
    network_system,
    offset_family,
    random_dense,
    solve,
    square_up,
    trace_test,
)
from lstheory.algebra._trace import TRACE_TOL
from lstheory.nets import MLP

pytestmark = pytest.mark.usefixtures("module_one_thread")


def _complete_offset_set(degrees, seed):
    """The offset family F(x) − c of a random dense system, and its complete solution set at a
    random complex c0 by the total-degree homotopy (Bezout's count: every path regular)."""
    F = random_dense(degrees, seed=seed)
    fam = offset_family(F)
    rng = np.random.default_rng([seed, 99])
    c0 = rng.standard_normal(F.n_variables) + 1j * rng.standard_normal(F.n_variables)
    rs = solve(fam.specialize(c0), seed=seed, start="total-degree")
    keep = np.array([s == PathStatus.FINITE for s in rs.solution_status])
    S = rs.solutions[keep]
    assert len(S) == F.bezout_number  # the set is known complete
    return fam, S, c0


def _check(fam, S, p0, seed):
    full = trace_test(fam, S, p0, seed=seed)
    print("complete:", full)
    assert full.passed is True, full
    assert full.residual <= TRACE_TOL * full.scale
    assert full.n_solutions == len(S) and full.n_witnesses >= 1
    assert "passed" in full.message and full.to_dict()["passed"] is True
    drop = seed % len(S)
    less = trace_test(fam, np.delete(S, drop, axis=0), p0, seed=seed)
    print("less one:", less)
    assert less.passed is False, less
    assert "lower bound" in less.message
    return full, less


def test_dense_2x2_complete_passes_and_one_removed_fails():
    fam, S, c0 = _complete_offset_set([2, 2], seed=0)
    _check(fam, S, c0, seed=0)


@pytest.mark.slow
@settings(deadline=None, max_examples=6)
@given(degrees=st.sampled_from([[2, 2], [2, 3], [1, 2, 2], [3, 1], [2, 2, 2]]),
       seed=st.integers(0, 10_000))
def test_dense_systems_complete_pass_incomplete_fail(degrees, seed):
    fam, S, c0 = _complete_offset_set(degrees, seed)
    _check(fam, S, c0, seed)


@pytest.mark.slow
@pytest.mark.parametrize("widths, bias", [([2, 2, 1], False), ([3, 2, 1], False)])
def test_net_zero_error_system(widths, bias):
    """The data family of a zero-error system: the total-degree fit's count is complete."""
    fam = MLP(widths, "polynomial", coeffs=(0.0, 0.0, 1.0), bias=bias)
    r = generic_rank(network_system(fam, n_data=fam.n_params), seed=0)
    S = square_up(network_system(fam, n_data=r), seed=0).system
    ph = ParameterHomotopy(S, seed=0).fit()
    full, _ = _check(S, ph.start_solutions_, ph.start_parameters_, seed=0)
    # only the targets (offsets) move on the line: the curve's degree stays low
    assert full.info["line_parameters"] < len(S.parameters)


@pytest.mark.slow
def test_solve_monodromy_reports_the_trace_test():
    F = random_dense([2, 2], seed=3)
    rs = solve(F, seed=0, start="monodromy", trace_test=True)
    tt = rs.info["start"]["trace_test"]
    assert tt["passed"] is (rs.info["start"]["generic_root_count"] == 4), tt
    rs = solve(F, seed=0, start="monodromy")
    assert rs.info["start"]["trace_test"]["passed"] is None
    assert "lower bound" in rs.info["start"]["trace_test"]["message"]


def test_bad_input():
    fam, S, c0 = _complete_offset_set([1, 1], seed=0)
    with pytest.raises(InvalidArgument, match="solutions"):
        trace_test(fam, S[:, :1], c0)
    with pytest.raises(InvalidArgument, match="parameters"):
        trace_test(fam, S, c0[:1])
    with pytest.raises(InvalidArgument, match="tol"):
        trace_test(fam, S, c0, tol=2.0)
    with pytest.raises(InvalidArgument, match="system"):
        trace_test(random_dense([1, 1], seed=0), S, c0)
