"""The grader installed from its wheel, as a course installs it: the wheel the Gradescope
zip carries (:mod:`grader.course.wheel`), and ``grader gradescope`` and ``grader
nbgrader`` run outside any checkout."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import grader
from grader import contract
from grader.course import gradescope, wheel
from tests.conftest import EXAMPLES, ROOT

# The course's first assignment: what grading grades by default.
EXERCISE_NAMES = contract.exercise_names("backprop")

VERSION = grader.__version__
WHEEL = f"backprop_lab-{VERSION}-py3-none-any.whl"
INFO = f"backprop_lab-{VERSION}.dist-info"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# What pip prints when it cannot reach an index: the end-to-end test is skipped then.
OFFLINE = ("NewConnectionError", "Failed to establish a new connection", "Network is unreachable",
           "Temporary failure in name resolution", "No matching distribution found",
           "Could not find a version that satisfies")


def checkout_files() -> set[str]:
    """What setuptools installs from the checkout ([tool.setuptools] of pyproject.toml):
    the modules of every package (a folder with __init__.py in an included package, not
    hidden) and the package data."""
    packages = []
    for top in wheel.PACKAGES:
        for init in sorted((ROOT / top).rglob("__init__.py")):
            rel = init.parent.relative_to(ROOT)
            if all((ROOT / Path(*rel.parts[:i]) / "__init__.py").is_file()
                   for i in range(1, len(rel.parts) + 1)) \
                    and not any(part.startswith(".") for part in rel.parts):
                packages.append(rel)
    found = {path.relative_to(ROOT).as_posix()
             for package in packages for path in (ROOT / package).glob("*.py")}
    for name, patterns in PYPROJECT["tool"]["setuptools"]["package-data"].items():
        for pattern in patterns:
            found |= {path.relative_to(ROOT).as_posix()
                      for path in (ROOT / name.replace(".", "/")).glob(pattern)}
    return found


@pytest.fixture(scope="module")
def built() -> zipfile.ZipFile:
    name, data = wheel.build(ROOT)
    assert name == WHEEL
    return zipfile.ZipFile(io.BytesIO(data))


def test_the_package_data_is_pyprojects():
    """Does the wheel builder name the package data pyproject.toml names, and the packages
    it includes?"""
    ours = {package: list(patterns) for package, patterns in wheel.PACKAGE_DATA.items()}
    assert ours == PYPROJECT["tool"]["setuptools"]["package-data"]
    assert [f"{name}*" for name in wheel.PACKAGES] == \
        PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    scripts = PYPROJECT["project"]["scripts"].items()
    expected = "[console_scripts]\n" + "".join(f"{name} = {target}\n" for name, target in scripts)
    assert expected == wheel.ENTRY_POINTS


def test_the_wheel_holds_the_packages_and_their_data_and_nothing_else(built):
    """Are the wheel's files the checkout's modules and package data (no cache, no bytecode,
    no tests, no pyproject.toml), with the dist-info, each byte as in the checkout?"""
    names = built.namelist()
    packaged = {name for name in names if not name.startswith(f"{INFO}/")}
    assert packaged == checkout_files()
    assert {"grader/reports/schemas/report.schema.json", "autotests/pytest.ini",
            "grader/sandbox/inside/guard.py"} <= packaged
    assert {f"solutions/{name}.py" for name in EXERCISE_NAMES} <= packaged
    for name in packaged:
        assert built.read(name) == (ROOT / name).read_bytes(), name
    assert names == sorted(packaged) + [f"{INFO}/{file}" for file in (
        "LICENSE", "METADATA", "WHEEL", "entry_points.txt", "RECORD")]
    assert {info.date_time for info in built.infolist()} == {wheel.DATE}


def test_the_dist_info_says_what_pip_needs(built):
    """Does METADATA name the distribution, the grader's version, pyproject's dependencies
    and extras; WHEEL a pure-Python wheel; entry_points.txt the grader command; and RECORD
    every other file with its sha256 and size?"""
    metadata = built.read(f"{INFO}/METADATA").decode()
    lines = metadata.splitlines()
    assert lines[:3] == ["Metadata-Version: 2.1", "Name: backprop-lab", f"Version: {VERSION}"]
    project = PYPROJECT["project"]
    requires = [line.removeprefix("Requires-Dist: ") for line in lines
                if line.startswith("Requires-Dist: ")]
    assert [r for r in requires if ";" not in r] == project["dependencies"]
    for extra, requirements in project["optional-dependencies"].items():
        assert f"Provides-Extra: {extra}" in lines
        assert {f'{r}; extra == "{extra}"' for r in requirements} <= set(requires)
    assert f"Requires-Python: {project['requires-python']}" in lines
    wheel_file = built.read(f"{INFO}/WHEEL").decode().splitlines()
    assert {"Wheel-Version: 1.0", "Root-Is-Purelib: true", "Tag: py3-none-any"} <= set(wheel_file)
    assert built.read(f"{INFO}/entry_points.txt") == (b"[console_scripts]\n"
                                                     b"grader = grader.cli:main\n")
    record = built.read(f"{INFO}/RECORD").decode().splitlines()
    assert record[-1] == f"{INFO}/RECORD,,"
    rows = [line.split(",") for line in record[:-1]]
    assert [name for name, _, _ in rows] == built.namelist()[:-1]
    for name, digest, size in rows:
        data = built.read(name)
        expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert (digest, int(size)) == (f"sha256={expected}", len(data)), name


def test_the_installed_metadata_says_what_pyproject_says():
    """Where no pyproject.toml is beside the packages (site-packages), are METADATA's fields
    read from the installed distribution the ones pyproject.toml gives?"""
    assert wheel.metadata_fields(ROOT / "examples") == wheel.metadata_fields(ROOT), \
        "the installed backprop-lab's metadata is stale: pip install -e . again"


def test_the_same_packages_make_the_same_wheel_and_the_same_zip(tmp_path):
    """Are two wheels, and two zips, built from the same files identical byte for byte?"""
    assert wheel.build()[1] == wheel.build(ROOT)[1] == wheel.build(ROOT)[1]
    first, second = tmp_path / "first.zip", tmp_path / "second.zip"
    gradescope.build_bundle(first)
    gradescope.build_bundle(second)
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.slow
def test_pip_installs_the_wheel(built, tmp_path):
    """Does pip accept the wheel (offline, no dependencies), installing the package data and
    the grader command? The pip of a throwaway venv does it, never this interpreter's."""
    path = tmp_path / WHEEL
    path.write_bytes(wheel.build(ROOT)[1])
    venv = tmp_path / "pip-venv"
    made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True,
                          text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                           "--no-deps", "--no-index", "--no-compile",
                           "--target", str(tmp_path / "site"), str(path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    site = tmp_path / "site"
    assert (site / "grader" / "reports" / "schemas" / "gradescope-results.schema.json").is_file()
    assert (site / "autotests" / "pytest.ini").is_file()
    assert "grader.cli" in (site / "bin" / "grader").read_text(encoding="utf-8")


def test_without_the_reference_there_is_no_autograder(monkeypatch, tmp_path):
    """Where the solutions package is not installed (the student bundle), is ``grader
    gradescope`` refused in one line saying so, nothing written?"""
    from click.testing import CliRunner

    from grader.cli import main

    real = wheel.importlib.util.find_spec
    monkeypatch.setattr(wheel.importlib.util, "find_spec",
                        lambda name, *a: None if name == "solutions" else real(name, *a))
    result = CliRunner().invoke(main, ["gradescope", str(tmp_path / "a.zip")])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "grader: cannot bundle the grader for Gradescope: the package 'solutions' is not "
        "installed here (the autograder grades against the reference solutions)"]
    assert not (tmp_path / "a.zip").exists()


# -- installed in a fresh venv, run from an empty folder ---------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    """A shell's environment with nothing of this checkout or the dev venv on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, **extra}


def run(*args: str | Path, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(arg) for arg in args], capture_output=True, text=True, cwd=cwd,
                          env=clean_env(**env), timeout=900)


@pytest.mark.slow
def test_the_installed_grader_bundles_and_generates_from_an_empty_folder(tmp_path):
    """Installed from its wheel in a fresh venv, run from an empty folder: do ``grader
    gradescope`` and ``grader nbgrader`` succeed; does the zip hold the scripts and a wheel
    identical to the one installed (no checkout); and does the zip's setup.sh install it
    and its run_autograder grade bob as ``grader grade`` does?"""
    path = tmp_path / WHEEL
    path.write_bytes(wheel.build(ROOT)[1])
    venv = tmp_path / "venv"
    made = run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    installed = run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", path,
                    cwd=tmp_path)
    if installed.returncode != 0 and any(word in installed.stderr for word in OFFLINE):
        pytest.skip(f"the dependencies cannot be installed (no package index?): "
                    f"{installed.stderr.strip().splitlines()[-1]}")
    assert installed.returncode == 0, installed.stderr[-3000:]
    empty = tmp_path / "empty"
    empty.mkdir()
    where = run(venv / "bin" / "python", "-c", "import grader, solutions; "
                "print(grader.__file__); print(solutions.__file__)", cwd=empty)
    assert where.returncode == 0, where.stderr
    assert all(Path(line).is_relative_to(venv) for line in where.stdout.split()), where.stdout

    grader_cmd = venv / "bin" / "grader"
    bundled = run(grader_cmd, "gradescope", "out.zip", cwd=empty)
    assert bundled.returncode == 0, bundled.stderr
    generated = run(grader_cmd, "nbgrader", "course", cwd=empty)
    assert generated.returncode == 0, generated.stderr
    notebooks = sorted(p.stem for p in (empty / "course" / "source" / "backprop").glob("*.ipynb"))
    assert notebooks == sorted(EXERCISE_NAMES)
    with zipfile.ZipFile(empty / "out.zip") as archive:
        assert archive.namelist() == ["setup.sh", "run_autograder", WHEEL]
        # Built from site-packages, with the installed metadata: the wheel that was installed.
        assert archive.read(WHEEL) == path.read_bytes()
        root = tmp_path / "autograder"
        archive.extractall(root / "source")

    for script in ("setup.sh", "run_autograder"):
        (root / "source" / script).chmod(0o755)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    # Never apt-get on the machine running the tests.
    env = {"AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable, "AUTOGRADER_NO_APT": "1"}
    setup = run("bash", root / "source" / "setup.sh", cwd=root, **env)
    if setup.returncode != 0 and any(word in setup.stderr for word in OFFLINE):
        pytest.skip("setup.sh cannot install the dependencies (no package index?)")
    assert setup.returncode == 0, setup.stderr[-4000:]
    assert "grader: isolation: " in setup.stdout, setup.stdout[-4000:]

    submission = root / "submission"
    submission.mkdir()
    for file in (EXAMPLES / "bob_mistakes").glob("*.py"):
        shutil.copy(file, submission / file.name)
    done = run(root / "run_autograder", cwd=root, **env)
    assert done.returncode == 0, done.stderr[-4000:]
    data = gradescope.validate(json.loads((root / "results" / "results.json").read_text("utf-8")))

    graded = run(grader_cmd, "grade", EXAMPLES / "bob_mistakes", "--out", "reports", cwd=empty)
    assert graded.returncode == 0, graded.stderr
    report = json.loads((empty / "reports" / "bob_mistakes.json").read_text("utf-8"))
    assert data["score"] == report["score"] < 100  # 63: the README's table
    assert data["extra_data"]["grader_version"] == VERSION
