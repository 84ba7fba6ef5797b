"""A small notebook run in a real Jupyter kernel (nbclient + ipykernel): a verdict shows as HTML,
a surface figure comes back as ``image/png`` display data, and the kernel's matplotlib backend is
the one the user chose (``%matplotlib inline``) before and after."""

import json
import sys

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

KERNEL = "lstheory-test-venv"

CELLS = [
    "%matplotlib inline\nimport matplotlib\nbackend0 = matplotlib.get_backend()\nprint(backend0)",
    'import lstheory\nv = lstheory.verify("venturi", budget="fast", n_data=4, starts=4,'
    " progress=False)\nv",
    "from lstheory.data import load_digits\n"
    "from lstheory.models import build_model\n"
    "from lstheory.surface import Grid, compute_surface, plot_surface, random_direction\n"
    "data = load_digits().subset(40, 20, seed=0)\n"
    'net = build_model("mlp", input_shape=data.input_shape, hidden=(8,)).eval()\n'
    "dirs = [random_direction(net, seed=0, stream=s) for s in 'xy']\n"
    "surf = compute_surface(net, data, dirs, Grid.linspace(-1, 1, 5, -1, 1, 5))\n"
    "plot_surface(surf)",
    "surf",
    "import json\nprint(json.dumps({'before': backend0, 'after': matplotlib.get_backend()}))",
]


@pytest.fixture
def kernel_env(tmp_path, monkeypatch):
    """A kernel spec for this interpreter (the venv's python) in a temporary Jupyter path; the
    kernel's runtime and IPython files stay under ``tmp_path`` too (nothing in the home)."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "lstheory test (venv)", "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return KERNEL


def _outputs(cell, kind):
    return [o for o in cell.outputs if o.output_type in ("display_data", "execute_result")
            and kind in o.get("data", {})]


def test_notebook_shows_verdict_html_and_surface_png_and_keeps_the_backend(kernel_env):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nbclient.NotebookClient(nb, kernel_name=kernel_env, timeout=240,
                            allow_errors=False).execute()
    start, verdict, figure, surface, end = nb.cells

    html = _outputs(verdict, "text/html")
    assert html and "lstheory-verdict" in html[0]["data"]["text/html"]
    assert "venturi" in html[0]["data"]["text/plain"]  # the short repr, not a dataclass dump
    assert len(html[0]["data"]["text/plain"].splitlines()) <= 3

    png = _outputs(figure, "image/png")
    assert png and png[0]["data"]["image/png"]  # the returned Figure is displayed

    view = _outputs(surface, "text/html")[0]["data"]
    assert "data:image/png;base64," in view["text/html"]
    assert "array(" not in view["text/plain"] and "5×5" in view["text/plain"]

    said = json.loads("".join(o.get("text", "") for o in end.outputs).strip())
    assert said["before"] == said["after"]
    assert "inline" in said["after"]
