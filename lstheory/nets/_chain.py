"""The one MLP recogniser: a module read as a chain ``[Flatten] → Linear → (activation | Linear)*``.

Two readers of the same shape, one function: without inputs the module must be an
``nn.Sequential`` and is read from its children; with a probe batch ``x`` the forward pass is
traced (forward hooks on the leaf modules), so any module whose forward *runs* as such a chain is
read, and each step is checked to consume the previous step's output. Callers add their own
conditions on top: :func:`~lstheory.nets.sequential_mlp` (one activation the MLP family has,
alternating layers; certified bounds) and the surface's fast route (no buffers, parameters only
in the linear layers; exactness checked numerically).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["ELEMENTWISE", "LinearChainReading", "read_linear_chain"]

#: Modules applied entry by entry (so layout-agnostic), accepted between Linear layers.
ELEMENTWISE = (nn.ReLU, nn.Tanh, nn.GELU, nn.LeakyReLU, nn.Identity, nn.Sigmoid, nn.SiLU, nn.ELU)


@dataclass(frozen=True)
class LinearChainReading:
    """A module read as a chain.

    ``steps``: ``(qualified name, module)`` of every Linear and activation in call order, a
    leading Flatten left out (it is ``flatten``, or ``None``). Traced readings also hold the
    first Linear layer's input tensor (``first_input``) and the model's ``output``.
    """

    steps: tuple[tuple[str, nn.Module], ...]
    flatten: nn.Flatten | None = None
    first_input: torch.Tensor | None = None
    output: torch.Tensor | None = None

    @property
    def linears(self) -> tuple[tuple[str, nn.Linear], ...]:
        return tuple((n, m) for n, m in self.steps if isinstance(m, nn.Linear))

    @property
    def activations(self) -> tuple[nn.Module, ...]:
        return tuple(m for _, m in self.steps if not isinstance(m, nn.Linear))


def read_linear_chain(module: nn.Module, x: torch.Tensor | None = None
                      ) -> tuple[LinearChainReading | None, str]:
    """``(reading, why)``: ``module`` read as ``[Flatten] → Linear → (activation | Linear)*``
    with activations from :data:`ELEMENTWISE`, or ``(None, why not)``.

    Without ``x``: the children of an ``nn.Sequential``. With ``x``: the leaf modules in the
    order the forward pass on ``x`` calls them (each called once, on one tensor, the previous
    step's output; the last step's output is the model's).
    """
    if x is None:
        if not isinstance(module, nn.Sequential):
            return None, f"{type(module).__name__} is not an nn.Sequential"
        records = [(n, m, None, None) for n, m in module.named_children()]
        out = None
    else:
        trace = _trace(module, x)
        if trace is None:
            return None, "its forward pass does not call each leaf module once on one tensor"
        records, out = trace
        for i in range(1, len(records)):
            if records[i][2] is not records[i - 1][3]:
                return None, f"{records[i][0]} does not consume the previous module's output"
        if out is not records[-1][3]:
            return None, "the model's output is not its last module's"
    flatten = None
    if records and isinstance(records[0][1], nn.Flatten):
        flatten, records = records[0][1], records[1:]
    if not records:
        return None, "no layers besides a Flatten"
    if not isinstance(records[0][1], nn.Linear):
        return None, f"it starts with {records[0][1]!r}, not a Linear layer"
    for name, mod, _, _ in records:
        if not isinstance(mod, (nn.Linear, *ELEMENTWISE)):
            return None, f"{name or 'a module'} ({mod!r}) is neither Linear nor elementwise"
    steps = tuple((n, m) for n, m, _, _ in records)
    return LinearChainReading(steps, flatten, records[0][2], out), "a chain of Linear layers"


def _trace(model: nn.Module, x: torch.Tensor):
    """Leaf modules in call order with their input and output objects, and the model output;
    ``None`` when a module runs twice or takes other than one tensor."""
    records, seen, hooks, bad = [], set(), [], [False]

    def hook(name):
        def f(mod, inputs, output):
            if name in seen or len(inputs) != 1 or not torch.is_tensor(output):
                bad[0] = True
            seen.add(name)
            records.append((name, mod, inputs[0] if inputs else None, output))

        return f

    for name, mod in model.named_modules():
        if not list(mod.children()):
            hooks.append(mod.register_forward_hook(hook(name)))
    try:
        with torch.no_grad():
            out = model(x)
    finally:
        for h in hooks:
            h.remove()
    return None if bad[0] or not records else (records, out)
