"""What each budget buys in the Freeman–Bruna checks: descent, string and DSS options, restarts
and fresh-sample sizes, in one table."""

from __future__ import annotations

from dataclasses import dataclass

from ...nets import DescentOptions
from ...paths import (
    DSSOptions,
    StringOptions,
)

SOURCE = ("Freeman & Bruna 2017, 'Topology and geometry of half-rectified network optimization' "
          "(ICLR)")
LEVEL_RTOL = 1e-3  # a pair is connected when the certified bound ≤ max(L_A, L_B) + this · mean y²


@dataclass(frozen=True)
class Budget:
    descent: DescentOptions
    string: StringOptions
    dss: DSSOptions
    max_pairs: int
    train_steps: int
    name: str = "default"

    @classmethod
    def preset(cls, name: str) -> Budget:
        return {
            "fast": cls(DescentOptions.preset("fast"), StringOptions(12, 200, 0.01, 0.05),
                        DSSOptions.preset("fast"), 6, 800),
            "default": cls(DescentOptions(adam_steps=1000, lm_steps=40),
                           StringOptions(16, 300, 0.01, 0.05), DSSOptions(), 10, 1000),
            "thorough": cls(DescentOptions.preset("thorough"), StringOptions(32, 800, 0.01, 0.05),
                            DSSOptions.preset("thorough"), 28, 4000),
        }[name].named(name)

    def named(self, name: str) -> Budget:
        from dataclasses import replace

        return replace(self, name=name)


