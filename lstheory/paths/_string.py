"""The string method (E, Ren & Vanden-Eijnden 2002), batched over pairs and images.

A string of M images between fixed end points θ_A and θ_B; each iteration moves every interior
image down the gradient (all pairs × images in one batched loss call) and redistributes the images
at equal arc length along the polygon. Converges towards a minimum-energy path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch

from .._errors import InvalidArgument
from .._options import Presets, resolve_options
from .._random import torch_generator

__all__ = ["StringOptions", "string_method", "reparametrize", "initial_noise"]


@dataclass(frozen=True)
class StringOptions(Presets):
    """images : points per string including end points (≥ 3). steps : iterations.
    lr : Adam step size (cosine-decayed to lr/50); each image moves down its own gradient.
    init_noise : Gaussian noise on the initial interior images, relative to ‖θ_B − θ_A‖/√P
    (0: start on the straight line; use it to leave a symmetric start such as a unit swap)."""

    images: int = 16
    steps: int = 300
    lr: float = 0.01
    init_noise: float = 0.0
    _presets: ClassVar[dict[str, dict]] = {
        "fast": {"images": 12, "steps": 200},
        "thorough": {"images": 32, "steps": 1000},
    }


def initial_noise(like: torch.Tensor, chord: torch.Tensor, scale: float, seed: int) -> torch.Tensor:
    """Seeded Gaussian noise shaped like ``like[B, ..., P]``, of size ``scale · ‖chord_b‖ / √P``
    per pair b (so it is scale-free)."""
    # drawn on CPU and moved: the same noise for a seed on every device
    gen = torch_generator(seed, stream="path-init")
    noise = torch.randn(like.shape, generator=gen, dtype=like.dtype).to(like.device)
    size = chord.reshape(chord.shape[0], -1).norm(dim=1) / chord.shape[-1] ** 0.5
    return noise * (scale * size).reshape(-1, *([1] * (like.ndim - 1)))


def reparametrize(strings: torch.Tensor) -> torch.Tensor:
    """Images ``[B, M, P]`` moved to equal arc length along each polygon (end points fixed)."""
    B, M, _ = strings.shape
    seg = (strings[:, 1:] - strings[:, :-1]).norm(dim=2)
    s = torch.cat([torch.zeros(B, 1, dtype=seg.dtype, device=seg.device), seg.cumsum(1)], 1)
    s = s / s[:, -1:].clamp_min(torch.finfo(seg.dtype).tiny)
    target = torch.linspace(0, 1, M, dtype=seg.dtype, device=seg.device).expand(B, M).contiguous()
    idx = torch.searchsorted(s.contiguous(), target, right=True).clamp(1, M - 1)
    s0, s1 = s.gather(1, idx - 1), s.gather(1, idx)
    w = ((target - s0) / (s1 - s0).clamp_min(1e-300)).clamp(0, 1)[..., None]
    lo = strings.gather(1, (idx - 1)[..., None].expand(-1, -1, strings.shape[2]))
    hi = strings.gather(1, idx[..., None].expand(-1, -1, strings.shape[2]))
    out = lo + w * (hi - lo)
    out[:, 0], out[:, -1] = strings[:, 0], strings[:, -1]
    return out


def string_method(
    family,
    data,
    theta_a: torch.Tensor,
    theta_b: torch.Tensor,
    *,
    options: StringOptions | str | None = "default",
    progress: Callable[[str], None] | None = None,
    seed: int = 0,
    project: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Strings ``[B, M, P]`` between ``theta_a[B, P]`` and ``theta_b[B, P]``.

    Each iteration: one batched loss/gradient over all B·(M−2) interior images, an Adam step per
    image (element-wise step control; plain gradient steps are unstable on the quartic losses of
    polynomial nets), then :func:`reparametrize`. The result is a polygonal path; certify it with
    :func:`~lstheory.paths.certify_paths`. ``project`` (optional) maps images ``[K, P]`` onto a
    convex constraint set after every step.
    """
    opts = resolve_options(StringOptions, options)
    if opts.images < 3:
        raise InvalidArgument("images", opts.images, "an integer ≥ 3")
    if theta_a.shape != theta_b.shape or theta_a.ndim != 2:
        raise InvalidArgument("theta_b", tuple(theta_b.shape), f"shape {tuple(theta_a.shape)}")
    B, P = theta_a.shape
    M = opts.images
    t = torch.linspace(0, 1, M, dtype=theta_a.dtype, device=theta_a.device)[None, :, None]
    a, b = theta_a[:, None].detach(), theta_b[:, None].detach()
    inner = a + t[:, 1:-1] * (b - a)
    if opts.init_noise:
        inner = inner + initial_noise(inner, b - a, opts.init_noise, seed)
    inner = inner.requires_grad_(True)
    opt = torch.optim.Adam([inner], lr=opts.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, opts.steps), opts.lr / 50)
    for step in range(opts.steps):
        _, grad = family.loss_and_grad(inner.detach().reshape(-1, P), data)
        inner.grad = grad.reshape(inner.shape)
        opt.step()
        sched.step()
        with torch.no_grad():
            if project is not None:  # onto a convex constraint set: the polygon stays in it
                inner.copy_(project(inner.reshape(-1, P)).reshape(inner.shape))
            inner.copy_(reparametrize(torch.cat([a, inner, b], 1))[:, 1:-1])
        if progress and step % 50 == 0:
            progress(f"string method: step {step}/{opts.steps} ({B} pairs × {M} images)")
    return torch.cat([a, inner.detach(), b], 1)
