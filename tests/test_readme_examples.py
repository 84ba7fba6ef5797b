"""The README's Python examples run as written (a user copies them first)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _hypothesis_block() -> str:
    text = (ROOT / "README.md").read_text()
    return next(b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if "@given" in b)


def _run(block: str, namespace: dict) -> None:
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 — our own README
    tests = [v for k, v in namespace.items() if k.startswith("test_") and callable(v)]
    assert tests, "the README's hypothesis block defines no test"
    for t in tests:
        t()  # hypothesis runs its examples; a DeadlineExceeded or a refuted verdict fails here


def test_the_readme_hypothesis_example_runs_under_its_profile_two_examples():
    """As written, but two examples instead of the profile's ten (the full run is slow-tier)."""
    from hypothesis import settings

    block = _hypothesis_block()
    assert "@SETTINGS" in block
    _run(block.replace("@SETTINGS", "@settings(SETTINGS, max_examples=2)"),
         {"settings": settings})


@pytest.mark.slow
def test_the_readme_hypothesis_example_runs_as_written():
    _run(_hypothesis_block(), {})
