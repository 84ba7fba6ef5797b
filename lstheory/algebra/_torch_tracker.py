"""The torch tracker's former single module, kept so that ``from ._torch_tracker import …``
still works: the tracker is :mod:`lstheory.algebra.tracker` (options, homotopy, step, endgame,
classify, drivers — the order of the algorithm)."""

from .tracker import (
    ENDGAMES,
    Endgame,
    TrackerOptions,
    TrackResult,
    track_parameter,
    track_total_degree,
)

__all__ = ["ENDGAMES", "Endgame", "TrackerOptions", "TrackResult", "track_parameter",
           "track_total_degree"]
