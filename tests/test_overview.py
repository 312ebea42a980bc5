"""The instructor's class overview: counts from a graded class, and its page, Markdown and JSON."""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from grader import api, contract
from grader.errors import DuplicateReport, InvalidOverview
from grader.grading import runner
from grader.reports import overview, results, store
from grader.reports.overview_page import CAUTION
from tests.conftest import EXAMPLES, reference_sources
from tests.test_misconceptions import IMPORTS, WRONG
from tests.test_reports import browse, chromium  # noqa: F401 (chromium: a fixture)

EXERCISES = contract.exercise_names("backprop")
ESC = "\x1b"
# A file name may hold all of this: the id of the unreadable submission below.
HOSTILE_ID = f"<img src=x onerror=alert(1)>{ESC}[31m"
# Refused at call time, and caught: Eve's answers are right, only her report's integrity
# section tells.
PRYING = """

def mse_grad(y_true, y_pred):
    for attempt in (lambda: open("/etc/passwd").read(), lambda: __import__("grader")):
        try:
            attempt()
        except Exception:
            pass
    return 2 * (y_pred - y_true) / np.size(y_pred)
"""
SIMILAR = [
    # As grader.course.similarity gives them, shares and all: keys beyond the schema's pass.
    {"a": "dan", "b": "erin", "similarity": 0.934, "a_share": 0.95, "b_share": 0.92,
     "shared": 40, "flagged": True, "regions": [
        {"a_module": "mse.py", "a_lines": [3, 4], "b_module": "mse.py", "b_lines": [7, 8],
         "a_text": "def mse_grad(y_true, y_pred):\n    return '<b>```' + x\n",
         "b_text": f"def mse_grad(y_true, y_pred):\n    return {ESC}[2J 1\n"}]},
    {"a": "alice", "b": "bob_mistakes", "similarity": 0.41, "flagged": False, "regions": [
        {"a_module": "sigmoid.py", "a_lines": [1, 1], "b_module": "sigmoid.py",
         "b_lines": [1, 1], "a_text": "unflagged_a = 1", "b_text": "unflagged_b = 1"}]},
]


def write(folder: Path, sources: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    for module, source in sources.items():
        (folder / f"{module}.py").write_text(source, encoding="utf-8")
    return folder


def with_wrong(*mistakes: str) -> dict[str, str]:
    sources = reference_sources()
    for mistake in mistakes:
        module, definition = WRONG[mistake]
        sources[module] += "\n" + IMPORTS + definition + "\n"
    return sources


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    """Seven submissions graded once: Alice right, Bob's four mistakes, Carol unfinished,
    Dan and Erin with Bob's mse mistake (Erin with his dense one too), Eve right but
    prying, and a zip that is not one, under a hostile name."""
    base = tmp_path_factory.mktemp("class")
    sources = reference_sources()
    sources["mse"] += PRYING
    paths = [write(base / "alice", reference_sources()), EXAMPLES / "bob_mistakes",
             EXAMPLES / "carol_unfinished",
             write(base / "dan", with_wrong("mse-grad-missing-2")),
             write(base / "erin", with_wrong("mse-grad-missing-2", "dense-bias-not-summed")),
             write(base / "eve", sources)]
    unreadable = base / f"{HOSTILE_ID}.zip"
    unreadable.write_bytes(b"this is not a zip")
    out = base / "reports"
    done = api.grade([*paths, unreadable], out, discover=False)
    reports = {s.id: store.load(Path(s.report_path)) for s in done.summaries}
    return {"out": out, "reports": reports, "overview": overview.build(out)}


def scores(graded: dict) -> dict[str, float]:
    return {i: r["score"] for i, r in graded["reports"].items() if r["status"] == "graded"}


def test_the_class_is_counted(graded):
    """Are the reports, graded and failed counted, and the exercises those of the
    assignment graded, with their points?"""
    view = graded["overview"]
    assert (view.reports, view.graded, view.failed) == (7, 6, 1)
    assert view.assignments == ("backprop",) and view.max_score == contract.max_score("backprop")
    assert tuple(e.name for e in view.exercises) == EXERCISES
    assert [e.distribution.max_score for e in view.exercises] == [
        contract.exercise(name).points for name in EXERCISES]


def test_the_distributions_hold_every_graded_score(graded):
    """Does each distribution count the graded submissions' scores, in the right bins, with
    their mean, median, lowest and highest?"""
    view, totals = graded["overview"], scores(graded)
    overall = view.overall
    assert overall.count == 6 == sum(b.count for b in overall.bins)
    assert len(overall.bins) == overview.BINS
    assert overall.mean == pytest.approx(sum(totals.values()) / 6)
    assert (overall.min, overall.max) == (27, 100) and totals["carol_unfinished"] == 27
    assert overall.bins[2].count == 1 and (overall.bins[2].low, overall.bins[2].high) == (20, 30)
    assert overall.bins[-1].count == sum(score >= 90 for score in totals.values())
    for exercise in view.exercises:
        dist = exercise.distribution
        assert dist.count == 6 == sum(b.count for b in dist.bins), exercise.name
        assert dist.bins[-1].high == dist.max_score and dist.bins[0].low == 0


def test_named_mistakes_are_ranked_by_students(graded):
    """Is each named mistake counted once per student, most students first, ties in
    exercise order, with its exercise and the hint its tests gave?"""
    mistakes = [(m.id, m.exercise, m.count, m.students) for m in graded["overview"].mistakes]
    assert mistakes == [
        ("mse-grad-missing-2", "mse", 3, ("bob_mistakes", "dan", "erin")),
        ("dense-bias-not-summed", "dense", 2, ("bob_mistakes", "erin")),
        ("sigmoid-exponent-sign", "sigmoid", 1, ("bob_mistakes",)),
        ("chain-fanout-dropped", "chain_rule", 1, ("bob_mistakes",)),
    ]
    bob = graded["reports"]["bob_mistakes"]
    for mistake in graded["overview"].mistakes:
        naming = [t for e in bob["exercises"] for t in e["tests"]
                  if t["misconception"] == mistake.id]
        assert len(naming) >= 2, mistake.id  # each named by several of Bob's tests
        assert mistake.hint == naming[0]["hint"] and mistake.hint


def reports_with_mistakes(folder: Path) -> Path:
    """Two students: Ann's one mistake named by three tests, Ben's by one."""
    folder.mkdir()
    for student, naming in (("ann", 3), ("ben", 1)):
        tests = tuple(results.TestResult(f"test_{k}", "failed" if k < naming else "passed", 1,
                                         "visible", "wrong", f"hint {k}" if k else "hint",
                                         "mse-grad-sign" if k < naming else None)
                      for k in range(4))
        report = results.SubmissionReport(
            submission=results.SubmissionInfo(student, f"/s/{student}", "0" * 64),
            exercises=(results.ExerciseResult("mse", 4, tests),), grader=runner.grader_info(),
            isolation=runner.Options().isolation_report(), duration_s=0.1)
        store.write(report, folder)
    return folder


def test_a_student_counts_once_however_many_tests_name_the_mistake(tmp_path_factory):
    """Does a mistake named by three of Ann's tests and one of Ben's count two students,
    with the hint its tests gave most often?"""
    view = overview.build(reports_with_mistakes(tmp_path_factory.mktemp("c") / "reports"))
    assert [(m.id, m.count, m.students, m.hint) for m in view.mistakes] == [
        ("mse-grad-sign", 2, ("ann", "ben"), "hint")]
    assert [(t.name, t.count, t.out_of) for t in view.failed_tests] == [
        ("test_0", 2, 2), ("test_1", 1, 2), ("test_2", 1, 2)]


def test_the_tests_most_often_failed_are_counted_from_the_reports(graded):
    """Is each test counted by the graded submissions that did not pass it, out of those
    that ran it, most first, with its visibility; the mse tests Bob, Dan and Erin failed
    first?"""
    failed = graded["overview"].failed_tests
    graded_reports = [r for r in graded["reports"].values() if r["status"] == "graded"]
    for test in failed:
        ran = [(r["submission"]["id"], t) for r in graded_reports for e in r["exercises"]
               if e["name"] == test.exercise for t in e["tests"] if t["name"] == test.name]
        assert test.out_of == len(ran) == 6
        assert test.students == tuple(i for i, t in ran if t["status"] != "passed")
        assert test.count == len(test.students) and {t["visibility"] for _, t in ran} == {
            test.visibility}
    assert [t.count for t in failed] == sorted((t.count for t in failed), reverse=True)
    top = {(t.name, t.visibility, t.students) for t in failed[:2]}
    assert top == {(name, visibility, ("bob_mistakes", "dan", "erin")) for name, visibility in
                   (("test_mse_grad_matches_numerical_derivative", "visible"),
                    ("test_mse_grad_matches_reference", "hidden"))}


def test_not_graded_and_refused_are_listed(graded):
    """Is the unreadable zip listed with its error, and Eve's refused open and import with
    what she tried?"""
    view = graded["overview"]
    assert [n.id for n in view.not_graded] == [HOSTILE_ID]
    assert "not a submission" in view.not_graded[0].error
    refused = {r.event: r for r in view.integrity}
    assert {"open", "import"} <= set(refused)
    assert refused["open"].submissions == ("eve",) and refused["open"].count == 1
    assert "/etc/passwd" in refused["open"].examples and "grader" in refused["import"].examples
    assert scores(graded)["eve"] == 100


def test_the_json_validates_against_the_shipped_schema(graded):
    """Is the JSON the overview's data, valid against schemas/overview.schema.json, with
    the similar pairs only when given?"""
    text = overview.render(graded["overview"], "json")
    data = json.loads(text)
    validator = store.jsonschema().Draft202012Validator(overview.schema())
    assert not list(validator.iter_errors(data))
    assert data["overview_version"] == "1.0" and "schema_version" not in data
    assert data == overview.to_dict(graded["overview"]) and "similar" not in data
    assert data["mistakes"][0] == {"id": "mse-grad-missing-2", "exercise": "mse",
                                   "hint": graded["overview"].mistakes[0].hint, "count": 3,
                                   "students": ["bob_mistakes", "dan", "erin"]}
    assert data["not_graded"][0]["id"] == HOSTILE_ID
    with_pairs = json.loads(overview.render(graded["overview"], "json", SIMILAR))
    assert with_pairs["similar"] == SIMILAR
    assert not list(validator.iter_errors(with_pairs))


@pytest.mark.parametrize("fmt", overview.FORMATS)
def test_similar_pairs_in_another_shape_are_refused(graded, fmt):
    """Is a pair with a similarity over 1, or without its regions, one clear error?"""
    for bad in ({**SIMILAR[0], "similarity": 1.5}, {k: SIMILAR[0][k] for k in "ab"}):
        with pytest.raises(InvalidOverview, match="would not match its schema"):
            overview.render(graded["overview"], fmt, [bad])


def test_the_markdown_has_tables_and_counts_per_bin(graded):
    """Does the Markdown give the scores, the counts per bin, the ranked mistakes, the tests,
    the failed submission and the refusals as tables, and the pairs when given?"""
    view = graded["overview"]
    text = overview.render(view, "md")
    assert text.startswith("# Class overview: backprop\n")
    assert "| overall | " + " | ".join(str(b.count) for b in view.overall.bins) + " |" in text
    assert "| 1 | `mse-grad-missing-2` | `mse` | 3 | " in text
    assert "| `test_mse_grad_matches_reference` | `mse` | hidden | 3 of 6 |" in text
    assert "| `open` | 1 | `eve` | /etc/passwd |" in text
    for heading in ("## Scores", "## Named mistakes", "## Tests most often failed",
                    "## Submissions not graded", "## Refused by the sandbox"):
        assert f"\n{heading}\n" in text
    assert "Similar submissions" not in text
    paired = overview.render(view, "md", SIMILAR)
    assert f"**{CAUTION}**" in paired and "| `dan` | `erin` | 93% | yes |" in paired
    assert "````\ndef mse_grad(y_true, y_pred):\n    return '<b>```' + x\n````" in paired
    assert "unflagged_a" not in paired  # the regions of flagged pairs only


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_student_data_cannot_break_the_page_or_the_terminal(fmt, tmp_path_factory):
    """Are a hostile id, message, hint, mistake id and refused detail escaped in HTML, and
    their control characters written out in both formats?"""
    folder = tmp_path_factory.mktemp("hostile") / "reports"
    folder.mkdir()
    evil = f"<script>alert(1)</script>{ESC}[2J\u202e|"
    test = results.TestResult("test_x", "failed", 1, "hidden", evil, evil, evil)
    report = results.SubmissionReport(
        submission=results.SubmissionInfo(HOSTILE_ID, "/s/x", "0" * 64),
        exercises=(results.ExerciseResult("mse", 1, (test,)),), grader=runner.grader_info(),
        isolation=runner.Options().isolation_report(), duration_s=0.1,
        integrity=({"event": "open", "detail": evil},))
    store.write(report, folder)
    text = overview.render(overview.build(folder), fmt, [
        {**SIMILAR[0], "a": evil, "regions": [{**SIMILAR[0]["regions"][0], "a_text": evil}]}])
    for raw in (ESC, "\u202e"):
        assert raw not in text
    assert "\\x1b[2J" in text and "\\x1b[31m" in text and "\\u202e" in text
    if fmt == "html":
        assert "<script" not in text and "<img" not in text
        assert html.escape("<script>alert(1)</script>") in text
        assert html.escape("<img src=x onerror=alert(1)>") in text
    else:
        assert "\\<script\\>alert(1)\\</script\\>" in text  # the hint: no HTML in Markdown
        assert "\\|" in text


def svgs(page: str) -> list[ET.Element]:
    """The page's histograms, parsed strictly: an unquoted attribute would break them."""
    found = re.findall(r'<svg viewBox="[^"]*" role="img" class="histogram">.*?</svg>', page,
                       flags=re.S)
    return [ET.fromstring(svg) for svg in found]


def check_histogram(svg: ET.Element, bins) -> None:
    bars = [rect for rect in svg.iter("rect") if rect.get("class") == "bin"]
    assert [int(bar.get("data-count")) for bar in bars] == [b.count for b in bins]
    peak = max(b.count for b in bins)
    tallest = max(float(bar.get("height")) for bar in bars)
    for bar, b in zip(bars, bins, strict=True):
        assert float(bar.get("height")) == pytest.approx(tallest * b.count / peak, abs=0.11)
        assert bar.find("title") is not None and bar.find("title").text.startswith(
            f"{b.count} student")
    assert list(svg)[0].tag == "title" and "graded submission" in list(svg)[0].text
    words = "".join(svg.itertext())
    assert "students" in words and "points (out of" in words


def test_the_page_is_one_self_contained_instructors_page(graded):
    """Is the page self-contained, for a phone, the instructor's (hidden tests, refusals),
    with a histogram per exercise and overall whose bars are the bins' counts?"""
    view = graded["overview"]
    page = overview.render(view, "html")
    assert page.startswith("<!doctype html>")
    for fetch in ("http://", "https://", "<script", "<link", "<img", "<iframe", "@import",
                  "url("):
        assert fetch not in page.lower(), fetch
    assert "<meta name=viewport content='width=device-width,initial-scale=1'>" in page
    assert "Instructor&#x27;s view" in page and "hidden test" in page
    for section in ("overall", "exercises", "mistakes", "tests", "not-graded", "integrity"):
        assert f"id={section}>" in page, section
    assert "id=similar>" not in page
    found = svgs(page)
    assert len(found) == 1 + len(EXERCISES)
    for svg, dist in zip(found, [view.overall, *(e.distribution for e in view.exercises)],
                         strict=True):
        check_histogram(svg, dist.bins)


def test_the_page_shows_similar_pairs_side_by_side_with_the_caution(graded):
    """With pairs, is there a section that says a similarity is no verdict, lists each pair
    and shows each flagged pair's regions in two escaped <pre>s?"""
    page = overview.render(graded["overview"], "html", SIMILAR)
    section = page[page.index("<section class=card id=similar>"):]
    assert f"<p class=caution>{CAUTION}</p>" in section
    assert "<b>dan</b> and <b>erin</b>: <span class=count>93%</span>" in section
    assert "<b>alice</b> and <b>bob_mistakes</b>: <span class=count>41%</span></li>" in section
    regions = re.findall(r"<div class=region>(.*?)</div></div>", section, flags=re.S)
    assert len(regions) == 1 and regions[0].count("<pre>") == 2
    assert "dan: mse.py, lines 3-4" in regions[0] and "erin: mse.py, lines 7-8" in regions[0]
    assert "return &#x27;&lt;b&gt;```&#x27; + x" in regions[0]
    assert "unflagged_a" not in page


# -- a real browser ------------------------------------------------------------------------

# The page in an iframe as wide as a phone: headless Chromium's window is at least 500 px
# wide, but a frame is as narrow as it is told. The probe writes what it measured into the
# DOM that --dump-dom prints; the page itself has no script.
PROBE = """<!doctype html><html><body style="margin:0"><iframe id=f style="width:{width}px;
height:4000px;border:0" srcdoc="{page}"></iframe><script>
var f = document.getElementById("f");
f.onload = function () {{
  var d = f.contentDocument, w = d.documentElement.clientWidth, over = [];
  d.querySelectorAll("body *").forEach(function (e) {{
    if (e.getBoundingClientRect().right > w + 0.5) over.push(e.tagName + "." + e.className);
  }});
  document.body.setAttribute("data-width", w);
  document.body.setAttribute("data-scroll", d.documentElement.scrollWidth);
  document.body.setAttribute("data-over", over.join(" "));
}};
</script></body></html>"""


def measured(browser: str, tmp_path: Path, page: str, width: int) -> dict[str, str]:
    probe = tmp_path / f"probe-{width}-{len(list(tmp_path.glob('probe-*')))}.html"
    probe.write_text(PROBE.format(width=width, page=html.escape(page)), encoding="utf-8")
    done = browse(browser, tmp_path, probe, "--window-size=800,1200", "--dump-dom")
    body = re.search(r"<body[^>]*>", done.stdout)
    assert body, done.stderr[-2000:]
    return dict(re.findall(r'data-(\w+)="([^"]*)"', body.group()))


@pytest.mark.parametrize("width", [375, 412])
def test_the_page_fits_a_phone_in_chromium(graded, chromium, tmp_path, width):  # noqa: F811
    """Does headless Chromium draw the page, pairs and all, at a phone's width with nothing
    wider than the screen, and read every histogram as drawn?"""
    page_text = overview.render(graded["overview"], "html", SIMILAR)
    page = tmp_path / "class.html"
    page.write_text(page_text, encoding="utf-8")
    shot = tmp_path / "class.png"
    done = browse(chromium, tmp_path, page, f"--window-size={width},2400",
                  f"--screenshot={shot}")
    assert shot.is_file(), done.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (width, 2400)
    assert len(png) > 10_000

    dom = browse(chromium, tmp_path, page, "--dump-dom").stdout
    for section in ("overall", "mistakes", "tests", "not-graded", "integrity", "similar"):
        assert f'id="{section}"' in dom, section
    view = graded["overview"]
    drawn = [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", dom, flags=re.S)]
    assert len(drawn) == 1 + len(EXERCISES)
    for svg, dist in zip(drawn, [view.overall, *(e.distribution for e in view.exercises)],
                         strict=True):
        check_histogram(svg, dist.bins)

    seen = measured(chromium, tmp_path, page_text, width)
    assert 0 < int(seen["width"]) <= width
    assert int(seen["scroll"]) <= int(seen["width"]) and seen["over"] == "", seen


def test_the_phone_probe_sees_a_page_too_wide(graded, chromium, tmp_path):  # noqa: F811
    """Would the probe above see an element wider than the phone (it can fail)?"""
    page = overview.render(graded["overview"], "html").replace(
        "</main>", "<div class=wide style='width:600px'>x</div></main>")
    seen = measured(chromium, tmp_path, page, 375)
    assert int(seen["scroll"]) > int(seen["width"]) and "DIV.wide" in seen["over"]


def test_build_reads_the_folder_as_the_gradebook_does(tmp_path_factory):
    """Is a folder of reports with a duplicate id refused as the gradebook refuses it?"""
    folder = reports_with_mistakes(tmp_path_factory.mktemp("d") / "reports")
    shutil.copy(folder / "ann.json", folder / "ann-again.json")
    with pytest.raises(DuplicateReport, match="two reports for 'ann'"):
        overview.build(folder)
