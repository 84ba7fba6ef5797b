"""Surfaces through the executor: shards + merge and 2 Dask workers equal the serial run value
for value (one thread, one point per pass: the same float operations), resume, merge checks."""

from __future__ import annotations

import numpy as np
import pytest

from lstheory._errors import InvalidArgument, UsageError

pytestmark = pytest.mark.usefixtures("module_one_thread")


@pytest.fixture(scope="module")
def problem():
    from lstheory.data import load_dataset
    from lstheory.models import build_model
    from lstheory.surface import Grid, random_direction

    data = load_dataset("mnist1d").subset(120, 60, seed=1)
    net = build_model("mlp", input_shape=data.input_shape, n_classes=data.n_classes, seed=0)
    dirs = tuple(random_direction(net, seed=0, stream=s) for s in "xy")
    return net, data, dirs, Grid.linspace(-1, 1, 7, -0.5, 0.5, 5)


def _surface(problem, path=None, **kw):
    from lstheory.surface import compute_surface

    net, data, dirs, grid = problem
    return compute_surface(net, data, dirs, grid, path=path, points_per_pass=1, **kw)


def _same(a, b) -> None:
    assert set(a.values) == set(b.values)
    for m in a.values:
        np.testing.assert_array_equal(a[m], b[m], err_msg=m)
    np.testing.assert_array_equal(a.done, b.done)


@pytest.fixture(scope="module")
def serial(problem, tmp_path_factory):
    return _surface(problem, tmp_path_factory.mktemp("serial") / "s.h5")


@pytest.mark.parametrize("n", [1, 3, 4])
def test_shards_merge_to_the_serial_surface(problem, serial, tmp_path, n):
    from lstheory.surface import load_surface
    from lstheory.surface._distributed import merge_surfaces, shard_path

    out = tmp_path / "s.h5"
    parts = [_surface(problem, shard_path(out, (i, n)), shard=(i, n)) for i in range(n)]
    counts = [int(p.done.sum()) for p in parts]
    assert sum(counts) == serial.done.size and max(counts) - min(counts) <= 1  # a partition
    if n > 1:
        assert all(p.path.endswith(".partial") for p in parts)
    merged = merge_surfaces(out, [p.path for p in parts], fresh=n == 1)
    assert merged.complete and merged.path == str(out)
    _same(load_surface(out), serial)


def test_a_stopped_shard_resumes(problem, serial, tmp_path):
    from lstheory.surface._distributed import merge_surfaces

    a = tmp_path / "a.h5"
    first = _surface(problem, a, shard=(0, 2), stop_after=4)
    assert int(first.done.sum()) == 4 and first.n_evaluated == 4
    again = _surface(problem, a, shard=(0, 2))  # resumes from a.h5.partial
    assert again.n_evaluated == serial.done.size // 2 + serial.done.size % 2 - 4
    b = _surface(problem, tmp_path / "b.h5", shard=(1, 2))
    _same(merge_surfaces(tmp_path / "m.h5", [again.path, b.path]), serial)


def test_merge_checks_its_inputs(problem, serial, tmp_path):
    from lstheory.surface import compute_surface
    from lstheory.surface._distributed import merge_surfaces

    net, data, dirs, grid = problem
    part = _surface(problem, tmp_path / "p.h5", shard=(0, 2))
    other = compute_surface(net, data, dirs[::-1], grid, path=tmp_path / "o.h5",
                            points_per_pass=1, shard=(1, 2))
    with pytest.raises(InvalidArgument, match="fingerprint differs"):
        merge_surfaces(tmp_path / "m.h5", [part.path, other.path])
    with pytest.raises(InvalidArgument, match="existing surface shard"):
        merge_surfaces(tmp_path / "m.h5", [tmp_path / "nosuch.h5"])
    half = merge_surfaces(tmp_path / "m.h5", [part.path])
    assert not half.complete and half.path.endswith("m.h5.partial")
    with pytest.raises(InvalidArgument, match="not yet written"):
        merge_surfaces(tmp_path / "m.h5", [part.path])
    mine = tmp_path / "notes.h5"
    mine.write_text("mine")
    with pytest.raises(InvalidArgument, match="refusing to delete"):
        merge_surfaces(mine, [part.path], fresh=True)
    assert mine.read_text() == "mine"


def test_merge_on_the_command_line(problem, serial, tmp_path, cli):
    from lstheory.surface import load_surface
    from lstheory.surface._distributed import shard_path

    out = tmp_path / "s.h5"
    paths = [_surface(problem, shard_path(out, (i, 2)), shard=(i, 2)).path for i in range(2)]
    code, text, err = cli("surface", "merge", out, paths[0], "--quiet")
    assert code == 3 and "point(s) missing" in text
    code, text, err = cli("surface", "merge", out, *paths, "--plot", tmp_path / "s.png",
                          "--fresh", "--quiet")
    assert code == 0 and (tmp_path / "s.png").stat().st_size > 0
    _same(load_surface(out), serial)


@pytest.mark.parametrize("argv, needle", [
    (["surface", "merge", "out.h5"], "expected lstheory surface merge"),
    (["surface", "combine", "a", "b"], "expected lstheory surface merge"),
    (["surface", "--model", "mlp", "--shard", "1/1"], "--shard=1/1"),
    (["surface", "--model", "mlp", "--workers", "-1"], "--workers=-1"),
])
def test_bad_command_lines(cli, argv, needle):
    code, _, err = cli(*argv)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_wants_merge_reads_only_merge():
    from types import SimpleNamespace

    from lstheory.commands._surface_merge import wants_merge

    assert not wants_merge(SimpleNamespace(merge=[]))
    assert wants_merge(SimpleNamespace(merge=["merge", "o.h5", "a.h5"]))
    with pytest.raises(UsageError):
        wants_merge(SimpleNamespace(merge=["merge", "o.h5"]))


@pytest.mark.slow
def test_two_dask_workers_equal_the_serial_surface(problem, serial, tmp_path):
    pytest.importorskip("distributed")
    from lstheory._executor import make_executor
    from lstheory.surface import load_surface

    with make_executor(workers=2, quiet=True) as ex:
        got = _surface(problem, tmp_path / "d.h5", executor=ex)
    assert got.complete and got.n_evaluated == serial.done.size
    _same(load_surface(tmp_path / "d.h5"), serial)


def test_units_serve_large_arrays_from_the_heap_under_dask_malloc_settings():
    """Under Dask's worker environment (``MALLOC_TRIM_THRESHOLD_`` set) every large temporary
    would be a fresh mmap with its pages faulted in; inside a unit the heap serves them (page
    faults drop by orders of magnitude), and outside it the worker's settings are back."""
    import os
    import subprocess
    import sys

    script = """
import resource, torch
from lstheory.surface._distributed import _heap_for_large_arrays

def faults(ctx, n=2 << 20):
    with ctx:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(40):
            torch.empty(n).fill_(1.0)  # 8 MB, freed at once
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

import contextlib
# afterwards larger arrays: no free chunk the unit left in the heap can serve them
print(faults(contextlib.nullcontext()), faults(_heap_for_large_arrays()),
      faults(contextlib.nullcontext(), 3 << 20))
"""
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"}
    env.pop("MALLOC_MMAP_THRESHOLD_", None)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout.split()
    plain, heap, after = map(int, out)
    assert plain > 40 * 1000  # 2048 pages per array, each faulted in
    assert heap < plain / 20
    assert after > 40 * 2500  # the worker's own settings restored: each a fresh mmap again
