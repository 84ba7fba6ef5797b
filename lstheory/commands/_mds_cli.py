"""``lstheory mds``'s help texts and its ``experiment`` run (the parser and ``embed``:
:mod:`lstheory.commands.mds`)."""

from __future__ import annotations

from pathlib import Path

from .._validate import choice, positive_int
from ._common import check_common, progress_for, write_json

#: --budget → the experiments' presets (thorough is the paper's scale: hours on a CPU)
BUDGET_PRESETS = {"fast": "fast", "default": "default", "thorough": "paper"}
#: the most epochs an experiment may be asked for (the paper's longest run is 200)
MAX_EPOCHS = 10**5

#: ``mds embed --json``'s fields (after the common ones)
EMBED_FIELDS = (
    "and store, metric, layers, squared, smacof, precision, solver, route, certificate "
    "(matrix-free: residuals, trace, bound on the next eigenvalue, gap, subspace error; else "
    "null), error_bound (cosine from a float32 or bfloat16 Gram: the largest bound on "
    "|Δ(1 − cos)|), smacof_stress {kruskal_stress_1, start_kruskal_stress_1, raw_stress, "
    "n_iter} (null without --smacof), embedding [n, 2], eigenvalues (first 20), n_negative, "
    "resolution (how far an eigenvalue may have moved under the Gram's stated rounding; "
    "negatives above −resolution are not counted), records.")


def embed_help(lanczos_from: int, matrix_free_from: int) -> dict[str, str]:
    """The help of ``mds embed``'s longer flags."""
    return {
        "squared": "embed the exact squared distances the metric defines (cosine: 2(1 − cos); "
                   "no negative eigenvalues); default: on, except for --metric angular; "
                   "--no-squared is the paper's recipe (1 − cos as a distance)",
        "precision": "the Gram's blocks: full (float32 for a float32 store, float64 across "
                     "blocks) or bfloat16 (about 2× faster on AVX-512 BF16 cores; cosine "
                     "only): |Δ(1 − cos_ij)| ≤ (3u + w·2⁻²⁴)·‖z_i‖‖z_j‖/(‖x_i‖‖x_j‖) + "
                     "smaller terms, u = 2⁻⁸, w the block width, z the checkpoints less their "
                     "column centre; the largest bound is printed",
        "solver": "classical MDS's eigensolver: dense (every eigenvalue, O(n³)), lanczos (the "
                  "top pairs and a probe of the most negative eigenvalues), auto: lanczos "
                  f"from {lanczos_from} checkpoints on",
        "route": "gram (the n × n Gram, then the eigensolver), matrix-free (the top eigenpairs "
                 "by a few passes over the store, with a certificate; squared cosine or "
                 "euclidean, full precision, no --smacof, --solver auto), auto: matrix-free "
                 f"where it applies from {matrix_free_from} checkpoints on",
    }


def run_experiment(args) -> int:
    """``lstheory mds experiment NAME --out DIR``: run it, save result.json and the figure."""
    from ..data import DATASETS
    from ..mds import plot_experiment
    from ..studies.liao_poggio import run_experiment as run

    overrides = {k: v for k, v in (("epochs", args.epochs), ("dataset", args.dataset),
                                   ("squared", args.squared)) if v is not None}
    if args.dataset is not None:  # before anything is made under --out
        choice(args.dataset, "--dataset", DATASETS)
    check_common(args, outputs={"--out": Path(args.out) / "result.json"})
    if args.epochs is not None:
        positive_int(args.epochs, "--epochs", maximum=MAX_EPOCHS)
    preset = args.preset or BUDGET_PRESETS[args.budget]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with progress_for(args) as progress:
        result = run(args.name, out, options=preset, seed=args.seed, device=args.device,
                     progress=progress, **overrides)
    result.save_json(out / "result.json")
    figure = Path(args.plot) if args.plot else out / "figure.png"
    plot_experiment(result, figure)
    print(result.summary())
    print(f"wrote {out / 'result.json'}, {figure}, store {result.store_path}")
    if args.json:
        write_json(args.json, "mds experiment", args,
                   {"preset": preset, "result": result.to_dict()})
        print(f"json: {args.json}")
    return 0
