"""Scale: the executor seam with 1 and 2 Dask workers on this machine, against a plain loop.

Three measurements, each printed as times, speed-up and parallel efficiency:

1. ``surface``: a 51 × 51 surface (the MLP on MNIST-1D and the DCNN on digits) computed
   (a) by ``compute_surface`` in this process on one torch thread (the anchor: what
   ``--workers 1`` runs), (b) through a ``LocalCluster`` of 1 worker and (c) of 2 workers
   (one thread each). Cluster start-up is timed separately and left out of (b) and (c).
2. ``campaign``: ``verify/venturi.toml`` (or its first ``--campaign-points`` points) run into a
   temporary results file, serially in this process (one torch thread, one BLAS thread, its
   one-time imports done before timing as the workers do theirs at start-up) and on 1 and 2
   workers (checked: one torch thread each), interleaved ``--repeats`` times. From the records'
   unit times it prints, per process, the units run, their busy wall and CPU-seconds and the
   idle time (run wall − busy): on a loaded machine, where wall ratios mean little, the idle
   share of each worker is the evidence for the executor's parallel efficiency.
3. ``overhead``: units of fixed CPU work (``--unit-ms`` of a one-thread matmul loop) run by a
   plain ``for`` loop, by the serial executor and by a 1-worker ``LocalCluster``; the overhead
   per unit is (executor − loop) / loop. Interleaved and repeated (``--repeats``), medians and
   the spread printed.

    OMP_NUM_THREADS=1 python benchmarks/bench_scale.py                       # everything
    OMP_NUM_THREADS=1 python benchmarks/bench_scale.py --only overhead
    OMP_NUM_THREADS=1 python benchmarks/bench_scale.py --grid 21 --n-train 512 --campaign-points 12

Goals (issue 16): ≥ 1.8× for the campaign and ≥ 1.6× for the surface with 2 workers on 2
cores; < 5 % overhead per unit. Two workers can only reach that on two otherwise idle cores:
on a shared machine the spread of the repeats says how much the numbers mean.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from lstheory._executor import Unit, make_executor

ROOT = Path(__file__).resolve().parents[1]


def _cases():
    from lstheory.data import load_digits, load_mnist1d

    return {"mlp-mnist1d": (load_mnist1d, "mlp"), "dcnn-digits": (load_digits, "dcnn")}


def _surface_problem(case: str, grid_n: int, n_train: int | None, n_test: int | None):
    from lstheory.models import build_model
    from lstheory.surface import Grid, random_direction

    load, model = _cases()[case]
    data = load()
    if n_train or n_test:
        data = data.subset(n_train, n_test, seed=0)
    net = build_model(model, input_shape=data.input_shape, n_classes=data.n_classes, seed=0)
    dirs = tuple(random_direction(net, seed=0, stream=s) for s in "xy")
    return net, data, dirs, Grid.linspace(-1, 1, grid_n, -1, 1, grid_n)


def _time_surface(problem, executor=None) -> float:
    from lstheory.surface import compute_surface

    net, data, dirs, grid = problem
    t0 = time.perf_counter()
    surf = compute_surface(net, data, dirs, grid, executor=executor)
    assert surf.complete
    return time.perf_counter() - t0


def _cluster(workers: int):
    t0 = time.perf_counter()
    ex = make_executor(workers=workers, quiet=True, announce=lambda line: None,
                       local_cluster=True)
    return ex, time.perf_counter() - t0


def _report(name: str, anchor: float, one: float, two: float, start: tuple[float, float]):
    print(f"  {name}: in-process {anchor:7.2f} s | 1 worker {one:7.2f} s | 2 workers "
          f"{two:7.2f} s   (cluster start-up {start[0]:.1f} s / {start[1]:.1f} s, not counted)")
    print(f"    speed-up 2 workers vs in-process {anchor / two:.2f}× (efficiency "
          f"{anchor / two / 2:.0%}); vs 1 worker {one / two:.2f}× (efficiency "
          f"{one / two / 2:.0%}); 1 worker vs in-process {anchor / one:.2f}×")


def bench_surface(args) -> None:
    print(f"surface {args.grid}×{args.grid} (n_train={args.n_train}, n_test={args.n_test}):")
    ex1, s1 = _cluster(1)
    ex2, s2 = _cluster(2)
    try:
        for case in args.cases:
            problem = _surface_problem(case, args.grid, args.n_train, args.n_test)
            warm = (*problem[:3], _surface_problem(case, 2, 8, 8)[3])
            for ex in (None, ex1, ex2):  # imports and set-up on the workers, not timed
                _time_surface(warm, ex)
            anchor = _time_surface(problem)
            one = _time_surface(problem, ex1)
            two = _time_surface(problem, ex2)
            _report(case, anchor, one, two, (s1, s2))
    finally:
        ex1.close()
        ex2.close()


def _campaign_spec(folder: Path, points: int | None) -> Path:
    text = (ROOT / "verify" / "venturi.toml").read_text()
    text = text.replace('results = "results/venturi.jsonl"', 'results = "r/venturi.jsonl"')
    text = text.replace('report = "results/venturi"', 'report = "r/venturi"')
    spec = folder / "venturi.toml"
    spec.write_text(text)
    if points:
        from lstheory.campaign import load_spec

        grid = load_spec(spec).grid
        # keep whole seeds of the first N values: trim the longest axis until it fits
        while np.prod([len(v) for v in grid.values()]) > points:
            longest = max(grid, key=lambda k: len(grid[k]))
            grid[longest] = grid[longest][:-1]
        body = text.split("[grid]")[0] + "[grid]\n" + "".join(
            f"{k} = {v!r}\n" for k, v in grid.items())
        spec.write_text(body)
    return spec


def _time_campaign(spec: Path, executor=None) -> tuple[float, dict]:
    """Wall seconds of one fresh run, and per process (``host:pid``) the units it ran: their
    count, wall and CPU-seconds (from the records' ``unit``); a fresh run still reads the last
    run's unit times as cost estimates (longest first on Dask)."""
    import json

    from lstheory.campaign import run_campaign

    t0 = time.perf_counter()
    report = run_campaign(spec, fresh=True, executor=executor)
    wall = time.perf_counter() - t0
    assert not report.failed and report.missing == 0
    per: dict[str, list[float]] = {}
    for line in report.results_path.read_text().splitlines():
        u = json.loads(line)["unit"]
        acc = per.setdefault(u["worker"], [0, 0.0, 0.0])
        acc[0] += 1
        acc[1] += u["seconds"]
        acc[2] += u["cpu_seconds"]
    return wall, per


def _busy(name: str, wall: float, per: dict) -> None:
    """Each process's units: busy wall, CPU-seconds, and idle = run wall − busy wall."""
    for who, (n, busy, cpu) in sorted(per.items()):
        print(f"    {name:<10} {who}: {n:2d} units, busy {busy:6.2f} s wall / {cpu:6.2f} CPU-s, "
              f"idle {wall - busy:6.2f} s of {wall:.2f} s ({(wall - busy) / wall:.0%})")


def bench_campaign(args) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench_scale_"))
    try:
        spec = _campaign_spec(folder, args.campaign_points)
        from lstheory.campaign import load_spec

        n = int(np.prod([len(v) for v in load_spec(spec).grid.values()]))
        print(f"campaign verify/venturi.toml ({n} points, budget fast):")
        ex1, s1 = _cluster(1)
        ex2, s2 = _cluster(2)
        try:
            for ex in (ex1, ex2):  # every worker: one torch thread (the anchor: one too)
                threads = ex.pool.run(torch.get_num_threads)
                assert set(threads.values()) == {1}, threads
            print(f"  torch threads: in-process {torch.get_num_threads()}, workers "
                  f"{sorted(ex2.pool.run(torch.get_num_threads).values())}")
            from lstheory.campaign import _run_point

            t0, c0 = time.perf_counter(), time.process_time()
            # the anchor process's one-time imports (the workers' are in their start-up)
            _run_point("venturi", "fast", {"n_data": 3, "seed": 0, "width_over_q": 2.0})
            print(f"  in-process warm-up (not timed, as the workers' start-up): "
                  f"{time.perf_counter() - t0:.2f} s, {time.process_time() - c0:.2f} CPU-s")
            rows = {"anchor": [], "one": [], "two": []}
            for r in range(args.repeats):
                for name, ex in (("anchor", None), ("one", ex1), ("two", ex2)):
                    wall, per = _time_campaign(spec, ex)
                    rows[name].append(wall)
                    _busy(f"{name}[{r}]", wall, per)
                print(f"  repeat {r}: in-process {rows['anchor'][-1]:.2f} s, 1 worker "
                      f"{rows['one'][-1]:.2f} s, 2 workers {rows['two'][-1]:.2f} s; ratio "
                      f"{rows['anchor'][-1] / rows['two'][-1]:.2f}×; load "
                      f"{__import__('os').getloadavg()[0]:.1f}", flush=True)
            med = {k: statistics.median(v) for k, v in rows.items()}
            _report("venturi (medians)", med["anchor"], med["one"], med["two"], (s1, s2))
            ratios = [a / t for a, t in zip(rows["anchor"], rows["two"])]
            print("    2 workers vs in-process per repeat: "
                  + ", ".join(f"{x:.2f}×" for x in ratios))
        finally:
            ex1.close()
            ex2.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_RATE: list[float] = []


def _busy_rate() -> float:
    """Matmul steps per millisecond on this process's one thread (measured once)."""
    if not _RATE:
        a = torch.randn(64, 64)
        t0 = time.perf_counter()
        for _ in range(2000):
            a = torch.tanh(a @ a / 8)
        _RATE.append(2000 / ((time.perf_counter() - t0) * 1000))
    return _RATE[0]


def _reps(ms: float) -> int:
    return max(1, int(ms * _busy_rate()))


def _fixed_work(reps: int, seed: int) -> float:
    a = torch.randn(64, 64, generator=torch.Generator().manual_seed(seed))
    for _ in range(reps):
        a = torch.tanh(a @ a / 8)
    return float(a.sum())


def bench_overhead(args) -> None:
    reps = _reps(args.unit_ms)
    n = args.units
    print(f"overhead per unit ({n} units of ~{args.unit_ms:g} ms of one-thread work, "
          f"{args.repeats} interleaved repeats):")
    units = [Unit(str(i), _fixed_work, (reps, i)) for i in range(n)]
    ex1, _ = _cluster(1)
    loop_t, serial_t, dask_t = [], [], []
    try:
        list(ex1.run(units[:2]))  # warm the worker (imports)
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            want = [_fixed_work(reps, i) for i in range(n)]
            loop_t.append(time.perf_counter() - t0)
            with make_executor(quiet=True) as ex:
                t0 = time.perf_counter()
                got = {r.key: r.value for r in ex.run(units)}
                serial_t.append(time.perf_counter() - t0)
            assert [got[str(i)] for i in range(n)] == want
            t0 = time.perf_counter()
            got = {r.key: r.value for r in ex1.run(units)}
            dask_t.append(time.perf_counter() - t0)
            assert [got[str(i)] for i in range(n)] == want
    finally:
        ex1.close()
    loop = statistics.median(loop_t)
    for name, ts in (("serial executor", serial_t), ("Dask, 1 worker", dask_t)):
        over = [(t - lt) / lt for t, lt in zip(ts, loop_t)]
        print(f"  {name:<16} median {statistics.median(ts):6.2f} s vs loop {loop:6.2f} s: "
              f"overhead {statistics.median(over):+.1%} per unit (repeats "
              + ", ".join(f"{o:+.1%}" for o in over) + ")")
    _empty_units(n, args.repeats, loop / n)


def _empty_units(n: int, repeats: int, unit_s: float) -> None:
    """The executor's own cost per unit: units that do nothing (robust to load: no work to
    be slowed down), as a fraction of a unit of ``unit_s`` seconds."""
    units = [Unit(str(i), int, (i,)) for i in range(n)]
    ex1, _ = _cluster(1)
    try:
        list(ex1.run(units[:2]))
        for name, ex in (("serial executor", make_executor(quiet=True)), ("Dask, 1 worker", ex1)):
            ts = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                assert sorted(r.value for r in ex.run(units)) == list(range(n))
                ts.append((time.perf_counter() - t0) / n)
            cost = statistics.median(ts)
            print(f"  {name:<16} empty units: {cost * 1e3:8.3f} ms each (repeats "
                  + ", ".join(f"{t * 1e3:.3f}" for t in ts)
                  + f") = {cost / unit_s:.2%} of a {unit_s * 1e3:.0f} ms unit")
    finally:
        ex1.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", choices=("surface", "campaign", "overhead"), action="append")
    p.add_argument("--grid", type=int, default=51, help="points per surface axis")
    p.add_argument("--cases", nargs="+", default=["mlp-mnist1d", "dcnn-digits"],
                   choices=["mlp-mnist1d", "dcnn-digits"], help="surface cases")
    p.add_argument("--n-train", type=int, default=None, help="training subset for surfaces")
    p.add_argument("--n-test", type=int, default=None, help="test subset for surfaces")
    p.add_argument("--campaign-points", type=int, default=None,
                   help="run only this many points of venturi.toml (default: all 54)")
    p.add_argument("--units", type=int, default=40)
    p.add_argument("--unit-ms", type=float, default=100.0)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    torch.set_num_threads(1)  # the anchor uses one core, as each worker does
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # and one BLAS thread, as the workers' nanny sets (a script: global)
    print(f"machine: {torch.get_num_threads()} torch thread in this process, "
          f"{len(__import__('os').sched_getaffinity(0))} cores available; python "
          f"{sys.version.split()[0]}, torch {torch.__version__}")
    for part in args.only or ("overhead", "campaign", "surface"):
        {"surface": bench_surface, "campaign": bench_campaign,
         "overhead": bench_overhead}[part](args)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
