"""The GPU figures script (``benchmarks/gpu_figures.py``) runs end to end at tiny sizes on a CPU,
so the one run on a GPU machine does not fail on a typo."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_figures.py"


def _load():
    spec = importlib.util.spec_from_file_location("gpu_figures", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_gpu_figures_smoke_writes_every_section(tmp_path):
    out = tmp_path / "figures.json"
    assert _load().main([str(out), "--smoke", "--inline", "--device", "cpu"]) == 0
    fig = json.loads(out.read_text())
    assert set(fig) == {"meta", "surface", "gram", "paths", "tracker"}
    for name in ("surface", "gram", "paths", "tracker"):
        assert "error" not in fig[name], fig[name].get("traceback")
    s = fig["surface"]
    assert s["fast_points"] == 4 and s["fast_points_per_s"] > 0 and s["loop_points_per_s"] > 0
    assert s["max_rel_diff_vs_loop"] < 1e-4  # the evaluator and the loop agree
    g = fig["gram"]
    assert g["gram_max_rel_err"] < 1e-6 and g["gram_pairs_per_s"] > 0
    assert any(k.startswith("cpu_pairs_per_s@") for k in fig["paths"])
    assert fig["tracker"]["finite@2^3"].startswith("8 of 8")


def test_gpu_figures_refuses_a_folder_as_output(tmp_path):
    from lstheory._errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="out"):
        _load().main([str(tmp_path), "--smoke", "--inline", "--only", "gram"])


@pytest.mark.slow
def test_gpu_figures_sections_run_in_capped_child_processes(tmp_path):
    out = tmp_path / "f.json"
    r = subprocess.run([sys.executable, str(SCRIPT), str(out), "--smoke", "--only", "gram",
                        "--device", "cpu"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    fig = json.loads(out.read_text())
    assert fig["gram"]["gram_pairs_per_s"] > 0 and fig["gram"]["wall_s"] > 0
