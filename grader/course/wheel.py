"""The wheel of the grader this Python runs: what the Gradescope zip installs.

:func:`build` writes ``backprop_lab-<version>-py3-none-any.whl`` from the four packages
(grader, exercises, solutions, autotests) wherever this Python finds them: a checkout,
an editable install or site-packages. It is the wheel setuptools would build
(``[tool.setuptools]`` of pyproject.toml): every ``.py`` file of each package and
subpackage (a folder with ``__init__.py``), the package data of :data:`PACKAGE_DATA`,
and ``backprop_lab-<version>.dist-info/`` with METADATA, WHEEL, entry_points.txt (the
``grader`` command), the LICENSE where one is found, and RECORD. No cache, no bytecode.

The version is ``grader.__version__``; the rest of METADATA (the dependencies, extras,
summary, Python and license) comes from the pyproject.toml beside the packages where
they are a checkout, else from the installed distribution's metadata (also on Python
3.10, which cannot read TOML). Every entry has the same fixed date and mode and the
entries are sorted, so the same files make the same bytes.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import importlib
import importlib.metadata
import importlib.util
import io
import re
import zipfile
from pathlib import Path

from grader.errors import NoProjectSource, WheelUnavailable

DISTRIBUTION = "backprop-lab"
PACKAGES = ("grader", "exercises", "solutions", "autotests")
# pyproject.toml's [tool.setuptools.package-data], which a test holds this to.
PACKAGE_DATA = {"grader.reports": ("schemas/*.json",), "autotests": ("pytest.ini",)}
ENTRY_POINTS = "[console_scripts]\ngrader = grader.cli:main\n"
DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say: no build time in the bytes
COPIED = ("Summary", "Requires-Python", "License", "Provides-Extra", "Requires-Dist")


def package_folders(project: Path | None = None) -> dict[str, Path]:
    """Each package's folder: in ``project`` (a checkout) when given, else where this
    Python imports it from (found without importing it)."""
    if project is not None:
        project = Path(project).resolve()
        folders = {name: project / name for name in PACKAGES}
        if not (project / "pyproject.toml").is_file() or not all(
                (folder / "__init__.py").is_file() for folder in folders.values()):
            raise NoProjectSource(project)
        return folders
    folders = {}
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin or not spec.submodule_search_locations:
            raise WheelUnavailable(f"the package {name!r} is not installed here"
                                   + (" (the autograder grades against the reference "
                                      "solutions)" if name == "solutions" else ""))
        folders[name] = Path(spec.origin).resolve().parent
    return folders


def _packages(folder: Path, dotted: str):
    """``(dotted name, folder)`` of a package and of its subpackages, as setuptools finds
    them: folders with ``__init__.py``, not hidden."""
    yield dotted, folder
    for sub in sorted(folder.iterdir()):
        if sub.is_dir() and not sub.name.startswith(".") and (sub / "__init__.py").is_file():
            yield from _packages(sub, f"{dotted}.{sub.name}")


def package_files(folders: dict[str, Path]) -> list[tuple[str, Path]]:
    """``(name in the wheel, file)``, sorted: the modules of each package and subpackage,
    and the package data."""
    files = {}
    for name, top in folders.items():
        for dotted, folder in _packages(top, name):
            for pattern in ("*.py", *PACKAGE_DATA.get(dotted, ())):
                for path in folder.glob(pattern):
                    if path.is_file() and not path.name.startswith("."):
                        files[f"{name}/{path.relative_to(top).as_posix()}"] = path
    return sorted(files.items())


def _from_pyproject(root: Path) -> list[tuple[str, str]] | None:
    """METADATA's fields from ``root/pyproject.toml``, if it is backprop-lab's and TOML can
    be read here."""
    try:  # imported by name: the type checker targets Python 3.10, which lacks it
        tomllib = importlib.import_module("tomllib")
    except ImportError:  # Python 3.10
        return None
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text("utf-8")).get("project", {})
    except (OSError, ValueError):
        return None
    if project.get("name") != DISTRIBUTION:
        return None
    fields = [("Summary", project.get("description", "")),
              ("Requires-Python", project.get("requires-python", "")),
              ("License", project["license"] if isinstance(project.get("license"), str) else "")]
    fields += [("Requires-Dist", requirement) for requirement in project.get("dependencies", [])]
    for extra, requirements in project.get("optional-dependencies", {}).items():
        fields.append(("Provides-Extra", extra))
        for requirement in requirements:
            name, _, marker = requirement.partition(";")
            marker = f"({marker.strip()}) and " if marker.strip() else ""
            fields.append(("Requires-Dist", f'{name.strip()}; {marker}extra == "{extra}"'))
    # In the order read back from installed metadata: a wheel built from this wheel,
    # installed, is this wheel byte for byte.
    return sorted(((key, value) for key, value in fields if value),
                  key=lambda field: COPIED.index(field[0]))


def metadata_fields(root: Path) -> list[tuple[str, str]]:
    """METADATA's fields but name and version: from ``root/pyproject.toml``, else from the
    installed distribution."""
    fields = _from_pyproject(root)
    if fields is not None:
        return fields
    try:
        installed = importlib.metadata.distribution(DISTRIBUTION).metadata
    except importlib.metadata.PackageNotFoundError:
        raise WheelUnavailable(f"neither a pyproject.toml of {DISTRIBUTION} in {root} nor an "
                               f"installed {DISTRIBUTION} says its dependencies") from None
    fields = []
    for key in COPIED:  # setuptools 77 and later write the license as License-Expression
        values = installed.get_all(key) or (installed.get_all("License-Expression") or []
                                            if key == "License" else [])
        fields += [(key, value) for value in values]
    return fields


def license_file(root: Path) -> Path | None:
    """The project's LICENSE: beside the packages in a checkout, else the installed one's."""
    if (root / "LICENSE").is_file():
        return root / "LICENSE"
    try:
        files = importlib.metadata.distribution(DISTRIBUTION).files or []
    except importlib.metadata.PackageNotFoundError:
        return None
    found = [Path(str(f.locate())) for f in files if f.name.startswith("LICENSE")]
    return next((path for path in found if path.is_file()), None)


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(
        b"=").decode("ascii")


def build(project: Path | None = None) -> tuple[str, bytes]:
    """``(file name, bytes)`` of the wheel of the packages found by :func:`package_folders`."""
    folders = package_folders(project)
    root = folders["grader"].parent
    if project is None:
        import grader

        version = grader.__version__
    else:
        version = _version(folders["grader"] / "__init__.py")
    if not re.fullmatch(r"[A-Za-z0-9.+!]+", version):
        raise WheelUnavailable(f"{version!r} is not a version a wheel's name can hold")
    info = f"backprop_lab-{version}.dist-info"
    metadata = [("Metadata-Version", "2.1"), ("Name", DISTRIBUTION), ("Version", version),
                *metadata_fields(root)]
    contents = [(name, path.read_bytes()) for name, path in package_files(folders)]
    found = license_file(root)
    if found is not None:
        contents.append((f"{info}/LICENSE", found.read_bytes()))
    contents += [
        (f"{info}/METADATA", "".join(f"{k}: {v}\n" for k, v in metadata).encode("utf-8")),
        (f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: backprop-lab (grader.course.wheel)"
                          b"\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
        (f"{info}/entry_points.txt", ENTRY_POINTS.encode("utf-8")),
    ]
    record = "".join(f"{name},{_digest(data)},{len(data)}\n" for name, data in contents)
    contents.append((f"{info}/RECORD", (record + f"{info}/RECORD,,\n").encode("utf-8")))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents:
            entry = zipfile.ZipInfo(name, date_time=DATE)
            entry.external_attr = 0o100644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    return f"backprop_lab-{version}-py3-none-any.whl", buffer.getvalue()


def _version(init: Path) -> str:
    """``__version__`` of a checkout's grader/__init__.py, read without importing it."""
    for node in ast.parse(init.read_text("utf-8")).body:
        value = getattr(node, "value", None)
        if any(getattr(t, "id", "") == "__version__" for t in getattr(node, "targets", ())) \
                and isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
    raise NoProjectSource(init.parent.parent)
