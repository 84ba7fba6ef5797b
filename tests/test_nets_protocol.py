"""The Family protocol and the capability query: every family has the core, declares what it has,
and the certificate kind follows the capabilities."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import lstheory.paths as paths
from lstheory.nets import (
    CAPABILITIES,
    MLP,
    Family,
    L1Penalty,
    ModuleFamily,
    Ridge,
    capabilities,
)
from lstheory.paths import certificate_kind
from lstheory.testing import SETTINGS

ACTS = ("relu", "leaky-relu", "quadratic", "identity")


@st.composite
def mlps(draw):
    widths = draw(st.lists(st.integers(1, 4), min_size=2, max_size=4))
    return MLP(widths, draw(st.sampled_from(ACTS)), bias=draw(st.booleans()),
               loss=draw(st.sampled_from(("square", "cross-entropy"))))


def _old_kind(family) -> str:
    """certificate_kind as it was written with attribute probes (before the protocol)."""
    if getattr(family, "loss_degree", None) is not None:
        return "exact-polynomial"
    act = getattr(getattr(family, "activation", None), "name", None)
    if act is None or not hasattr(family, "unflatten"):
        return "sampled"
    if act in ("relu", "leaky-relu") and family.depth == 2 and family.loss_kind == "square":
        return "exact-piecewise"
    if act in ("relu", "leaky-relu", "identity", "quadratic") and getattr(
            family, "base", None) is None:
        return "interval-bound"
    return "sampled"


@SETTINGS
@given(mlps(), st.sampled_from(("plain", "l1", "ridge")))
def test_families_have_the_core_and_the_kind_follows_the_capabilities(mlp, wrap):
    fam = {"plain": lambda: mlp, "l1": lambda: L1Penalty(mlp, 0.3),
           "ridge": lambda: Ridge(mlp, 0.1)}[wrap]()
    caps = capabilities(fam)
    assert isinstance(fam, Family)
    assert caps <= set(CAPABILITIES)
    assert {"chunked", "layered"} <= caps
    assert ("wrapped" in caps) == (wrap != "plain")
    assert ("kinks" in caps) == (wrap == "l1")
    assert ("polynomial-loss" in caps) == (fam.loss_degree is not None)
    assert ("residuals" in caps) == (mlp.loss_kind == "square" and wrap != "l1")
    assert certificate_kind(fam) == _old_kind(fam)
    theta = fam.sample(3, seed=0)
    X = torch.randn(5, mlp.widths[0], dtype=theta.dtype)
    Y = (torch.randn(5, mlp.widths[-1], dtype=theta.dtype) if mlp.loss_kind == "square"
         else torch.randint(0, mlp.widths[-1], (5,)))
    assert fam.loss(theta, (X, Y)).shape == (3,)
    assert theta.shape[1] == fam.n_params


def test_module_family_and_foreign_objects():
    fam = ModuleFamily(torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh(),
                                           torch.nn.Linear(2, 2)))
    assert isinstance(fam, Family)
    assert capabilities(fam) == {"chunked"}
    assert certificate_kind(fam) == _old_kind(fam) == "sampled"
    assert not isinstance(object(), Family)
    assert capabilities(object()) == frozenset()


@pytest.mark.parametrize("name", ["ModuleFamily", "ModuleRoute", "L1Penalty", "Ridge",
                                  "BN_MODES", "MODULE_LOSSES", "module_route", "sequential_mlp"])
def test_paths_still_exports_the_families(name):
    import lstheory.nets as nets

    assert getattr(paths, name) is getattr(nets, name)
