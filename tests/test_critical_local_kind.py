"""The singular end points' local kind (``_critical_classify._local_kind``): a curve, an isolated
multiple point, or unresolved — named only on positive evidence (issue 15)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory.algebra import PolynomialSystem
from lstheory.algebra._critical_classify import _local_kind

x, y = sp.symbols("x y")


def _kind(eqs, point):
    S = PolynomialSystem.from_sympy(eqs, [x, y])
    cs = SimpleNamespace(system=S)
    p = np.asarray(point, dtype=complex)
    J = S.compiled.evaluate(p, None)[1]
    _, sv, vh = np.linalg.svd(J)
    rank = int((sv > 1e-8 * max(sv[0], 1e-300)).sum())
    return _local_kind(cs, p, vh[rank:].conj(), None)


@settings(deadline=None, max_examples=20)
@given(t=st.floats(0.2, 3.0), a=st.floats(0.5, 2.0))
def test_points_on_a_line_of_zeros_are_on_a_curve(t, a):
    # (x − a·y)·(x, y): the line x = a·y is a curve of zeros; (a·t, t) lies on it
    assert _kind([x * (x - a * y), y * (x - a * y)], [a * t, t]) == "curve"


@settings(deadline=None, max_examples=20)
@given(k=st.integers(2, 3), c=st.floats(0.3, 3.0))
def test_an_isolated_multiple_root_pulls_back(k, c):
    # (x^4 reads as a curve: Gauss-Newton stalls where 4x³ falls under lstsq's rcond, about
    # 3e-4 from the root, past 0.1 step; _local_kind's docstring says so)
    assert _kind([c * x**k, y + x * y], [0.0, 0.0]) == "isolated"


@settings(deadline=None, max_examples=20)
@given(off=st.floats(0.02, 0.5))
def test_a_point_that_is_no_zero_is_unresolved_not_isolated_nor_a_curve(off):
    # Gauss-Newton from near (off, 0) runs to the root at the origin, far from the point:
    # no evidence of either kind (before: "on a curve", as it converged somewhere far)
    assert _kind([x**2, y], [off, 0.0]) == "unresolved"
