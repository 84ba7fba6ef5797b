"""The package version and the exact source revision a result was computed with.

``__version__`` names the release; ``source_revision()`` names the code: ``git describe`` of the
checkout the package is imported from (``-dirty`` when it has uncommitted changes), or, outside a
git work tree (an installed wheel, a copied folder), ``sha256:`` and a hash of the package's own
source files. Every verdict records both, so a result can be traced to the code that made it.
"""

from __future__ import annotations

import functools
import hashlib
import subprocess
from pathlib import Path

__all__ = ["__version__", "source_revision"]

__version__ = "0.1.0"

_PACKAGE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=1)
def source_revision() -> str:
    """``git describe --always --dirty --tags`` of the package's checkout, else a source hash."""
    rev = _git_describe()
    return rev if rev else "sha256:" + _source_hash()[:16]


def _git_describe() -> str | None:
    root = _PACKAGE.parent
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "-C", str(root), "describe", "--always", "--dirty", "--tags",
                              "--abbrev=12"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    text = out.stdout.strip()
    return f"git:{text}" if out.returncode == 0 and text else None


def _source_hash() -> str:
    h = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        h.update(str(path.relative_to(_PACKAGE)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()
