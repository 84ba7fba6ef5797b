"""The batched path tracker: every path of a homotopy advanced together in torch.

The homotopy lives in projective coordinates ``z = (z_0, …, z_n)`` on a random affine chart
``a·z = 1``: paths that diverge in affine space stay bounded and end with ``z_0 → 0``. The
modules follow the algorithm:

1. :mod:`.options` — :class:`TrackerOptions` and its presets (``fast``, ``default``,
   ``thorough``), and the constants the stages share.
2. :mod:`.homotopy` — H(z, t) for batches of paths: term coefficients polynomial in t, so values
   and Jacobians of all equations are one monomial table and one matrix product.
3. :mod:`.step` — RK4 predictor and Newton corrector with a step size per path, along a line,
   a loop around t = 0, or log time; condition numbers.
4. :mod:`.endgame` — from t = ``endgame_start`` in log time, paths are decided at checkpoints:
   Newton at t = 0 (a regular endpoint, finite or at infinity), the valuation of z_0 with a
   growing condition number (at infinity, early), the Cauchy endgame for the rest
   (:class:`Endgame` says which).
5. :mod:`.classify` — statuses in projective coordinates: at infinity when z_0 is zero to the
   endpoint's accuracy (never a threshold on ‖x‖), regular vs singular by the scaled projective
   condition number, backward errors, the evidence per path.
6. :mod:`.drivers` — :func:`track_total_degree` (the γ-trick total-degree homotopy) and
   :func:`track_segments` (parameter segments; with ``groups``, in a product of projective
   spaces, one chart per group: :mod:`.groups`), one batch for all systems, and the retracks of
   paths that jumped; :mod:`.parameter` — :func:`track_parameter` (with detours).

>>> from lstheory.algebra import katsura
>>> from lstheory.algebra.tracker import track_total_degree
>>> r = track_total_degree(katsura(3).compiled, seed=0)[0]
>>> sorted({s.value for s in r.status}), len(r.status)
(['finite'], 8)
"""

from .drivers import TrackResult, track_segments, track_total_degree
from .endgame import ENDGAMES, Endgame
from .options import PRESETS, TrackerOptions
from .parameter import track_parameter

__all__ = ["ENDGAMES", "Endgame", "PRESETS", "TrackResult", "TrackerOptions", "track_parameter",
           "track_segments", "track_total_degree"]
