"""The ``grader`` command: thin click commands over the library.

Every command catches :class:`grader.errors.GraderError` at this boundary
(:mod:`grader.cli.boundary`) and turns it into one line on stderr and the exit code the
error names. The commands that read what grading wrote are in :mod:`grader.cli.results`.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import click

from grader import __version__, api
from grader.cli import results
from grader.cli.boundary import (
    OneLineUsageGroup,
    assignment_option,
    hidden_visibility_option,
    one_line_errors,
    output_place,
    timeout_option,
)
from grader.course import selfcheck
from grader.course import stubs as stubs_lib
from grader.errors import EXIT_CHECK_FAILED, EXIT_NOT_GRADED, NoSuchPath, OutputNotWritable
from grader.grading import runner
from grader.reports import render


@click.group(cls=OneLineUsageGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Backprop Lab: grade the backpropagation exercises and explain the mistakes."""


for _command in (results.report, results.schema, results.validate, results.gradebook,
                 results.class_overview, results.similarity):
    main.add_command(_command)


@main.command()
@click.option("--solutions", "solutions_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("solutions"), show_default=True, help="Reference solutions to read.")
@click.option("--out", "exercises_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("exercises"), show_default=True, help="Where the stubs go.")
@click.option("--check", is_flag=True, help="Only report stale stubs; exit 1 if any.")
@one_line_errors
def stubs(solutions_dir: Path, exercises_dir: Path, check: bool) -> None:
    """Regenerate the student stubs from the reference solutions."""
    try:
        if check:
            stale = stubs_lib.out_of_date(solutions_dir, exercises_dir)
            for path in stale:
                click.echo(f"out of date: {path}")
            sys.exit(EXIT_CHECK_FAILED if stale else 0)
        changed = stubs_lib.write(solutions_dir, exercises_dir)
    except FileNotFoundError as error:  # a solution to read, or the folder of the stubs
        raise NoSuchPath(Path(error.filename or solutions_dir)) from None
    except OSError as error:
        raise OutputNotWritable(Path(error.filename or exercises_dir),
                                error.strerror or str(error)) from None
    click.echo(f"{len(changed)} stub(s) rewritten" if changed else "stubs up to date")


class Progress:
    """``grade``'s notes on stderr, then its progress bar, closed by ``stack``."""

    def __init__(self, stack: contextlib.ExitStack):
        self.stack = stack
        self.bar: Any = None

    def start(self, total: int, skipped: int, note: str | None) -> None:
        if note:
            click.echo(f"grader: {note}", err=True)
        if skipped:
            click.echo(f"grader: {skipped} submission(s) already graded and unchanged: skipped",
                       err=True)
        self.bar = self.stack.enter_context(
            click.progressbar(length=total, label="grading", file=sys.stderr, show_pos=True))

    def advance(self, summary: runner.Summary) -> None:
        self.bar.update(1)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder for the reports, one <id>.json per submission.")
@click.option("--jobs", "-j", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Submissions graded in parallel.")
@timeout_option
@click.option("--isolation", type=click.Choice(api.ISOLATIONS), default="auto",
              show_default=True,
              help="bubblewrap sandbox, or basic: rlimits, seccomp, the guard and the kernel "
                   "walls the machine allows (Landlock, an unprivileged uid).")
@click.option("--accept-weak-isolation", is_flag=True,
              help="Grade even where no kernel wall can be built around student code.")
@click.option("--resume", is_flag=True,
              help="Skip submissions whose report exists and still matches their sha256.")
@click.option("--feedback", "feedback_dir", type=click.Path(path_type=Path), default=None,
              help="Also write each student's HTML feedback (student view) here.")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT|local",
              help="Grade on a Dask cluster (needs backprop-lab[dask]); local: a Dask "
                   "LocalCluster of --jobs workers.")
@assignment_option
@one_line_errors
def grade(paths: tuple[Path, ...], out_dir: Path, jobs: int, timeout: float,
          isolation: str, accept_weak_isolation: bool, resume: bool,
          feedback_dir: Path | None, scheduler: str | None, assignment: str | None) -> None:
    """Grade submissions: folders, .py files, .zip files or notebooks."""
    if scheduler not in (None, "local") and jobs > 1:
        raise click.UsageError("--jobs sizes this machine's grading; on a Dask cluster "
                               "every worker thread grades")
    for folder in (out_dir, feedback_dir):
        if folder is not None:
            output_place(folder)
    with contextlib.ExitStack() as stack:
        graded = api.grade(paths, out_dir, isolation=isolation,
                           accept_weak_isolation=accept_weak_isolation, jobs=jobs,
                           timeout=timeout, resume=resume, feedback=feedback_dir,
                           assignment=assignment, scheduler=scheduler,
                           progress=Progress(stack))
    click.echo(render.printable(graded.table()))
    for s in graded.failed:
        click.echo(render.printable(f"grader: {s.id}: not graded: {s.error}"), err=True)
    click.echo(f"{len(graded.summaries)} report(s) in {out_dir}")
    sys.exit(EXIT_NOT_GRADED if graded.failed else 0)


@main.command()
@click.argument("exercise", required=False)
@click.option("--path", "path", type=click.Path(path_type=Path), default=Path("exercises"),
              show_default=True, help="Your exercises folder.")
@click.option("--examples/--no-examples", default=True, show_default=True,
              help="Also run the examples in your docstrings, as python -m doctest does "
                   "(not graded).")
@click.option("--plot", is_flag=True,
              help="Also draw the training loss curve of the first exercise checked that has one.")
@click.option("--assignment", default=api.ALL, show_default=True, metavar="NAME",
              help="Check the exercises of one assignment only.")
@one_line_errors
def check(exercise: str | None, path: Path, examples: bool, plot: bool,
          assignment: str) -> None:
    """Check your own exercises with the public tests (all, or one EXERCISE).

    Exit code 0 when every public test passes, 1 when one does not: the examples and the
    plot never change it, they are not graded.
    """
    result = selfcheck.check(path, exercise, assignment=assignment, examples=examples,
                             plot=plot)
    click.echo(selfcheck.render(result, color=sys.stdout.isatty()))
    report = result.report
    sys.exit(0 if report.error is None and report.score == report.max_score else EXIT_CHECK_FAILED)


@main.command()
@click.argument("out_dir", metavar="DIR", type=click.Path(path_type=Path))
@one_line_errors
def release(out_dir: Path) -> None:
    """Write the student bundle to DIR: stubs, helpers, public tests, the grader; no solutions."""
    from grader.course import release as release_lib

    bundle = release_lib.build(output_place(out_dir))
    click.echo(f"{bundle.path}: {bundle.files} files, {len(bundle.public_tests)} public tests, "
               f"{len(bundle.hidden_tests_removed)} hidden tests and "
               f"{len(bundle.hidden_inputs_removed)} of their inputs left out; "
               f"students run: pip install -e {bundle.path} && grader check")


@main.command()
@click.argument("course_dir", metavar="COURSE_DIR", type=click.Path(path_type=Path))
@click.option("--assignment", default=None, metavar="NAME",
              help="Write this course assignment only (default: every one, each in "
                   "source/<its name>/).")
@click.option("--name", default=None,
              help="The nbgrader assignment folder for --assignment, if not its own name.")
@one_line_errors
def nbgrader(course_dir: Path, assignment: str | None, name: str | None) -> None:
    """Write nbgrader source notebooks, one <exercise>.ipynb each, from the single source."""
    from grader.course import notebooks

    folders = notebooks.folders(assignment, name)
    written = notebooks.write_course(output_place(course_dir), assignment, name)
    notebook_count = sum(path.suffix == ".ipynb" for path in written)
    where = ", ".join(str(course_dir / "source" / folder) for folder in folders)
    click.echo(f"{notebook_count} notebook(s) in {where}"
               + ("; wrote nbgrader_config.py" if len(written) > notebook_count else "")
               + f"; next: cd {course_dir} && nbgrader generate_assignment "
               + " / ".join(folders))


@main.command()
@click.argument("out", metavar="OUT.zip", type=click.Path(dir_okay=False, path_type=Path))
@hidden_visibility_option
@timeout_option
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Bundle this checkout's packages instead of the grader installed here "
                   "(the default, wherever it is installed).")
@click.option("--isolation", type=click.Choice(api.ISOLATIONS), default="auto",
              show_default=True, help="What run_autograder asks for, as for grade.")
@click.option("--accept-weak-isolation", is_flag=True,
              help="Have run_autograder grade even where Gradescope's machine allows no kernel "
                   "wall around student code (then a submission could read the reference).")
@assignment_option
@one_line_errors
def gradescope(out: Path, hidden_visibility: str, timeout: float, project: Path | None,
               isolation: str, accept_weak_isolation: bool, assignment: str | None) -> None:
    """Build the Gradescope autograder zip: setup.sh, run_autograder and the grader's wheel."""
    from grader.course import gradescope as gradescope_lib

    names = gradescope_lib.build_bundle(out, project, hidden_visibility, timeout, isolation,
                                        accept_weak_isolation, assignment)
    click.echo(f"{out}: {', '.join(names)}; upload it as the assignment's autograder")


@main.command("new-exercise")
@click.argument("name")
@click.option("--course", "course_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True,
              help="The course folder, holding solutions/, autotests/ and exercises/.")
@click.option("--assignment", default=None, help="Its assignment (default: backprop).")
@click.option("--title", default=None, help="Its title, as notebooks and bundles show it.")
@one_line_errors
def new_exercise(name: str, course_dir: Path, assignment: str | None, title: str | None) -> None:
    """Start a new exercise NAME: its reference, its autotests and its stub, from a template."""
    from grader.course import scaffold

    made = scaffold.new_exercise(course_dir, name, assignment, title)
    click.echo("".join(f"wrote {path}\n" for path in made.files)
               + "next: replace its softplus with your exercise (CONTRIBUTING.md, 'Add an "
               f"exercise'); grade it with --assignment {made.assignment}")


@main.command("gradescope-run")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), envvar="AUTOGRADER_ROOT",
              default=Path("/autograder"), show_default=True, show_envvar=True,
              help="Gradescope's folder: grades ROOT/submission into ROOT/results.")
@hidden_visibility_option
@timeout_option
@click.option("--isolation", type=click.Choice(api.ISOLATIONS), default="auto",
              show_default=True, help="As for grade.")
@click.option("--accept-weak-isolation", is_flag=True,
              help="Grade even where no kernel wall can be built around student code.")
@click.option("--check-isolation", is_flag=True,
              help="Grade nothing: say which isolation submissions would get here, proved on "
                   "the reference; exit 1 if they would not be graded (setup.sh runs this).")
@assignment_option
@one_line_errors
def gradescope_run(root: Path, hidden_visibility: str, timeout: float, isolation: str,
                   accept_weak_isolation: bool, check_isolation: bool,
                   assignment: str | None) -> None:
    """Gradescope's run_autograder: grade ROOT/submission, write ROOT/results/results.json."""
    from grader.course import gradescope as gradescope_lib

    if check_isolation:
        works, line = gradescope_lib.check_isolation(isolation, accept_weak_isolation)
        click.echo(render.printable(f"grader: {line}"))
        sys.exit(0 if works else EXIT_CHECK_FAILED)
    gradescope_lib.run(root, hidden_visibility, timeout, isolation, accept_weak_isolation,
                       assignment)
