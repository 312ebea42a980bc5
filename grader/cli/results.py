"""The commands that read what grading wrote: ``report``, ``schema``, ``validate`` and
``gradebook``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from grader.cli.boundary import input_file, one_line_errors, output_place, write_output
from grader.reports import render, store


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
