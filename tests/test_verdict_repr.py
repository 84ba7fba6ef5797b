"""Verdicts in a REPL and a notebook: a short repr, an HTML view with the evidence's machine keys,
escaping, shortened long values and the figure inline; machine keys are identifiers."""

import base64
import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from lstheory.claims import Evidence, HypothesisCheck, Outcome, Table, Verdict
from lstheory.claims._verdict import machine_key

_PNG = b"\x89PNG\r\n\x1a\n"

texts = st.text(min_size=1, max_size=40)
values = st.one_of(
    st.integers(-10**9, 10**9),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.floats(-1e6, 1e6), max_size=400),
    st.text(max_size=60),
)


@st.composite
def verdicts(draw):
    n_ev = draw(st.integers(0, 30))
    return Verdict(
        claim=draw(st.from_regex(r"[a-z][a-z0-9\-]{0,20}", fullmatch=True)),
        title=draw(texts), tag=draw(st.sampled_from(["proven", "heuristic", "empirical"])),
        source=draw(texts), outcome=draw(st.sampled_from(list(Outcome))),
        reason=draw(st.text(min_size=1, max_size=2000)), seed=draw(st.integers(0, 2**31)),
        instance={"n": draw(st.integers(1, 100))},
        hypotheses=tuple(HypothesisCheck(f"h{i}", draw(texts), draw(st.booleans()))
                         for i in range(draw(st.integers(0, 4)))),
        evidence=tuple(Evidence(f"{draw(texts)} {i}", draw(values)) for i in range(n_ev)),
        tables=(Table("t", ("a", "b"), tuple((i, float(i)) for i in range(draw(
            st.integers(0, 50))))),),
    )


@settings(deadline=None, max_examples=60)
@given(verdicts())
def test_repr_is_one_screen_whatever_the_evidence(v):
    text = repr(v)
    lines = text.splitlines()
    assert len(lines) <= 3 and all(len(line) <= 400 for line in lines)
    assert v.claim in lines[0] and v.outcome.value.upper() in lines[0]
    assert f"{len(v.evidence)} evidence item" in text
    assert sum(h.holds for h in v.hypotheses) == (
        int(re.search(r"(\d+)/\d+ hypotheses hold", text).group(1)) if v.hypotheses else 0)


@settings(deadline=None, max_examples=60)
@given(verdicts())
def test_html_shows_every_evidence_key_and_label_escaped_and_bounded(v):
    import html as h

    page = v._repr_html_()
    assert h.escape(v.outcome.value) in page
    for e in v.evidence:
        assert f"<code>{h.escape(e.key)}</code>" in page
        assert h.escape(e.name) in page
    # no value prints more than its first items: a 400-number list never reaches the page whole
    assert len(page) < 4000 + 600 * len(v.evidence) + 200 * len(v.tables[0].rows) + 3 * len(
        v.reason) + 300 * len(v.hypotheses)


def _verdict(**kw):
    base = dict(claim="demo", title="t", tag="proven", source="s", outcome=Outcome.REFUTED,
                reason="<script>alert(1)</script>", seed=1, instance={},
                evidence=(Evidence("L* (global value)", 1e-30), Evidence("x<y", 2)),
                counterexample={"theta": list(range(1000))})
    base.update(kw)
    return Verdict(**base)


def test_html_escapes_text_and_shortens_the_counterexample():
    page = _verdict()._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "x&lt;y" in page and "1000 items" in page and "999" not in page
    assert "<img" not in page  # no figure, none shown


@pytest.mark.parametrize("as_what", ["figure", "bytes", "path"])
def test_html_embeds_the_figure_as_an_inline_png(tmp_path, as_what):
    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [1, 0])
    png_path = tmp_path / "f.png"
    fig.savefig(png_path)
    figure = {"figure": fig, "bytes": png_path.read_bytes(), "path": str(png_path)}[as_what]
    v = _verdict(figure=figure)
    m = re.search(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", v._repr_html_())
    assert m and base64.b64decode(m.group(1)).startswith(_PNG)
    # the figure is display only: not in the JSON, not compared, not in the repr
    assert "figure" not in v.to_dict()
    assert Verdict.from_json(v.to_json()) == v == _verdict()
    assert "Figure" not in repr(v)


def test_a_path_that_is_not_a_png_file_shows_no_figure(tmp_path):
    (tmp_path / "f.txt").write_text("not a png")
    for figure in (tmp_path / "f.txt", tmp_path / "missing.png"):
        assert "<img" not in _verdict(figure=figure)._repr_html_()


@settings(deadline=None, max_examples=200)
@given(st.text(max_size=60))
def test_machine_keys_are_snake_case_identifiers(label):
    key = machine_key(label)
    assert re.fullmatch(r"[a-z_][a-z0-9_]*", key)
    assert key == machine_key(label)


def test_machine_keys_spell_the_notation_and_survive_json():
    assert machine_key("L* (global value)") == "l_star_global_value"
    assert machine_key("N_λ search (λ−L*=1e-2)") == "n_lambda_search_lambda_minus_l_star_eq_1e_2"
    v = _verdict(evidence=(Evidence("q (intrinsic dimension)", 3),
                           Evidence("custom", 1, key="my_key")))
    d = json.loads(v.to_json())
    assert [e["key"] for e in d["evidence"]] == ["q_intrinsic_dimension", "my_key"]
    back = Verdict.from_json(v.to_json())
    assert back == v and back.evidence_value("my_key") == 1
    assert back.evidence_value("q (intrinsic dimension)") == 3


def test_long_numeric_evidence_is_shortened_in_html():
    v = _verdict(evidence=(Evidence("gaps", np.arange(500.0).tolist()),))
    page = v._repr_html_()
    assert "500 items" in page and "499" not in page


def _results():
    """One instance of each result type a notebook user meets first, holding big arrays."""
    import torch

    from lstheory.algebra import MonodromyResult, RealRootSample
    from lstheory.convex._solver import ConvexFit
    from lstheory.mds import Dissimilarity, EigenDiagnostics, ProcrustesResult
    from lstheory.paths import Path, PathCertificate
    from lstheory.surface import Grid, Surface

    big = np.random.default_rng(0).standard_normal((300, 300))
    grid = Grid.linspace(-1, 1, 300, -1, 1, 300)
    return [
        Surface(grid, {"train_loss": big}, np.ones(big.shape, bool)),
        grid,
        Path(torch.randn(50, 5000)),
        PathCertificate("sampled", 1.0, 0.0, 3, 0.5, (0.1, 0.2), tuple(range(5000))),
        Dissimilarity(big, "cosine", None, np.arange(300), np.arange(300)),
        ProcrustesResult(big[:, :2], np.eye(2), 1.0, np.zeros(2), 0.1),
        RealRootSample(np.arange(10_000), 3.0),
        MonodromyResult(big, big[0], 10, 2, 4, (1, 2), "stall", 1.0),
        ConvexFit(torch.zeros(30, 40, 20), torch.zeros(20), 0.5, tuple(range(1000)), 3, True,
                  "converged", 1.0),
        EigenDiagnostics(big[0], 0, 0.0, 0.0, 0.9, "no negative eigenvalues"),
    ]


@pytest.mark.parametrize("result", _results(), ids=lambda r: type(r).__name__)
def test_result_reprs_are_summaries_not_arrays(result):
    text = repr(result)
    assert type(result).__name__ in text
    assert len(text) < 600 and "array(" not in text and "tensor(" not in text
