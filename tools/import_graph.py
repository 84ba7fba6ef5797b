"""The package's import graph read by layer: arrows that run back up, cycles, largest files and
duplicated blocks.

    .venv/bin/python tools/import_graph.py            # the report (exit 0)
    .venv/bin/python tools/import_graph.py --check    # exit 1 when an arrow runs up

Every ``import`` in every module of ``lstheory/`` is parsed with :mod:`ast` (nothing is
imported or run), including the imports inside functions ("lazy": they hide a cycle from the
interpreter but not from a reader). Each module gets the layer of the unit it belongs to:

====  ============================================================================  ============
 0    ground floor: ``_errors _io _progress _version _random _runtime _validate``   imports none
      ``_vocab _options _executor _figures _layout``                                above it
 1    engines: ``nets data models algebra paths surface mds convex``
 2    ``claims``
 3    ``campaign _campaign_report _campaign_results testing studies``
 4    ``commands``
 5    ``cli``
 6    the package root ``lstheory/__init__.py``
====  ============================================================================  ============

An arrow is *upward* when a module imports one of a higher layer, or when an engine imports
``claims`` (the same thing, named separately because it is the arrow the layering exists to
forbid). Imports between units of one layer (``surface`` → ``paths``) are allowed and listed
separately (``within-layer``), as are cycles between units.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "lstheory"

LAYERS: dict[str, int] = {
    **dict.fromkeys(("_errors", "_io", "_progress", "_version", "_random", "_runtime",
                     "_validate", "_vocab", "_options", "_executor", "_figures", "_layout"), 0),
    **dict.fromkeys(("nets", "data", "models", "algebra", "paths", "surface", "mds",
                     "convex"), 1),
    "claims": 2,
    **dict.fromkeys(("campaign", "_campaign_report", "_campaign_results", "testing", "studies"), 3),
    "commands": 4,
    "cli": 5,
    "": 6,  # the package root
}
LAYER_NAMES = {0: "ground", 1: "engines", 2: "claims", 3: "campaign/testing/studies",
               4: "commands", 5: "cli", 6: "root"}
ENGINES = {u for u, layer in LAYERS.items() if layer == 1}


@dataclass(frozen=True)
class Arrow:
    source: str  # dotted module name
    target: str
    line: int
    lazy: bool  # inside a function

    @property
    def units(self) -> tuple[str, str]:
        return unit(self.source), unit(self.target)


def unit(module: str) -> str:
    """``lstheory.surface._surface`` → ``surface``; ``lstheory`` → ``""`` (the root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer(module: str) -> int | None:
    return LAYERS.get(unit(module))


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package: dotted name → file."""
    out = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(name: str, known: dict[str, Path]) -> str:
    """The longest known module that ``name`` starts with (``a.b.func`` → ``a.b``)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return name


def _lazy_lines(tree: ast.AST) -> set[int]:
    """Line numbers of import statements nested in a function."""
    lines = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    lines.add(node.lineno)
    return lines


def arrows(root: Path = ROOT) -> list[Arrow]:
    """Every import of one package module by another (``TYPE_CHECKING`` blocks included)."""
    known = modules(root)
    out = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        lazy = _lazy_lines(tree)
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".")
                    base = base if is_pkg else base[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    prefix = ".".join(base + ([node.module] if node.module else []))
                else:
                    prefix = node.module or ""
                # ``from . import x``: x may be a submodule (an arrow to it) or a name
                targets = [f"{prefix}.{a.name}" for a in node.names]
            for t in targets:
                if t != PACKAGE and not t.startswith(PACKAGE + "."):
                    continue
                target = _resolve(t, known)
                if target != name:
                    out.append(Arrow(name, target, node.lineno, node.lineno in lazy))
    return list(dict.fromkeys(out))  # one arrow per statement and target


def upward(all_arrows: list[Arrow]) -> list[Arrow]:
    """Arrows that run to a higher layer, or from an engine to ``claims``."""
    bad = []
    for a in all_arrows:
        src, dst = layer(a.source), layer(a.target)
        if src is None or dst is None:
            continue
        if dst > src or (unit(a.source) in ENGINES and unit(a.target) == "claims"):
            bad.append(a)
    return bad


def unlayered(all_arrows: list[Arrow]) -> set[str]:
    """Units that the table above does not place (a new package: add it to LAYERS)."""
    return {u for a in all_arrows for u in a.units if u not in LAYERS}


def unit_cycles(all_arrows: list[Arrow], *, lazy: bool = True) -> list[list[str]]:
    """Strongly connected sets of units (more than one), with or without lazy imports."""
    import networkx as nx

    g = nx.DiGraph()
    for a in all_arrows:
        s, t = a.units
        if s != t and (lazy or not a.lazy):
            g.add_edge(s or "<root>", t or "<root>")
    return sorted(sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1)


def within_layer(all_arrows: list[Arrow]) -> Counter:
    """Arrows between two different units of the same layer, counted per unit pair."""
    c: Counter = Counter()
    for a in all_arrows:
        s, t = a.units
        if s != t and layer(a.source) is not None and layer(a.source) == layer(a.target):
            c[(s or "<root>", t or "<root>")] += 1
    return c


def largest_files(root: Path = ROOT, n: int = 15) -> list[tuple[int, str]]:
    sizes = [(len(p.read_text(encoding="utf-8").splitlines()), str(p.relative_to(root)))
             for p in (root / PACKAGE).rglob("*.py")]
    return sorted(sizes, reverse=True)[:n]


def duplicates(root: Path = ROOT) -> list[str]:
    """The duplicate finder's report on ``lstheory/`` (the ``duplicates`` tool when on PATH,
    else a count of repeated 8-line windows of normalised code)."""
    tool = shutil.which("duplicates")
    if tool:
        out = subprocess.run([tool, "--repo", str(root / PACKAGE), "--most", "200",
                              "--seconds", "120"], capture_output=True, text=True, timeout=300)
        return out.stdout.splitlines()
    return _window_duplicates(root)


def _window_duplicates(root: Path, window: int = 8) -> list[str]:
    seen: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for path in sorted((root / PACKAGE).rglob("*.py")):
        lines = [(i + 1, re.sub(r"\s+", " ", ln.strip()))
                 for i, ln in enumerate(path.read_text(encoding="utf-8").splitlines())]
        code = [(i, ln) for i, ln in lines if ln and not ln.startswith(("#", "import ",
                                                                         "from "))]
        for k in range(len(code) - window + 1):
            key = tuple(ln for _, ln in code[k:k + window])
            seen[key].append(f"{path.relative_to(root)}:{code[k][0]}")
    groups = [v for v in seen.values() if len(v) > 1]
    return [f"{len(groups)} repeated {window}-line windows (token-normalised, whitespace folded)"]


def report(root: Path = ROOT) -> tuple[str, int]:
    all_arrows = arrows(root)
    up = upward(all_arrows)
    lines = [f"modules: {len(modules(root))}, import arrows between them: {len(all_arrows)} "
             f"({sum(a.lazy for a in all_arrows)} inside functions)", ""]
    lines.append(f"upward arrows (to a higher layer, or engine → claims): {len(up)}")
    for a in sorted(up, key=lambda a: (a.source, a.line)):
        s, t = layer(a.source), layer(a.target)
        lines.append(f"  {a.source}:{a.line} → {a.target}  ({LAYER_NAMES[s]} → {LAYER_NAMES[t]}"
                     f"{', lazy' if a.lazy else ''})")
    free = unlayered(all_arrows)
    if free:
        lines.append(f"units without a layer (add them to LAYERS): {', '.join(sorted(free))}")
    lines.append("")
    for lazy in (False, True):
        cyc = unit_cycles(all_arrows, lazy=lazy)
        what = "module-level and lazy imports" if lazy else "module-level imports only"
        lines.append(f"cycles between units ({what}): {len(cyc)}")
        lines.extend(f"  {' ↔ '.join(c)}" for c in cyc)
    lines.append("")
    wl = within_layer(all_arrows)
    lines.append(f"within-layer arrows between units (allowed): {sum(wl.values())}")
    lines.extend(f"  {s} → {t}: {n}" for (s, t), n in sorted(wl.items()))
    lines.append("")
    lines.append("largest files (lines):")
    lines.extend(f"  {n:5d}  {p}" for n, p in largest_files(root))
    lines.append("")
    lines.append("duplicated blocks (duplicates --repo lstheory --most 200):")
    lines.extend(f"  {ln}" for ln in duplicates(root))
    return "\n".join(lines), len(up)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="exit 1 when an arrow runs up")
    p.add_argument("--no-duplicates", action="store_true", help="skip the duplicate finder")
    p.add_argument("--root", type=Path, default=ROOT,
                   help="a checkout holding lstheory/ (default: this one)")
    args = p.parse_args(argv)
    if args.no_duplicates:
        global duplicates
        duplicates = lambda root=ROOT: ["(skipped)"]  # noqa: E731
    text, n_up = report(args.root.resolve())
    print(text)
    return 1 if args.check and n_up else 0


if __name__ == "__main__":
    sys.exit(main())
