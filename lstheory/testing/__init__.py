"""Hypothesis strategies and pytest helpers for users' own CI.

>>> from hypothesis import given
>>> from lstheory.testing import SETTINGS, venturi_instances
>>> @SETTINGS                      # no deadline: a claim check takes seconds, not 200 ms
... @given(venturi_instances())
... def test_my_bound(inst): ...
"""

from ._nets import families, parameter_batches, venturi_instances
from ._profile import PROFILE, SETTINGS

__all__ = ["PROFILE", "SETTINGS", "families", "parameter_batches", "venturi_instances"]
from ._convex import ccnn_options, matrices_and_radii, two_layer_cnns  # noqa: E402

__all__ += ["ccnn_options", "matrices_and_radii", "two_layer_cnns"]
from ._surface import (  # noqa: E402
    SurfaceProblem,
    direction_specs,
    perturbed_model,
    surface_models,
    surface_problems,
)

__all__ += [
    "SurfaceProblem",
    "direction_specs",
    "perturbed_model",
    "surface_models",
    "surface_problems",
]
from ._algebra import dense_systems, net_options  # noqa: E402

__all__ += ["dense_systems", "net_options"]
from ._paths import certifiable_paths, linear_widths, nguyen_instances, yun_instances  # noqa: E402

__all__ += ["certifiable_paths", "linear_widths", "nguyen_instances", "yun_instances"]
