"""The class overview for people: one self-contained HTML page, or Markdown.

Ids, errors, hints, refused details and the code of similar pairs are student data: each
goes through ``clean``, which writes out the control characters that would clear a
terminal or turn text around, and the HTML escapes it. The page needs no script and
fetches nothing; its plots are inline SVG that scale to the width of a phone.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from grader.reports.gradebook import number
from grader.reports.render import CSS, printable

if TYPE_CHECKING:
    from grader.reports.overview import Bin, Distribution, Overview

CAUTION = "A similarity is a reason to look, not a verdict."
INSTRUCTOR = ("Instructor's view: it shows the hidden tests, their hints and what the sandbox "
              "refused. Do not share it with students.")
NOT_COUNTED = "not graded, so not in the distributions"

# C0 and C1 controls but tab and newline, and the marks that reverse the direction of text.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: object) -> str:
    """``text`` with each control character written out (ESC as ``\\x1b``) and each lone
    surrogate as ``render.printable`` writes it; tabs and newlines stay."""
    text = str(text).replace("\r\n", "\n")
    return printable(CONTROL.sub(_escape_control, text))


def _escape_control(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def line(text: object) -> str:
    """``clean(text)`` on one line."""
    return " ".join(clean(text).split())


def _e(text: object) -> str:
    return html.escape(line(text))


def _num(value: float | None) -> str:
    return "-" if value is None else number(round(value, 1))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def stats(dist: Distribution) -> str:
    if not dist.count:
        return "no graded submission"
    return (f"mean {_num(dist.mean)}, median {_num(dist.median)}, lowest {_num(dist.min)}, "
            f"highest {_num(dist.max)}, out of {_num(dist.max_score)}")


def title_of(overview: Overview) -> str:
    return "Class overview: " + ", ".join(overview.assignments)


def counted(overview: Overview) -> str:
    text = f"{_plural(overview.reports, 'report')}: {overview.graded} graded"
    return text + (f", {overview.failed} {NOT_COUNTED}" if overview.failed else "")


# -- HTML -------------------------------------------------------------------------------

PAGE_CSS = CSS + """
main{max-width:64rem}
h3{font-size:1rem;margin:.2rem 0}
.section{font-size:1.2rem;margin:1.4rem 0 .3rem}
.instructor{background:#fff4e0;border-left:3px solid #e0a100;padding:.4rem .7rem;border-radius:.2rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(17rem,100%),1fr));gap:0 .8rem}
.stats,.note{font-size:.85rem;color:#5b6470;margin:.2rem 0}
.count{font-weight:700;white-space:nowrap}
code,pre{font-family:ui-monospace,Menlo,monospace;font-size:.85rem;overflow-wrap:anywhere}
summary{color:#2b7bd3;font-size:.85rem;cursor:pointer}
.ids{font-size:.85rem;margin:.2rem 0;overflow-wrap:anywhere}
.caution{font-size:1.1rem;font-weight:700;background:#eaf4ff;border-left:3px solid #2b7bd3;padding:.4rem .7rem}
.region{display:grid;grid-template-columns:1fr 1fr;gap:.6rem;margin:.6rem 0}
.region>div{min-width:0}
pre{white-space:pre-wrap;background:#f3f4f6;padding:.5rem;border-radius:.3rem;margin:.2rem 0}
@media (max-width:40rem){.region{grid-template-columns:1fr}}
"""  # noqa: E501 (minified CSS, as in render.py)


def html_page(overview: Overview, similar: Sequence[dict] | None = None) -> str:
    parts = [f"<h1>{_e(title_of(overview))}</h1>",
             f"<p class=instructor>{html.escape(INSTRUCTOR)}</p>",
             _overall(overview), _exercises(overview), _mistakes(overview),
             _failed_tests(overview), _not_graded(overview), _integrity(overview)]
    if similar is not None:
        parts.append(similar_html(similar))
    return printable(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{_e(title_of(overview))}</title><style>{PAGE_CSS}</style></head>"
        f"<body><main>{''.join(parts)}</main></body></html>\n")


def _overall(overview: Overview) -> str:
    dist = overview.overall
    return (f"<section class=card id=overall><h2>Overall</h2><p>{_e(counted(overview))}.</p>"
            f"<p class=stats>{_e(stats(dist))}</p>"
            f"{histogram_svg(dist, 'total points')}</section>")


def _exercises(overview: Overview) -> str:
    cards = [f"<section class=card><h3>{_e(e.name)}</h3><p class=stats>"
             f"{_e(stats(e.distribution))}</p>{histogram_svg(e.distribution, e.name)}</section>"
             for e in overview.exercises]
    return ("<section id=exercises><h2 class=section>Scores per exercise</h2>"
            f"<div class=grid>{''.join(cards)}</div></section>")


def _who(ids: Sequence[str], label: str = "who") -> str:
    return (f"<details><summary>{html.escape(label)}</summary><p class=ids>"
            f"{', '.join(_e(i) for i in ids)}</p></details>")


def _card(anchor: str, heading: str, body: str, note: str = "") -> str:
    note = f"<p class=note>{html.escape(note)}</p>" if note else ""
    return f"<section class=card id={anchor}><h2>{html.escape(heading)}</h2>{note}{body}</section>"


def _mistakes(overview: Overview) -> str:
    items = [f"<li><span class=count>{_plural(m.count, 'student')}</span> <code>{_e(m.id)}</code>"
             f" <span class=points>in {_e(m.exercise)}</span>"
             + (f"<div class=hint>{_e(m.hint)}</div>" if m.hint else "") + _who(m.students)
             + "</li>" for m in overview.mistakes]
    body = f"<ol>{''.join(items)}</ol>" if items else "<p>No test named a mistake.</p>"
    return _card("mistakes", "Named mistakes", body,
                 "Most students first. A student counts once per mistake, however many tests "
                 "named it; the hint is the one they were shown.")


def _failed_tests(overview: Overview) -> str:
    items = []
    for t in overview.failed_tests:
        share = t.count / t.out_of * 100
        tag = " <span class=hidden-tag>hidden test</span>" if t.visibility == "hidden" else ""
        items.append(f"<li><span class=count>{t.count} of {t.out_of}</span> "
                     f"<code>{_e(t.name)}</code>{tag} <span class=points>in {_e(t.exercise)}"
                     f"</span><div class=bar><span style='width:{share:.0f}%'></span></div>"
                     f"{_who(t.students)}</li>")
    body = (f"<ol class=failed>{''.join(items)}</ol>" if items
            else "<p>Every graded submission passed every test.</p>")
    return _card("tests", "Tests most often failed", body,
                 "Not passed, for any reason (a wrong answer, an error, not implemented), "
                 "out of the graded submissions that ran the test.")


def _not_graded(overview: Overview) -> str:
    items = [f"<li><b>{_e(n.id)}</b><div class=msg>{_e(n.error)}</div></li>"
             for n in overview.not_graded]
    body = f"<ul>{''.join(items)}</ul>" if items else "<p>Every submission was graded.</p>"
    return _card("not-graded", "Submissions not graded", body)


def _integrity(overview: Overview) -> str:
    items = [f"<li><code>{_e(r.event)}</code>: <span class=count>"
             f"{_plural(r.count, 'submission')}</span>"
             f"<p class=ids>{', '.join(_e(i) for i in r.submissions)}</p>"
             + (f"<div class=msg>for example: {'; '.join(_e(x) for x in r.examples)}</div>"
                if r.examples else "") + "</li>" for r in overview.integrity]
    body = f"<ul>{''.join(items)}</ul>" if items else "<p>The sandbox refused nothing.</p>"
    return _card("integrity", "Refused by the sandbox", body,
                 "What student code tried and the sandbox refused: evidence to look at.")


def _percent(similarity: float) -> str:
    return f"{similarity * 100:.0f}%"


def similar_html(pairs: Sequence[dict]) -> str:
    rows = [f"<li><b>{_e(p['a'])}</b> and <b>{_e(p['b'])}</b>: "
            f"<span class=count>{_percent(p['similarity'])}</span>"
            + (" <span class=status>flagged</span>" if p["flagged"] else "") + "</li>"
            for p in pairs]
    body = (f"<p class=caution>{html.escape(CAUTION)}</p>"
            + (f"<ol>{''.join(rows)}</ol>" if rows else "<p>No pair was found similar.</p>"))
    for pair in pairs:
        if not pair["flagged"]:
            continue
        body += (f"<article><h3>{_e(pair['a'])} and {_e(pair['b'])}: "
                 f"{_percent(pair['similarity'])}</h3>")
        for region in pair["regions"]:
            body += ("<div class=region>" + _side(pair["a"], region, "a")
                     + _side(pair["b"], region, "b") + "</div>")
        body += "</article>"
    return _card("similar", "Similar submissions", body)


def _where(submission: str, region: dict, side: str) -> str:
    first, last = region[f"{side}_lines"]
    return f"{line(submission)}: {line(region[f'{side}_module'])}, lines {first}-{last}"


def _side(submission: str, region: dict, side: str) -> str:
    return (f"<div><p class=ids>{html.escape(_where(submission, region, side))}</p>"
            f"<pre>{html.escape(clean(region[f'{side}_text']))}</pre></div>")


def _bin_words(b: Bin, last: bool) -> str:
    upto = "to" if last else "to under"
    return f"{_plural(b.count, 'student')} with {_num(b.low)} {upto} {_num(b.high)} points"


def histogram_svg(dist: Distribution, what: str, width: int = 400, height: int = 200) -> str:
    """The distribution as a bar chart: a bar per bin, each with its own title, students up,
    points along. A bar is ``class="bin"`` (render.CSS gives ``.bar`` a height, which an
    SVG rect would take) with a ``data-count``. Every attribute is quoted, as in
    render.loss_curve_svg: the SVG must parse as XML."""
    left, right, top, bottom = 46, 16, 16, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / len(dist.bins)
    peak = max(b.count for b in dist.bins)
    scale = peak or 1

    def y(count: float) -> float:
        return top + plot_h * (1 - count / scale)

    title = f"{what}: {_plural(dist.count, 'graded submission')}; {stats(dist)}"
    out = [f'<svg viewBox="0 0 {width} {height}" role="img" class="histogram">',
           f"<title>{_e(title)}</title>"]
    for tick in sorted({0, peak, peak // 2 if peak >= 4 else 0}):
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" '
                   f'y2="{y(tick):.1f}" stroke="#e3e6ea"/><text x="{left - 6}" '
                   f'y="{y(tick) + 5:.1f}" font-size="14" text-anchor="end">{tick}</text>')
    for k, b in enumerate(dist.bins):
        x, bar = left + k * slot, plot_h * b.count / scale
        out.append(f'<rect class="bin" data-count="{b.count}" x="{x + 2:.1f}" '
                   f'y="{top + plot_h - bar:.1f}" width="{slot - 4:.1f}" height="{bar:.1f}" '
                   f'fill="#2b7bd3"><title>{_e(_bin_words(b, k == len(dist.bins) - 1))}'
                   "</title></rect>")
        if b.count:
            out.append(f'<text x="{x + slot / 2:.1f}" y="{top + plot_h - bar - 4:.1f}" '
                       f'font-size="13" text-anchor="middle">{b.count}</text>')
    edges = [b.low for b in dist.bins] + [dist.bins[-1].high]
    labels = [_num(edge) for edge in edges]
    # A label about as wide as a bin would run into its neighbour: then every other one.
    step = 1 if max(len(label) for label in labels) * 8 < slot - 4 else 2
    out.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
               f'y2="{top + plot_h}" stroke="#5b6470"/>')
    for k in range(0, len(edges), step):
        out.append(f'<text x="{left + k * slot:.1f}" y="{top + plot_h + 18}" font-size="14" '
                   f'text-anchor="middle">{labels[k]}</text>')
    out.append(f'<text x="{left + plot_w / 2:.0f}" y="{height - 8}" font-size="15" '
               f'text-anchor="middle">points (out of {_num(dist.max_score)})</text>'
               f'<text transform="translate(15 {top + plot_h / 2:.0f}) rotate(-90)" '
               'font-size="15" text-anchor="middle">students</text></svg>')
    return "".join(out)


# -- Markdown ---------------------------------------------------------------------------


def _md(text: object) -> str:
    """Free text in a Markdown table cell: no HTML, no cell break, on one line."""
    out = line(text)
    for char in "\\|<>":
        out = out.replace(char, "\\" + char)
    return out


def _md_code(text: object) -> str:
    """An id or a test name as a code span, whatever backquotes it holds."""
    out = line(text)
    fence = "`" * (max((len(run) for run in re.findall("`+", out)), default=0) + 1)
    pad = " " if out.startswith("`") or out.endswith("`") or not out else ""
    return f"{fence}{pad}{out}{pad}{fence}".replace("|", "\\|")


def _table(header: Sequence[str], align: Sequence[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return ["None."]
    return ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |",
            *("| " + " | ".join(row) + " |" for row in rows)]


def markdown(overview: Overview, similar: Sequence[dict] | None = None) -> str:
    named = [("overall", overview.overall),
             *((_md_code(e.name), e.distribution) for e in overview.exercises)]
    n_bins = len(overview.overall.bins)
    lines = [f"# {_md(title_of(overview))}", "", f"*{INSTRUCTOR}*", "",
             f"{_md(counted(overview))}.", "", "## Scores", ""]
    lines += _table(["", "out of", "graded", "mean", "median", "lowest", "highest"],
                    ["---", *["---:"] * 6],
                    [[name, _num(d.max_score), str(d.count), _num(d.mean), _num(d.median),
                      _num(d.min), _num(d.max)] for name, d in named])
    lines += ["", "Students per tenth of the points (graded submissions; the last column "
              "includes full marks):", ""]
    lines += _table(["", *(f"{100 * k // n_bins}-{100 * (k + 1) // n_bins}%"
                           for k in range(n_bins))], ["---", *["---:"] * n_bins],
                    [[name, *(str(b.count) for b in d.bins)] for name, d in named])
    lines += ["", "## Named mistakes", ""]
    lines += _table(["#", "mistake", "exercise", "students", "hint"],
                    ["---:", "---", "---", "---:", "---"],
                    [[str(k), _md_code(m.id), _md_code(m.exercise), str(m.count), _md(m.hint)]
                     for k, m in enumerate(overview.mistakes, 1)])
    lines += ["", "## Tests most often failed", ""]
    lines += _table(["test", "exercise", "visibility", "failed"], ["---", "---", "---", "---:"],
                    [[_md_code(t.name), _md_code(t.exercise), t.visibility,
                      f"{t.count} of {t.out_of}"] for t in overview.failed_tests])
    lines += ["", "## Submissions not graded", ""]
    lines += _table(["id", "error"], ["---", "---"],
                    [[_md_code(n.id), _md(n.error)] for n in overview.not_graded])
    lines += ["", "## Refused by the sandbox", ""]
    lines += _table(["refused", "submissions", "ids", "for example"],
                    ["---", "---:", "---", "---"],
                    [[_md_code(r.event), str(r.count),
                      ", ".join(_md_code(i) for i in r.submissions),
                      "; ".join(_md(x) for x in r.examples)] for r in overview.integrity])
    if similar is not None:
        lines += similar_markdown(similar)
    return printable("\n".join(lines) + "\n")


def _fenced(text: str) -> list[str]:
    body = clean(text)
    fence = "`" * max(3, max((len(run) for run in re.findall("`+", body)), default=0) + 1)
    return [fence, *body.splitlines(), fence]


def similar_markdown(pairs: Sequence[dict]) -> list[str]:
    lines = ["", "## Similar submissions", "", f"**{CAUTION}**", ""]
    lines += _table(["a", "b", "similarity", "flagged"], ["---", "---", "---:", "---"],
                    [[_md_code(p["a"]), _md_code(p["b"]), _percent(p["similarity"]),
                      "yes" if p["flagged"] else "no"] for p in pairs])
    for pair in pairs:
        if not pair["flagged"]:
            continue
        lines += ["", f"### {_md(pair['a'])} and {_md(pair['b'])}: "
                      f"{_percent(pair['similarity'])}"]
        for region in pair["regions"]:
            for side in ("a", "b"):
                lines += ["", _md(_where(pair[side], region, side)), "",
                          *_fenced(region[f"{side}_text"])]
    return lines
