"""Multiprojective coordinates: the variables in m groups, each homogenised by its own coordinate.

A partition of the variables ``x`` into groups ``x_1 … x_m`` (sizes ``n_g``) puts a system that
has degree ``d_ig`` in group g (the degree matrix) into ``P^{n_1} × … × P^{n_m}``: each group
gets a homogenising coordinate ``h_g``, and each term's exponent of ``h_g`` makes up its
equation's degree in that group. Coordinates are laid out ``z = (h_1, …, h_m, x_1, …, x_n)``
(the variables in their own order), so one group is exactly the one-chart layout
``z = (z_0, x)``. Each group has its own random affine chart ``a_g·(h_g, x_g) = 1``: ``n + m``
unknowns, ``N + m`` equations.

Why (issue 15): a path of a multi-homogeneous homotopy that diverges in one group only goes to
a point at infinity of *that* factor, ``h_g → 0`` with the other groups finite. In one chart of
``P^n`` that point lies on a much more degenerate locus: on the [2,2,1] critical example the
chart Jacobian's smallest singular value at t = 7.6e-5 was 7.4e-11 in ``P^3`` against 1.8e-5 in
``P^1 × P^2`` (measured, issue 15). HomotopyContinuation.jl tracks such homotopies in the product
of projective spaces in the same way (one affine chart per factor, the valuation per factor).

What reads "z_0" in one chart reads per group here: the valuation watch (a path goes to
infinity when some ``h_g → 0``), the resolution test of Newton at t = 0 and the Cauchy
endgame's at-infinity test (on the group with the smallest ``|h_g|/‖z_g‖``), the row scaling
of the condition number (a product over the groups), and the classification (``x0`` the
smallest ``|h_g|/‖z_g‖₂``; points ``x_g = z_g/h_g``; one normalisation row per group).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["Groups"]


class Groups:
    """A partition of the n variables into m groups (tuples of variable indices) and the
    multiprojective layout ``z = (h_1, …, h_m, x)`` (:mod:`.groups`)."""

    def __init__(self, groups, n: int):
        self.groups = tuple(tuple(int(v) for v in g) for g in groups)
        self.m, self.n = len(self.groups), int(n)
        flat = sorted(v for g in self.groups for v in g)
        if flat != list(range(self.n)) or any(len(g) == 0 for g in self.groups):
            raise ValueError(f"groups {self.groups} are not a partition of range({self.n})")
        self.var_group = np.empty(self.n, dtype=np.int64)
        for g, idx in enumerate(self.groups):
            self.var_group[list(idx)] = g
        #: the group of each coordinate of z (the h_g first)
        self.coord_group = np.concatenate([np.arange(self.m), self.var_group])
        self._torch: dict = {}

    @classmethod
    def one(cls, n: int) -> Groups:
        """All variables in one group: the one-chart layout ``z = (z_0, x)``."""
        return cls([tuple(range(n))], n)

    @property
    def nz(self) -> int:
        return self.n + self.m

    def label(self) -> str:
        """``P^2 × P^1``: the space the homotopy is tracked in."""
        return " × ".join(f"P^{len(g)}" for g in self.groups)

    # ------------------------------------------------------------------ homogenisation
    def degree_matrix(self, compiled) -> np.ndarray:
        """``D[i, g]``: the degree of equation i in the variables of group g (one group: the
        declared degrees)."""
        if self.m == 1:
            return np.asarray(compiled.degrees, dtype=np.int64)[:, None]
        per_group = np.stack([compiled.term_exp[:, list(g)].sum(1) for g in self.groups], 1)
        D = np.zeros((compiled.n_equations, self.m), dtype=np.int64)
        np.maximum.at(D, compiled.term_eq, per_group)
        return D

    def homogeneous_terms(self, compiled, D=None) -> np.ndarray:
        """Exponents over z of the homogenised terms ``[T, m + n]``: h_g makes up each term's
        degree in group g."""
        D = self.degree_matrix(compiled) if D is None else D
        per_group = np.stack([compiled.term_exp[:, list(g)].sum(1) for g in self.groups], 1)
        return np.concatenate([D[compiled.term_eq] - per_group, compiled.term_exp], 1)

    def lift(self, X, chart) -> np.ndarray:
        """Affine points ``X[B, n]`` → z on the charts ``a_g·z_g = 1`` (``chart[m + n]``)."""
        z = np.concatenate([np.ones((len(X), self.m)), X], 1)
        return z / self.group_sum(z * chart)[:, self.coord_group]

    # ------------------------------------------------------------------ numpy, per group
    def group_sum(self, v) -> np.ndarray:
        """Σ over each group's coordinates of ``v[B, nz]``: ``[B, m]``."""
        out = np.zeros((len(v), self.m), dtype=v.dtype)
        np.add.at(out.T, self.coord_group, v.T)
        return out

    def norms2(self, z) -> np.ndarray:
        """‖z_g‖₂ per group: ``[B, m]``."""
        return np.sqrt(self.group_sum(np.abs(z) ** 2))

    def normalise(self, z) -> np.ndarray:
        """z with each group scaled to ‖z_g‖₂ = 1."""
        with np.errstate(all="ignore"):
            return z / self.norms2(z)[:, self.coord_group]

    def x0(self, z):
        """The smallest ``|h_g|/‖z_g‖₂`` and its group: ``([B], [B])`` (one group:
        |z_0|/‖z‖₂)."""
        with np.errstate(all="ignore"):
            r = np.abs(z[:, : self.m]) / self.norms2(z)
        g = np.argmin(np.where(np.isnan(r), np.inf, r), 1)
        return r[np.arange(len(z)), g], g

    def affine(self, z) -> np.ndarray:
        """The affine points ``x_g = z_g / h_g``."""
        with np.errstate(all="ignore"):
            return z[:, self.m :] / z[:, self.var_group]

    def normalisation_rows(self, z) -> np.ndarray:
        """``[B, m, nz]``: row g is z̄ on group g's coordinates, 0 elsewhere (the tangent
        space of the product of spheres ‖z_g‖₂ = 1)."""
        mask = self.coord_group[None, :] == np.arange(self.m)[:, None]
        return mask[None] * z.conj()[:, None, :]

    def max_powers(self, z, D) -> np.ndarray:
        """``Π_g ‖z_g‖∞^{D_ig}`` per point and equation ``[B, N]``, and the column scales
        ``‖z_{g(j)}‖∞`` ``[B, nz]``: the row and column scaling of the scaled projective
        condition number (one group: ‖z‖∞^{d_i} and ‖z‖∞)."""
        a = np.abs(z)
        gn = np.zeros((len(z), self.m))
        np.maximum.at(gn.T, self.coord_group, a.T)
        with np.errstate(all="ignore"):
            rows = np.exp(np.log(gn) @ D.T.astype(float))
        return rows, gn[:, self.coord_group]

    # ------------------------------------------------------------------ torch
    def tensors(self, device):
        """(coordinate groups ``[nz]`` long, group masks ``[m, nz]`` bool) on ``device``."""
        key = str(device)
        if key not in self._torch:
            # cached: normal tensors even under the drivers' inference mode (see _tables)
            with torch.inference_mode(False):
                cg = torch.as_tensor(self.coord_group, dtype=torch.long, device=device)
                mask = cg.unsqueeze(0) == torch.arange(self.m, device=device).unsqueeze(1)
            self._torch[key] = (cg, mask)
        return self._torch[key]
