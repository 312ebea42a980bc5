"""Reports for people: what a student may see, what an instructor sees, and the HTML page."""

from __future__ import annotations

import html
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.reports import render, store
from tests.conftest import EXAMPLES, reference_sources

# The sign of the gradient flipped: the visible numerical check and the hidden reference
# comparison of mse_grad both fail.
WRONG_MSE_GRAD = "def mse_grad(y_true, y_pred):\n    return 2 * (y_true - y_pred) / y_pred.size\n"
HIDDEN_TEST = "test_mse_grad_matches_reference"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Bob and a submission with mse_grad's sign flipped, graded with --feedback."""
    base = tmp_path_factory.mktemp("reports")
    folder = base / "submissions" / "flipped_mse"
    folder.mkdir(parents=True)
    for module, source in reference_sources().items():
        if module == "mse":
            source += "\n\n" + WRONG_MSE_GRAD
        (folder / f"{module}.py").write_text(source, encoding="utf-8")
    out, feedback = base / "out", base / "feedback"
    result = CliRunner().invoke(main, ["grade", str(folder), str(EXAMPLES / "bob_mistakes"),
                                       "--out", str(out), "--feedback", str(feedback)])
    assert result.exit_code == 0, result.output
    return {"out": out, "feedback": feedback,
            "flipped": out / "flipped_mse.json", "bob": out / "bob_mistakes.json"}


def the_test(report: dict, name: str) -> dict:
    return next(t for e in report["exercises"] for t in e["tests"] if t["name"] == name)


def secrets(test: dict) -> list[str]:
    """What an instructor sees of a failed hidden test that a student must not."""
    details = test["details"]
    found = [test["message"], details["case"]]
    for key in ("expected", "received"):
        value = details[key]
        found += [repr(value), f"{value:.10g}"]
    return found


@pytest.mark.parametrize("fmt", render.FORMATS)
@pytest.mark.parametrize("audience", render.AUDIENCES)
def test_grader_report_renders_each_format_for_each_audience(graded, fmt, audience):
    """Does ``grader report`` print the rendering of the report for each format and audience?"""
    result = CliRunner().invoke(main, ["report", str(graded["flipped"]), "--format", fmt,
                                       "--audience", audience])
    assert result.exit_code == 0, result.output
    data = store.load(graded["flipped"])
    assert result.stdout == render.render(data, fmt, audience)
    assert 80 < data["score"] < 100
    points = f"flipped_mse: {data['score']:g} / 100 points"
    headline = {"text": points, "md": f"# {points}", "html": "<!doctype html>"}[fmt]
    assert result.stdout.startswith(headline)


@pytest.mark.parametrize("fmt", render.FORMATS)
def test_the_student_view_never_shows_what_a_hidden_test_checked(graded, fmt):
    """Does the student view keep a failed hidden test's name, points and hint, and drop its
    message, inputs, expected and received values?"""
    data = store.load(graded["flipped"])
    hidden = the_test(data, HIDDEN_TEST)
    assert hidden["visibility"] == "hidden" and hidden["status"] == "failed"
    assert hidden["hint"] and hidden["max_score"] == 3
    student = render.render(data, fmt, "student")
    for secret in secrets(hidden):
        assert secret not in student and html.escape(secret) not in student, secret
    assert HIDDEN_TEST in student
    assert "0/3" in student
    assert (html.escape(hidden["hint"]) if fmt == "html" else hidden["hint"]) in student


@pytest.mark.parametrize("fmt", render.FORMATS)
def test_the_instructor_view_shows_everything(graded, fmt):
    """Does the instructor view show the hidden test's message and the isolation in force?"""
    data = store.load(graded["flipped"])
    instructor = render.render(data, fmt, "instructor")
    message = the_test(data, HIDDEN_TEST)["message"]
    assert (html.escape(message) if fmt == "html" else message) in instructor
    assert f"isolation: {data['isolation']['mechanism']}" in instructor


def test_the_html_is_one_self_contained_page_for_a_phone(graded):
    """Does the HTML fetch nothing (no URL, script or stylesheet link) and set a viewport?"""
    page = render.render(store.load(graded["bob"]), "html", "student")
    assert page.startswith("<!doctype html>")
    for fetch in ("http://", "https://", "<script", "<link", " src=", "@import", "url("):
        assert fetch not in page.lower(), fetch
    assert re.search(r"<meta name=viewport content='width=device-width", page)
    assert "<style>" in page


def loss_curve(page: str) -> ET.Element:
    """The report's inline SVG, parsed strictly: unquoted attributes break it in a browser."""
    svgs = re.findall(r"<svg\b.*?</svg>", page, flags=re.S)
    assert len(svgs) == 1
    return ET.fromstring(svgs[0])


def test_the_training_card_plots_the_students_and_the_reference_loss(graded):
    """Does the training exercise carry an inline SVG with the student's
    and the reference's curves?"""
    page = render.render(store.load(graded["bob"]), "html", "student")
    svg = loss_curve(page)
    lines = {line.get("class"): line for line in svg.iter("polyline")}
    assert set(lines) == {"student", "reference"}
    for line in lines.values():
        assert len(line.get("points").split()) >= 50
    assert "gradient-descent step" in "".join(svg.itertext())
    assert page.index("<h2><span>training</span>") < page.index("<svg")


def test_feedback_writes_each_students_html_page(graded):
    """Does ``--feedback DIR`` write DIR/<id>.html, the student view of each report?"""
    written = sorted(p.name for p in graded["feedback"].iterdir())
    assert written == ["bob_mistakes.html", "flipped_mse.html"]
    data = store.load(graded["flipped"])
    page = (graded["feedback"] / "flipped_mse.html").read_text(encoding="utf-8")
    assert page == render.render(data, "html", "student")
    assert html.escape(the_test(data, HIDDEN_TEST)["message"]) not in page


# -- a real browser ----------------------------------------------------------------------

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium() -> str:
    """Chromium, where it is installed; the tests skip, saying why, where it is not."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium is not installed (scripts/install-system-deps installs it; "
                    ".ci/run runs that script)")
    return found


def browse(chromium: str, tmp_path: Path, page: Path, *action: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    return subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *action,
                           page.resolve().as_uri()], capture_output=True, text=True, timeout=120)


def test_bobs_report_renders_in_chromium_at_phone_width(graded, chromium, tmp_path):
    """Does headless Chromium draw Bob's feedback page at 412 px wide, loss curve and all?"""
    page = graded["feedback"] / "bob_mistakes.html"
    shot = tmp_path / "report.png"
    done = browse(chromium, tmp_path, page, "--window-size=412,2400", f"--screenshot={shot}")
    assert shot.is_file(), done.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (412, 2400)
    assert len(png) > 10_000

    # The browser's own reading of the SVG: two sibling polylines, the axis label beside them.
    done = browse(chromium, tmp_path, page, "--dump-dom")
    svg = loss_curve(done.stdout)
    children = [child.tag for child in svg]
    assert children.count("polyline") == 2, children
    assert all(len(line) == 0 for line in svg.iter("polyline"))
    assert any(child.tag == "text" and child.text == "gradient-descent step" for child in svg)
