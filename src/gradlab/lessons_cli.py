"""`gradlab lessons`: copy the lesson notebooks into your own folder and open them in JupyterLab.

The repository's notebooks stay clean: JupyterLab runs on a copy (default ~/gradlab-lessons). A notebook is
copied when it is missing there, or when your copy is exactly what was copied last time and the lesson has
changed since; a notebook you have edited (or run and saved) is never overwritten. JupyterLab listens on
127.0.0.1 only.

    add_lessons_command(subparsers)   adds the `lessons` sub-command (--dir, --port, --no-browser)
    run(args) -> int                  copies, then serves until Ctrl-C
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

from . import argtypes
from .netcheck import port_problem

__all__ = ["DEFAULT_DIR", "DEFAULT_PORT", "HOST", "add_lessons_command", "copy_lessons", "lessons_source", "run"]

HOST = "127.0.0.1"
DEFAULT_PORT = 8888
DEFAULT_DIR = "~/gradlab-lessons"
MANIFEST = ".gradlab-lessons.json"  # {notebook: sha256 of the copy gradlab made}, to tell edited copies apart


def add_lessons_command(subparsers) -> argparse.ArgumentParser:
    """Add `lessons` to an argparse sub-parser set (the `gradlab` command's `commands`)."""
    lessons = subparsers.add_parser(
        "lessons",
        help=f"open the lessons (Jupyter notebooks) in JupyterLab at http://{HOST}:{DEFAULT_PORT} in your browser "
        "(--no-browser only prints the address)",
        description="Copy the lesson notebooks into your own folder (notebooks you already have there are kept) "
        f"and open them in JupyterLab on {HOST}, in your web browser. Stop with Ctrl-C.",
    )
    lessons.add_argument(
        "--dir",
        default=DEFAULT_DIR,
        metavar="DIR",
        help=f"your lessons folder: missing notebooks are copied in, ones you changed are kept (default {DEFAULT_DIR})",
    )
    lessons.add_argument("--port", type=argtypes.port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    lessons.add_argument(
        "--no-browser",
        action="store_true",
        help="do not open a web browser, only print the address (default: open the lessons in your browser)",
    )
    return lessons


def lessons_source() -> Path:
    """The lessons/ folder of the source checkout gradlab runs from (FileNotFoundError if there is none)."""
    from .exercises.solutions import repo_root

    folder = repo_root() / "lessons"
    if not any(folder.glob("[0-9][0-9]_*.ipynb")):
        raise FileNotFoundError(
            f"the lessons come with gradlab's source checkout, and {folder} has none: "
            "install gradlab from its repository with `pip install -e .`"
        )
    return folder


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_lessons(source: Path, target: Path) -> dict[str, list[str]]:
    """Copy source/NN_*.ipynb into target: {"copied": [...], "updated": [...], "kept": [...]} by file name.

    Missing notebooks are copied; a copy that is byte for byte what gradlab copied last time is updated when
    the lesson changed; any other existing notebook is the learner's and is kept."""
    target.mkdir(parents=True, exist_ok=True)
    manifest_path = target / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    report: dict[str, list[str]] = {"copied": [], "updated": [], "kept": []}
    for notebook in sorted(source.glob("[0-9][0-9]_*.ipynb")):
        dest = target / notebook.name
        if not dest.exists():
            action = "copied"
        elif _digest(dest) == _digest(notebook):
            manifest[notebook.name] = _digest(notebook)
            continue
        elif manifest.get(notebook.name) == _digest(dest):
            action = "updated"
        else:
            report["kept"].append(notebook.name)
            continue
        shutil.copyfile(notebook, dest)
        manifest[notebook.name] = _digest(dest)
        report[action].append(notebook.name)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return report


def _busy(port: int) -> str | None:
    """None if HOST:port can be listened on, else the reason."""
    return port_problem(HOST, port)


def jupyter_arguments(folder: Path, port: int, browser: bool) -> list[str]:
    """The `jupyter lab` command line: this machine only, one port (no silent switch to another), the folder."""
    argv = [
        f"--ServerApp.ip={HOST}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={folder}",
        "--ServerApp.answer_yes=True",  # Ctrl-C stops at once instead of asking
    ]
    if not browser:
        argv.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # the README's fresh machine or a container: root is the user
        argv.append("--ServerApp.allow_root=True")
    return argv


def launch(argv: list[str]) -> int:
    """Run JupyterLab in this process with the given command line until it stops."""
    from jupyterlab.labapp import LabApp

    try:
        LabApp.launch_instance(argv=argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    return 0


def _names(files: list[str]) -> str:
    return ", ".join(Path(name).stem for name in files)


def run(args) -> int:
    """Copy the lessons into args.dir and serve them with JupyterLab on 127.0.0.1:args.port until Ctrl-C."""
    if importlib.util.find_spec("jupyterlab") is None:
        print(
            "gradlab lessons needs JupyterLab, which is not installed: pip install jupyterlab ipywidgets "
            "(or reinstall gradlab with `pip install -e .`, which brings them)",
            file=sys.stderr,
        )
        return 1
    try:
        source = lessons_source()
    except FileNotFoundError as error:
        print(f"gradlab lessons: {error}", file=sys.stderr)
        return 1
    folder = Path(args.dir).expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        print(f"gradlab lessons: {folder} is a file, not a folder; choose another with --dir", file=sys.stderr)
        return 2
    problem = _busy(args.port)
    if problem is not None:
        print(
            f"gradlab lessons: port {args.port} on {HOST} is busy ({problem}): is JupyterLab already running? "
            f"Open http://{HOST}:{args.port}/lab, or choose another port with --port {args.port + 1}",
            file=sys.stderr,
        )
        return 1
    try:
        report = copy_lessons(source, folder)
    except OSError as error:
        print(f"gradlab lessons: cannot copy the lessons into {folder}: {error.strerror or error}", file=sys.stderr)
        return 2
    if report["copied"]:
        print(f"copied into {folder}: {_names(report['copied'])}")
    if report["updated"]:
        print(f"updated (you had not changed them): {_names(report['updated'])}")
    if report["kept"]:
        print(f"kept your own copy of: {_names(report['kept'])} (delete a notebook to get the lesson afresh)")
    how = "only printed below" if args.no_browser else "opening in your browser"
    print(f"gradlab lessons: JupyterLab on http://{HOST}:{args.port}/lab in {folder} ({how}; Ctrl-C to stop)")
    sys.stdout.flush()
    return launch(jupyter_arguments(folder, args.port, browser=not args.no_browser))
