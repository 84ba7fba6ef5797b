"""The one vocabulary the engines, claims and commands share: loss names, batch-norm policies,
preset names, and the meaning of ``to_dict`` / ``to_json`` and of a result's ``status``.

Each name means one thing everywhere. A loss name fixes the normalisation, not only the kind:

``square``
    ``(1/N) Σ_i ‖f(x_i) − y_i‖²`` — summed over outputs, averaged over samples (the theorems'
    loss; ``y`` a target vector, or a class index one-hot encoded).
``mse``
    ``(1/(N·C)) Σ_i Σ_c (f_c(x_i) − y_ic)²`` — averaged over outputs too (``torch``'s
    ``mse_loss``, the ``loss-landscapes`` convention); ``square / C``.
``cross-entropy``
    ``(1/N) Σ_i −log softmax(f(x_i))_{y_i}`` on logits and class indices.

Spellings that users type for the same losses are accepted and normalised by :func:`loss_name`
(``cross_entropy`` and ``ce`` for ``cross-entropy``); ``mse`` is never taken to mean ``square``.

Batch-norm policy (:data:`BN_POLICIES`), what a loss evaluation at new parameters does with a
batch-norm layer's statistics:

``keep``
    use the running statistics stored with the model (the module in ``eval()`` mode);
``recompute``
    recompute them on the data at each parameter point before evaluating (Li et al. 2018).

``eval`` is accepted as a synonym of ``keep`` (the PyTorch mode name) by :func:`bn_policy`.

Presets: an engine's options are a frozen dataclass; ``Options.preset(name)`` takes one of
:data:`PRESETS` (``fast``, ``default``, ``thorough``). A claim's ``budget=`` takes one of
:data:`BUDGETS` and maps it to the engines' presets in one table in the claim's module.

Results: ``to_dict()`` returns a JSON-ready ``dict``; ``to_json(path=None)`` returns that dict as
JSON text (and, given a path, writes it atomically). A result's ``status`` is a ``str``-valued
:class:`~enum.Enum` member (it compares equal to its string and serialises as it).
"""

from __future__ import annotations

from ._errors import UnknownName

__all__ = ["LOSSES", "BN_POLICIES", "PRESETS", "BUDGETS", "loss_name", "bn_policy"]

#: Loss names and their one meaning (see the module docstring).
LOSSES: dict[str, str] = {
    "square": "(1/N) Σ_i ‖f(x_i) − y_i‖²",
    "mse": "(1/(N·C)) Σ_i Σ_c (f_c(x_i) − y_ic)²",
    "cross-entropy": "(1/N) Σ_i −log softmax(f(x_i))_{y_i}",
}
_LOSS_ALIASES = {"cross_entropy": "cross-entropy", "ce": "cross-entropy"}

#: Batch-norm policies (see the module docstring).
BN_POLICIES: tuple[str, ...] = ("keep", "recompute")
_BN_ALIASES = {"eval": "keep"}

#: Engine option presets, cheapest first.
PRESETS: tuple[str, ...] = ("fast", "default", "thorough")
#: Claim budgets, cheapest first (``paper`` where a claim documents a paper-scale instance).
BUDGETS: tuple[str, ...] = ("fast", "default", "thorough", "paper")


def loss_name(value: str, name: str = "loss", *, allowed: tuple[str, ...] | None = None) -> str:
    """The canonical loss name for ``value`` (an alias normalised), checked against ``allowed``
    (default: every name of :data:`LOSSES`); :class:`UnknownName` naming ``name`` otherwise.

    >>> loss_name("cross_entropy")
    'cross-entropy'
    >>> loss_name("mse", allowed=("square", "cross-entropy"))
    Traceback (most recent call last):
    ...
    lstheory._errors.UnknownName: loss=mse is invalid: expected one of cross-entropy, square
    """
    valid = tuple(LOSSES) if allowed is None else tuple(allowed)
    canon = _LOSS_ALIASES.get(value, value) if isinstance(value, str) else value
    if canon not in valid:
        raise UnknownName(name, value, valid)
    return canon


def bn_policy(value: str, name: str = "bn") -> str:
    """The canonical batch-norm policy for ``value`` (``eval`` → ``keep``).

    >>> bn_policy("eval")
    'keep'
    """
    canon = _BN_ALIASES.get(value, value) if isinstance(value, str) else value
    if canon not in BN_POLICIES:
        raise UnknownName(name, value, BN_POLICIES)
    return canon
