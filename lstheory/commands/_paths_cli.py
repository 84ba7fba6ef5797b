"""``lstheory paths``: its options checked and turned into a :class:`~lstheory.paths._job.PathsJob`,
and what it prints and draws (the parser and the run are in :mod:`lstheory.commands.paths`)."""

from __future__ import annotations

from .._errors import InvalidArgument, UnknownName, UsageError

DESCRIPTION = """Low-loss paths between checkpoints of any torch model, certified.

    lstheory paths --model mypkg.nets:make_mlp --from a.pt --to b.pt --data data.pt \\
        --method search --budget fast --plot path.png --json path.json
    lstheory paths --model mypkg.nets:make_mlp --checkpoints m*.pt --pairs all --workers 4 \\
        --results pairs.jsonl --json graph.json        # many pairs: the level-set graph

The model is ``module:factory`` (a callable returning an ``nn.Module``; ``--model-arg k=v`` passes
keyword arguments; MODULE is searched in the current directory first). Checkpoints are state dicts
(or dicts holding one under ``state_dict`` / ``model``), read with ``weights_only=True`` and
checked key by key against the model. Data: a ``.pt`` file (layouts below), or ``synthetic:N`` (N
Gaussian inputs of ``--input-shape`` with seeded random labels: a smoke test). The loss is
``cross-entropy``, ``square`` or your ``MODULE:FUNCTION`` (``loss(outputs, Y) -> mean``; a
custom loss takes the module route). Batch norm keeps the running statistics of the first
checkpoint (``--bn keep``; ``eval`` is a synonym) or recomputes them on the data at every point
(``--bn recompute``). An ``nn.Sequential`` that is exactly ``Linear, σ, Linear, σ, …, Linear``
(one of ReLU / leaky-ReLU with one slope / identity, nothing else) is evaluated as an MLP family,
so its certificate is exact (two layers) or a rigorous interval bound (deeper), but only after
that MLP is checked to reproduce the model's own outputs on the data at the checkpoints; any
other model (or a failed check) takes the general module route and gets a sampled estimate,
labelled as such. The route and the reason for it are printed and saved. With --checkpoints,
chunks of --pairs-per-unit pairs are units of work (--workers, --scheduler, --cluster; results
identical for any of them), written to --results as they finish (resumable; --shard i/n, then a
run without --shard completes the set from the shards).
"""

EPILOG = """\
data files (--data FILE.pt):
  {layouts}

--json PATH writes (schema 1): schema, command, versions {{lstheory, lstheory_source, python,
torch, numpy}}, run {{command, options (every flag as parsed), seed, device}}, and model, from,
to, method, budget, seed, bn, loss, family, route, route_reason, max_output_diff,
endpoint_losses [2], max_loss, bound (null unless certified), certificate, barrier,
barrier_bound, normalised_length, vertices, loss_evals, profile {{arc, loss}}. With
--checkpoints: model, checkpoints, pairs, method, budget, seed, bn, loss, family, route,
route_reason, node_losses, records [{{pair, unit, result {{the keys above but the profile}} or
failed}}], failed {{"i-j": error}}, computed, joined_at, disconnectivity {{nodes, edges}}.
--results FILE.jsonl: one line per pair, {{identity, pair, unit, result | failed}}.

exit codes: 0 done, 2 bad input (also: a model or data set too large for this machine, refused
before work), 3 numerical failure (NaN/inf in a checkpoint, the path's losses not finite): a
warning line on stderr; with --checkpoints, some pairs failed (a rerun tries them again).
"""
_EXECUTOR_FLAGS = ("--workers", "--scheduler", "--cluster", "--cluster-opt", "--shard",
                   "--results", "--fresh", "--pairs")


def job_from_args(args):
    """The job the command line asks for and whether it is a many-pairs run; every option
    checked before any file is read (one-line errors naming the flag)."""
    from .._executor import check_executor_args
    from .._validate import positive_int
    from .._vocab import bn_policy
    from ..paths._job import PathsJob

    many = args.checkpoints is not None
    if many == (args.ckpt_a is not None or args.ckpt_b is not None) or (
            not many and None in (args.ckpt_a, args.ckpt_b)):
        raise UsageError("lstheory paths", "give --from PATH --to PATH, or --checkpoints "
                         "PATH PATH …")
    check_executor_args(args)
    used = dict(zip(_EXECUTOR_FLAGS, (args.workers != 1, args.scheduler, args.cluster,
                                      args.cluster_opt, args.shard, args.results, args.fresh,
                                      args.pairs != "all")))
    extra = [flag for flag, on in used.items() if on]
    if extra and not many:
        raise UsageError("lstheory paths", f"{extra[0]} applies to --checkpoints runs")
    if args.threads is not None:
        positive_int(args.threads, "--threads", maximum=1024)
    if args.batch_size is not None:
        positive_int(args.batch_size, "--batch-size")
    if args.classes is not None and args.classes < 2:
        raise InvalidArgument("classes", args.classes, "an integer ≥ 2", flag="--classes")
    positive_int(args.pairs_per_unit, "--pairs-per-unit", maximum=10_000)
    try:
        bn = bn_policy(args.bn)
    except UnknownName as e:
        raise e.for_cli("--bn") from None
    from ._common import check_common

    check_common(args, outputs={"--results": args.results} if args.results else {})
    ckpts = tuple(args.checkpoints) if many else (args.ckpt_a, args.ckpt_b)
    flags = ("--checkpoints",) * len(ckpts) if many else ("--from", "--to")
    return PathsJob(args.model, ckpts, tuple(args.model_arg), args.data, args.input_shape,
                    args.classes, args.loss, bn, args.batch_size, args.method, args.budget,
                    args.seed, args.device, flags), many


def print_pair(out: dict, cert) -> None:
    bound = "(no bound: sampled estimate)" if not cert.certified else f"≤ {out['bound']:.6g}"
    print(f"path {out['from']} → {out['to']} ({out['method']}, {out['budget']}, seed "
          f"{out['seed']})")
    print(f"  family:            {out['family']}")
    print(f"  route:             {out['route']}: {out['route_reason']}")
    print(f"  end-point losses:  {out['endpoint_losses'][0]:.6g}, {out['endpoint_losses'][1]:.6g}")
    print(f"  max loss on path:  {out['max_loss']:.6g} {bound}")
    extra = "" if not cert.certified else f" (certified ≤ {out['barrier_bound']:.6g})"
    print(f"  barrier:           {out['barrier']:.6g}{extra}")
    print(f"  normalised length: {out['normalised_length']:.4g}  ({out['vertices']} control "
          f"points, {out['loss_evals']} loss evaluations)")
    print(f"  certificate:       {out['certificate']}")


#: rows of the pairs table printed (all of them are in --json and --results)
_ROWS = 50


def print_pairs(problem, res, args) -> dict:
    """Print the pairs table and the level-set graph's summary; return the --json keys."""
    from ..paths import disconnectivity_graph, disconnectivity_json

    job = problem.job
    print(f"paths between {len(job.checkpoints)} checkpoints, {len(res.records)} pairs "
          f"({job.method}, {job.budget}, seed {job.seed})")
    print(f"  family:  {problem.family!r}")
    print(f"  route:   {problem.route}: {problem.reason}")
    print("  losses:  " + ", ".join(f"{i}: {v:.6g}" for i, v in enumerate(
        res.node_losses[:_ROWS])) + (" …" if len(res.node_losses) > _ROWS else ""))
    print(f"  {'pair':<9} {'barrier':>11} {'max loss':>11} {'bound':>11}  certificate")
    for r in res.records[:_ROWS]:
        pair = f"{r['pair'][0]}-{r['pair'][1]}"
        if "result" not in r:
            print(f"  {pair:<9} failed: {r['failed']}")
            continue
        v = r["result"]
        bound = "-" if v["bound"] is None else f"{v['bound']:.5g}"
        print(f"  {pair:<9} {v['barrier']:>11.5g} {v['max_loss']:>11.5g} {bound:>11}  "
              f"{v['certificate']}")
    if len(res.records) > _ROWS:
        print(f"  … {len(res.records) - _ROWS} more pairs (all of them in --json / --results)")
    joined = res.joined_at
    print(f"  level-set graph: {res.graph.number_of_nodes()} checkpoints, "
          f"{res.graph.number_of_edges()} edges; " + (
              "never one component" if joined is None else f"one component from λ = {joined:.6g}"))
    print(f"  searched now: {res.computed} pairs; failed: {len(res.failed)}")
    return {"model": job.model, "checkpoints": list(job.checkpoints), "pairs": args.pairs,
            "method": job.method, "budget": job.budget, "seed": job.seed, "bn": job.bn,
            "loss": job.loss, "family": repr(problem.family), "route": problem.route,
            "route_reason": problem.reason, "node_losses": res.node_losses,
            "records": res.records, "failed": res.failed, "computed": res.computed,
            "joined_at": joined,
            "disconnectivity": disconnectivity_json(disconnectivity_graph(res.graph))}


def save_plot(target: str, problem, *, path=None, cert=None, out=None, result=None) -> None:
    """One pair: the loss along the path next to the straight line between its ends; many: the
    disconnectivity tree of the level-set graph (no pyplot)."""
    from .._io import save_figure
    from ..paths import disconnectivity_graph, plot_disconnectivity, plot_path

    if result is None:
        plot_path(problem.family, problem.data, path, certificate=cert, out=target,
                  title=f"{out['method']}: barrier {out['barrier']:.3g}, length "
                        f"{out['normalised_length']:.3g}")
        return
    fig = plot_disconnectivity(disconnectivity_graph(result.graph),
                               title=f"{len(result.records)} pairs ({problem.job.method})")
    save_figure(fig, target)
