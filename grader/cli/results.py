"""The commands that read what grading wrote: ``report``, ``schema``, ``validate``,
``gradebook`` and ``class``; and ``similarity``, which reads the submissions."""

from __future__ import annotations

import json
from pathlib import Path

import click

from grader.cli.boundary import input_file, one_line_errors, output_place, write_output
from grader.course import similarity as similarity_lib
from grader.errors import OutputAmongReports
from grader.reports import overview, render, store


@click.command()
@click.argument("report_path", metavar="REPORT.json", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(render.FORMATS), default="text",
              show_default=True)
@click.option("--audience", type=click.Choice(render.AUDIENCES), default="student",
              show_default=True, help="student leaves out what hidden tests check.")
@one_line_errors
def report(report_path: Path, fmt: str, audience: str) -> None:
    """Show a grading report to a person."""
    report_data = store.load(input_file(report_path, "a report"))
    click.echo(render.render(report_data, fmt, audience), nl=False)


@click.command()
def schema() -> None:
    """Print the JSON Schema of the grading report."""
    click.echo(json.dumps(store.schema(), indent=2))


@click.command()
@click.argument("reports", nargs=-1, required=True, type=click.Path(path_type=Path))
@one_line_errors
def validate(reports: tuple[Path, ...]) -> None:
    """Check reports against the schema."""
    for path in reports:
        store.load(input_file(path, "a report"))
        click.echo(f"{path}: valid")


@click.command()
@click.argument("reports_dir", metavar="REPORTS_DIR", type=click.Path(path_type=Path))
@click.option("-o", "--output", "output", default="-", show_default=True,
              help="The CSV file to write; - for stdout.")
@one_line_errors
def gradebook(reports_dir: Path, output: str) -> None:
    """One CSV row per student (id, points per exercise, total, max, status), sorted by id."""
    from grader.reports import gradebook as gradebook_lib

    target = None if output == "-" else output_place(Path(output))
    text = gradebook_lib.to_csv(gradebook_lib.build(reports_dir))
    if target is None:
        click.echo(render.printable(text), nl=False)
        return
    write_output(target, render.printable(text))
    click.echo(f"{target}: {text.count(chr(10)) - 1} student(s)", err=True)


SIMILAR_ON_PAGE = 20
threshold_option = click.option(
    "--threshold", type=click.FloatRange(0, 1), default=similarity_lib.DEFAULT_THRESHOLD,
    show_default=True, help="Flag a pair when this share of its smaller side's code matches.")


@click.command("class")
@click.argument("reports_dir", metavar="REPORTS_DIR", type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="The file to write (class.html).")
@click.option("--format", "fmt", type=click.Choice(overview.FORMATS), default="html",
              show_default=True)
@click.option("--submissions", type=click.Path(path_type=Path), default=None,
              help="The class's submissions: also show the pairs most alike (grader similarity).")
@threshold_option
@one_line_errors
def class_overview(reports_dir: Path, out: Path, fmt: str, submissions: Path | None,
                   threshold: float) -> None:
    """The class at a glance, for the instructor: score distributions, the mistakes and tests
    most often met, what could not be graded, what the sandbox refused."""
    target = output_place(out)
    if target.suffix == ".json" and target.resolve().parent == reports_dir.resolve():
        raise OutputAmongReports(target, reports_dir)
    built = overview.build(reports_dir)
    similar = None
    if submissions is not None:
        found = similarity_lib.compare([submissions], threshold=threshold)
        # The flagged pairs and the few most alike: a class of 1,000 has thousands of pairs
        # that share a line or two, which the CSV of grader similarity holds.
        similar = [pair.to_dict() for rank, pair in enumerate(found.pairs)
                   if pair.flagged or rank < SIMILAR_ON_PAGE]
    write_output(target, overview.render(built, fmt, similar))
    click.echo(f"{target}: {built.reports} report(s), {built.graded} graded, "
               f"{len(built.mistakes)} named mistake(s)")


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="The CSV to write (similarity.csv), most alike pairs first.")
@threshold_option
@click.option("--show", nargs=2, metavar="A B", default=None,
              help="Also print the code submissions A and B share, side by side.")
@one_line_errors
def similarity(paths: tuple[Path, ...], out: Path, threshold: float,
               show: tuple[str, str] | None) -> None:
    """Pairs of submissions ranked by how alike their exercise code is (winnowed
    fingerprints, as MOSS), the stubs' own code left out."""
    target = output_place(out)
    found = similarity_lib.compare(list(paths), threshold=threshold)
    write_output(target, similarity_lib.to_csv(found))
    for who, why in found.skipped:
        click.echo(render.printable(f"grader: {who}: not compared: {why}"), err=True)
    flagged = sum(pair.flagged for pair in found.pairs)
    click.echo(f"{target}: {len(found.pairs)} pair(s) of {len(found.compared)} submissions "
               f"ranked, {flagged} flagged at {threshold:g} or more")
    click.echo(similarity_lib.CAVEAT)
    if show is not None:
        pair = next((p for p in found.pairs if {p.a, p.b} == set(show)), None)
        click.echo(render.printable(similarity_lib.side_by_side(pair)) if pair is not None
                   else f"{show[0]} and {show[1]} share no code beyond the stubs")
