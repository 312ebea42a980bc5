"""Reports for people: plain text, Markdown, or one self-contained HTML page.

Two audiences. The instructor sees everything. The student sees, for hidden tests,
only the name, the points, the status and the hint: never their inputs, expected
values, messages or details, which would give the hidden tests away.
"""

from __future__ import annotations

import copy
import html
import math
import re

AUDIENCES = ("student", "instructor")
FORMATS = ("text", "md", "html")
STATUS_WORDS = {"passed": "passed", "failed": "failed", "error": "raised an error",
                "timeout": "timed out", "crashed": "crashed the worker",
                "not_implemented": "not implemented", "missing": "missing"}


def for_audience(report: dict, audience: str) -> dict:
    """A copy of ``report`` with what ``audience`` may not see taken out."""
    view = copy.deepcopy(report)
    if audience == "instructor":
        return view
    for exercise in view["exercises"]:
        for test in exercise["tests"]:
            visible = test["visibility"] == "visible"
            # Of a visible test's details the student sees the loss curve and where in their
            # own code an error was raised; nothing of a hidden test's.
            test["details"] = {key: test["details"][key] for key in ("loss_curve", "where")
                               if visible and test["details"].get(key)}
            if test["visibility"] == "hidden" and test["status"] != "passed":
                where = ("the hint says where to look" if test["hint"] else
                         "the public tests of this exercise are the place to start")
                test["message"] = (f"a hidden test {STATUS_WORDS[test['status']]}; "
                                   f"its inputs stay hidden, {where}")
    view["integrity"] = []
    return view


def render(report: dict, fmt: str = "text", audience: str = "student") -> str:
    view = for_audience(report, audience)
    return printable({"text": _text, "md": _markdown, "html": _html}[fmt](view, audience))


SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with each lone surrogate written out, so that it encodes as UTF-8.

    A folder name that is not UTF-8 reaches a report as surrogate escapes (byte 0xE9 of a
    Latin-1 ``café`` is U+DCE9): it shows as ``caf\\xe9``, the byte's value; any other lone
    surrogate shows as ``\\uXXXX``.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return SURROGATE.sub(_escape_surrogate, text)


def _escape_surrogate(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def _headline(view: dict) -> str:
    sub = view["submission"]
    if view["status"] == "failed":
        return f"{sub['id']}: not graded ({view['error']})"
    return f"{sub['id']}: {view['score']:g} / {view['max_score']:g} points"


def _failed_tests(exercise: dict):
    return [t for t in exercise["tests"] if t["status"] != "passed"]


def describe_place(where: dict) -> str:
    """Where the student's code raised: ``exercises/sigmoid.py, line 3, in helper: `return z[5]```;
    the source line in backquotes, so that its own brackets are not read as the message's."""
    text = f"{where.get('file')}, line {where.get('line')}"
    if where.get("function") and where["function"] != "<module>":
        text += f", in {where['function']}"
    return text + (f": `{where['source']}`" if where.get("source") else "")


def message_of(test: dict) -> str:
    """A test's message, with the place in the student's code where it raised, if known."""
    where = test["details"].get("where")
    if test["message"] and isinstance(where, dict):
        return f"{test['message']} ({describe_place(where)})"
    return test["message"]


def _text(view: dict, audience: str) -> str:
    lines = [_headline(view), ""]
    for exercise in view["exercises"]:
        lines.append(f"{exercise['name']:<14} {exercise['score']:g}/{exercise['max_score']:g}  "
                     f"{exercise['status'].replace('_', ' ')}")
        for test in _failed_tests(exercise):
            tag = " (hidden)" if test["visibility"] == "hidden" else ""
            lines.append(f"  - {test['name']}{tag}: {STATUS_WORDS[test['status']]}, "
                         f"0/{test['max_score']:g}")
            if test["message"]:
                lines.append(f"      {message_of(test)}")
            if test["hint"]:
                lines.append(f"      hint: {test['hint']}")
            if audience == "instructor" and test["details"].get("traceback"):
                lines += ["      " + line
                          for line in test["details"]["traceback"].splitlines()[-6:]]
    lines += _notes(view, audience)
    return "\n".join(lines) + "\n"


def _notes(view: dict, audience: str) -> list[str]:
    lines = []
    if view["problems"]:
        lines += ["", "About the files:"] + [f"  - {p}" for p in view["problems"]]
    if audience == "instructor" and view["integrity"]:
        lines += ["", "Refused by the sandbox (evidence for the instructor):"]
        lines += [f"  - {r.get('event')}: {r.get('detail')}" for r in view["integrity"]]
    if audience == "instructor":
        lines += ["", f"isolation: {view['isolation']['mechanism']}; "
                      f"graded in {view['duration_s']:.2f} s by grader {view['grader']['version']}"]
    return lines


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _markdown(view: dict, audience: str) -> str:
    lines = [f"# {_headline(view)}", "", "| exercise | points | status |", "| --- | ---: | --- |"]
    for exercise in view["exercises"]:
        lines.append(f"| {exercise['name']} | {exercise['score']:g}/{exercise['max_score']:g} | "
                     f"{exercise['status'].replace('_', ' ')} |")
    for exercise in view["exercises"]:
        failed = _failed_tests(exercise)
        if not failed:
            continue
        lines += ["", f"## {exercise['name']}", ""]
        for test in failed:
            tag = " *(hidden)*" if test["visibility"] == "hidden" else ""
            lines.append(f"- **{test['name']}**{tag}: {STATUS_WORDS[test['status']]}, "
                         f"0/{test['max_score']:g}")
            if test["message"]:
                lines.append(f"  - {_md_cell(message_of(test))}")
            if test["hint"]:
                lines.append(f"  - Hint: {_md_cell(test['hint'])}")
    lines += [line.replace("  - ", "- ") for line in _notes(view, audience)]
    return "\n".join(lines) + "\n"


# -- HTML ---------------------------------------------------------------------------

CSS = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
main{max-width:46rem;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.5rem 0 1rem}
.total{font-size:2rem;font-weight:700}
.card{background:#fff;border-radius:.6rem;padding:.8rem 1rem;margin:.8rem 0;box-shadow:0 1px 3px #0002}
.card h2{font-size:1.1rem;margin:0;display:flex;justify-content:space-between;gap:.5rem}
.bar{height:.4rem;background:#e3e6ea;border-radius:.2rem;margin:.4rem 0 .6rem}
.bar span{display:block;height:100%;border-radius:.2rem;background:#2f9e5b}
.partial .bar span{background:#e0a100}.failed .bar span,.missing .bar span{background:#d33f49}
ul{padding-left:1.1rem;margin:.3rem 0}li{margin:.4rem 0;overflow-wrap:anywhere}
.status{font-size:.8rem;font-weight:600;padding:.05rem .4rem;border-radius:.3rem;background:#fde7e9;color:#9b1c26}
.points{font-size:.8rem;color:#5b6470;white-space:nowrap}
.hidden-tag{font-size:.75rem;color:#5b6470}
.hint{background:#eaf4ff;border-left:3px solid #2b7bd3;padding:.3rem .6rem;margin:.3rem 0;border-radius:.2rem}
.hint.again{color:#5b6470;font-size:.85rem}
.msg{font-family:ui-monospace,Menlo,monospace;font-size:.85rem;overflow-wrap:anywhere}
svg{width:100%;height:auto;max-width:30rem;display:block}
.legend{font-size:.85rem}.legend b{display:inline-block;width:1rem;height:0;border-top:.2rem solid;vertical-align:middle;margin:0 .3rem}
footer{color:#5b6470;font-size:.8rem;margin:1.5rem 0}
"""  # noqa: E501 (minified CSS: one rule, or a few short ones, a line)


def _html(view: dict, audience: str) -> str:
    e = html.escape
    parts = [f"<h1>{e(view['submission']['id'])}</h1>"]
    if view["status"] == "failed":
        parts.append(f"<p class=card>Not graded: {e(view['error'] or '')}</p>")
    else:
        parts.append(f"<p class=total>{view['score']:g} / {view['max_score']:g}</p>")
    for exercise in view["exercises"]:
        share = exercise["score"] / exercise["max_score"] if exercise["max_score"] else 0
        items, hints_shown = [], set()
        for test in _failed_tests(exercise):
            tag = (" <span class=hidden-tag>hidden test</span>"
                   if test["visibility"] == "hidden" else "")
            item = (f"<li><span class=status>{e(STATUS_WORDS[test['status']])}</span> "
                    f"<span class=points>0/{test['max_score']:g}</span> {e(test['name'])}{tag}")
            if test["message"]:
                item += f"<div class=msg>{e(message_of(test))}</div>"
            if test["hint"] in hints_shown:
                # On a phone the same five-line hint three times buries the rest.
                item += "<div class='hint again'>Hint: the same as above.</div>"
            elif test["hint"]:
                hints_shown.add(test["hint"])
                item += f"<div class=hint>{e(test['hint'])}</div>"
            items.append(item + "</li>")
        curves = [t["details"]["loss_curve"] for t in exercise["tests"]
                  if t["details"].get("loss_curve")]
        parts.append(
            f"<section class='card {e(exercise['status'])}'><h2><span>{e(exercise['name'])}</span>"
            f"<span>{exercise['score']:g}/{exercise['max_score']:g}</span></h2>"
            f"<div class=bar><span style='width:{share * 100:.0f}%'></span></div>"
            + (f"<ul>{''.join(items)}</ul>" if items else "<p>All tests passed.</p>")
            + (loss_curve_svg(curves[0]) if curves else "") + "</section>")
    notes = _notes(view, audience)
    if notes:
        parts.append("<footer>" + "<br>".join(e(n) for n in notes if n) + "</footer>")
    return ("<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<title>{e(_headline(view))}</title><style>{CSS}</style></head>"
            f"<body><main>{''.join(parts)}</main></body></html>\n")


def loss_curve_svg(curves: dict, width: int = 480, height: int = 240) -> str:
    """The student's training loss against the reference's, on a log scale, as inline SVG.

    Every attribute is quoted: in HTML an unquoted value swallows the ``/`` of ``/>``,
    and the next element would be drawn inside (that is, not at all).
    """
    series = [(name, colour, curves.get(name) or []) for name, colour in
              (("student", "#2b7bd3"), ("reference", "#5b6470"))]
    points = [(step, loss) for _, _, data in series for step, loss in data if loss > 0]
    if not points:
        return ""
    left, right, top, bottom = 52, 10, 10, 40
    max_step = max(step for step, _ in points) or 1
    lo = math.log10(min(loss for _, loss in points))
    hi = math.log10(max(loss for _, loss in points))
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5

    def x(step):
        return left + (width - left - right) * step / max_step

    def y(loss):
        return top + (height - top - bottom) * (hi - math.log10(loss)) / (hi - lo)

    out = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="training loss per step">',
           f'<rect x="{left}" y="{top}" width="{width - left - right}" '
           f'height="{height - top - bottom}" fill="none" stroke="#c9ced6"/>']
    for exponent in range(math.ceil(lo), math.floor(hi) + 1):
        yy = y(10.0 ** exponent)
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" '
                   f'stroke="#e3e6ea"/><text x="{left - 6}" y="{yy + 5:.1f}" font-size="15" '
                   f'text-anchor="end">1e{exponent}</text>')
    # The student's line first: where the two agree, the dashed reference shows on top of it.
    for name, colour, data in series:
        path = " ".join(f"{x(s):.1f},{y(v):.1f}" for s, v in data if v > 0)
        if path:
            dashes = ' stroke-dasharray="6 5"' if name == "reference" else ""
            width_px = "2" if name == "reference" else "4"
            out.append(f'<polyline class="{name}" points="{path}" fill="none" stroke="{colour}" '
                       f'stroke-width="{width_px}"{dashes}/>')
    out.append(f'<text x="{(left + width - right) / 2:.0f}" y="{height - 10}" font-size="16" '
               'text-anchor="middle">gradient-descent step</text></svg>')
    legend = ("<div class=legend><b style='color:#2b7bd3'></b>your loss"
              + ("<b style='color:#5b6470;border-top-style:dashed'></b>reference"
                 if curves.get("reference") else "")
              + "</div>")
    return "".join(out) + legend


def loss_curve_text(losses: list[float], width: int = 60, height: int = 15) -> str:
    """A loss curve drawn in text, ``width`` by ``height`` characters plus its axes: on a log
    scale when the losses are positive and span more than a factor 10, else a linear one.
    Consecutive losses are joined by a line; non-finite ones are left out, and the title
    says how many."""
    finite = [(k, v) for k, v in enumerate(losses) if math.isfinite(v)]
    if not finite:
        return f"no finite loss to plot ({len(losses)} losses, none of them a finite number)"
    values = [v for _, v in finite]
    log = min(values) > 0 and max(values) > 10 * min(values)
    scaled = [(k, math.log10(v) if log else v) for k, v in finite]
    lo, hi = min(t for _, t in scaled), max(t for _, t in scaled)
    if hi - lo <= 1e-12 * max(abs(hi), abs(lo)):
        pad = abs(hi) / 2 or 1.0
        lo, hi = lo - pad, hi + pad
    last = max(len(losses) - 1, 1)
    points = [(k * (width - 1) / last, (hi - t) / (hi - lo) * (height - 1)) for k, t in scaled]
    grid = [[" "] * width for _ in range(height)]
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[-1:], strict=True):
        for c in range(round(x0), round(x1) + 1):
            ends = [y0, y1] if x1 == x0 else [
                y0 + (y1 - y0) * (min(max(c + d, x0), x1) - x0) / (x1 - x0) for d in (-0.5, 0.5)]
            for r in range(round(min(ends)), round(max(ends)) + 1):
                grid[r][c] = "*"

    def label(row: int) -> str:
        t = hi - (hi - lo) * row / (height - 1)
        return f"{10 ** t if log else t:9.3g}"

    marks = {0: label(0), height // 2: label(height // 2), height - 1: label(height - 1)}
    lines = [f"{marks.get(r, ' ' * 9)} |{''.join(row)}".rstrip() for r, row in enumerate(grid)]
    steps = f"{len(losses) - 1}"
    lines.append(" " * 10 + "+" + "-" * width)
    lines.append(" " * 11 + "0" + "step".center(width - 1 - len(steps)) + steps)
    title = (f"loss per step ({'log' if log else 'linear'} scale): {values[0]:.4g} at step "
             f"{finite[0][0]}, {values[-1]:.4g} at step {finite[-1][0]}")
    skipped = len(losses) - len(finite)
    if skipped:
        title += f"; {skipped} of the losses are not finite (nan or inf) and are not drawn"
    return "\n".join([title, *lines])
