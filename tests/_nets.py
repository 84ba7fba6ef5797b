"""Shared test builder: the zero-error system of a polynomial net on random data, squared up
(the systems of ``benchmarks/bench_roots.py --sections nets``)."""

import numpy as np

from lstheory.algebra import data_parameters, generic_rank, network_system, square_up
from lstheory.nets import MLP


def zero_error_system(widths, coeffs=(0.0, 0.0, 1.0), *, bias=False, data_seed=0):
    """The square zero-error system of ``MLP(widths, "polynomial", coeffs, bias)`` on as many
    standard-normal data points as its generic rank, gauge fixed by ``square_up`` (seed 0)."""
    fam = MLP(list(widths), "polynomial", coeffs=tuple(coeffs), bias=bias)
    r = generic_rank(network_system(fam, n_data=fam.n_params), seed=0)
    sq = square_up(network_system(fam, n_data=r), seed=0)
    rng = np.random.default_rng(data_seed)
    return sq.system.specialize(data_parameters(rng.standard_normal((r, widths[0])),
                                                rng.standard_normal((r, widths[-1]))))
