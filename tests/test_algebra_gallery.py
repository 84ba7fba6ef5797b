"""Small systems of each shape on both backends: phc solves some without a homotopy (its linear,
univariate and direct solvers write no root count), the torch tracker meets far roots and roots
at infinity; both must agree with the known counts."""

import numpy as np
import pytest

from lstheory.algebra import SHAPES, PathStatus, phc_available, shape_system, solve
from lstheory.algebra._phc import INSTALL_HINT

needs_phc = pytest.mark.skipif(not phc_available(), reason=f"phc missing: {INSTALL_HINT}")


def _counts(r):
    return r.n_finite, r.n_regular, r.n_real


@pytest.mark.parametrize("name", SHAPES)
def test_torch_counts(name):
    e = shape_system(name)
    # the total-degree homotopy: its paths at infinity are part of what is checked
    r = solve(e.system, seed=0, start="total-degree")
    assert r.n_finite == r.n_regular == e.finite and r.n_failed == 0
    assert r.n_at_infinity == e.system.bezout_number - e.finite
    if e.real is not None:
        assert r.n_real == e.real
    fin = np.array([s == PathStatus.FINITE for s in r.status])
    assert np.all(r.residual[fin] < 1e-10)


@needs_phc
@pytest.mark.parametrize("name", SHAPES)
def test_phc_agrees_with_torch(name):
    e = shape_system(name)
    p, t = solve(e.system, backend="phc", seed=0), solve(e.system, seed=0)
    assert _counts(p) == _counts(t) == (e.finite, e.finite, e.real if e.real is not None
                                        else t.n_real)
    assert p.n_failed == 0 or p.info["phc_route"] == "homotopy"
    # the same roots, compared coordinatewise on each root's own scale
    rel = (np.abs(p.solutions[:, None, :] - t.solutions[None, :, :])
           / np.maximum(1.0, np.abs(t.solutions))[None])
    assert rel.max(-1).min(1).max() < 1e-8


@needs_phc
@pytest.mark.parametrize("name, route", [("linear", "linear solver"),
                                         ("one-variable", "univariate solver"),
                                         ("triangular-far", "direct solve"),
                                         ("dense", "homotopy")])
def test_phc_route_is_recorded(name, route):
    """issue 15: ``x·y − 1 = 0, x − 1000 = 0`` made the adapter exit 2 ("states no root count")
    although phc solved it directly."""
    p = solve(shape_system(name).system, backend="phc", seed=0)
    assert p.info["phc_route"] == route
    if route != "homotopy":
        assert p.n_paths == p.n_finite and "no homotopy" in p.info["note"]


def test_unknown_shape_lists_the_valid_ones():
    from lstheory import UnknownName

    with pytest.raises(UnknownName, match="triangular"):
        shape_system("triangle")
