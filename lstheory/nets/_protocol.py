"""What a family is: the members every family has, and the optional capabilities some declare.

A *family* is a map ``θ ↦ L(θ)`` on flat parameter vectors, evaluated for K vectors at once
(``theta[K, P] → losses[K]``). :class:`~lstheory.nets.MLP`, :class:`~lstheory.nets.ModuleFamily`,
:class:`~lstheory.nets.L1Penalty` and :class:`~lstheory.nets.Ridge` are families; so is any object
with the members of :class:`Family` (the path methods need no more).

Everything beyond that core is a *capability*, named by a string and read with
:func:`capabilities`; the engines ask for a capability instead of probing attributes one by one:

``chunked``
    ``chunk_size(n_data, itemsize) -> int``: how many parameter vectors to evaluate per call.
    Used by :func:`lstheory.paths.batched_loss` (256 per call without it) and by the
    interval certificate.
``polynomial-loss``
    ``loss_degree`` is an int: the loss is a polynomial of that degree in θ, so along a
    polynomial piece it is a polynomial in t of known degree. Gives the ``exact-polynomial``
    certificate (:func:`lstheory.paths.certificate_kind`).
``layered``
    the layout of a fully connected net: ``unflatten(theta) -> {"W1": ..., "b1": ...}``,
    ``activation`` (an :class:`~lstheory.nets.Activation`, whose ``name`` and ``degree`` the
    certificates read), ``depth``, ``bias`` and ``loss_kind``. What the ``exact-piecewise``
    (two-layer ReLU kinks) and ``interval-bound`` certificates push through the net.
``wrapped``
    ``base``: the family this one adds a penalty to (:class:`~lstheory.nets.L1Penalty`,
    :class:`~lstheory.nets.Ridge`). Its penalty is outside the net's interval form, so a wrapped
    family is not given the ``interval-bound`` certificate.
``kinks``
    ``kink_coordinates``: indices j of parameters whose ``|θ_j|`` enters the loss (an L1
    penalty); the ``exact-piecewise`` certificate adds the roots of ``θ_j(t)`` to its breakpoints.
``residuals``
    ``residuals(theta, data) -> [K, R]`` with ``loss = Σ r² / N`` (square loss): a least-squares
    family, for Gauss–Newton steps. Not declared by a family with ``kinks`` (its ``|θ_j|`` terms
    are no residuals; :class:`~lstheory.nets.L1Penalty` forwards its base's ``residuals``, which
    leave the penalty out).

Examples
--------
>>> from lstheory.nets import MLP, Ridge, capabilities
>>> sorted(capabilities(MLP([2, 3, 1], "relu")))
['chunked', 'layered', 'residuals']
>>> sorted(capabilities(Ridge(MLP([2, 3, 1], "quadratic"), 0.1)))
['chunked', 'layered', 'polynomial-loss', 'residuals', 'wrapped']
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

__all__ = ["CAPABILITIES", "Family", "capabilities"]

CAPABILITIES = ("chunked", "polynomial-loss", "layered", "wrapped", "kinks", "residuals")
_LAYERED = ("unflatten", "depth", "bias", "loss_kind")


@runtime_checkable
class Family(Protocol):
    """The members every family has.

    ``n_params``: P, the length of one parameter vector. ``loss(theta[K, P], data) -> [K]``,
    differentiable. ``loss_and_grad(theta[K, P], data) -> ([K], [K, P])``. ``loss_degree``: the
    degree of the loss in θ, or None when it is not a polynomial. ``data`` is a
    :class:`~lstheory.nets.Data` or a pair ``(X, Y)``.
    """

    @property
    def n_params(self) -> int: ...

    @property
    def loss_degree(self) -> int | None: ...

    def loss(self, theta: torch.Tensor, data) -> torch.Tensor: ...

    def loss_and_grad(self, theta: torch.Tensor, data) -> tuple[torch.Tensor, torch.Tensor]: ...


def capabilities(family) -> frozenset[str]:
    """The optional capabilities (module notes) that ``family`` declares, as a frozenset of
    names from :data:`CAPABILITIES`. Works on any object: one that lacks the members of a
    capability simply does not have it."""
    out = set()
    if callable(getattr(family, "chunk_size", None)):
        out.add("chunked")
    if getattr(family, "loss_degree", None) is not None:
        out.add("polynomial-loss")
    if getattr(getattr(family, "activation", None), "name", None) is not None and all(
        hasattr(family, name) for name in _LAYERED
    ):
        out.add("layered")
    if getattr(family, "base", None) is not None:
        out.add("wrapped")
    if getattr(family, "kink_coordinates", None) is not None:
        out.add("kinks")
    if (callable(getattr(family, "residuals", None))
            and getattr(family, "loss_kind", "square") == "square" and "kinks" not in out):
        out.add("residuals")  # (an L1 penalty's |θ_j| terms are not squares of residuals)
    return frozenset(out)
