"""Reference solutions, kept apart from the lessons in `lessons/solutions/NN_slug.py` of the source checkout.

Each exercise's solution is the block that starts with a line `# exercise: <lesson>.<name>` and runs to the
next such line or the end of the file; the block is the full replacement source of that exercise's cell.
Text before the first marker (imports for linting, a docstring) belongs to no exercise.
"""

from __future__ import annotations

import re
from pathlib import Path

import gradlab

__all__ = ["load", "parse", "repo_root", "solutions_dir"]

MARKER = re.compile(r"^# exercise:\s*(\S+)\s*$")


def repo_root() -> Path:
    """The source checkout gradlab runs from: src/gradlab/__init__.py -> parents[2]."""
    return Path(gradlab.__file__).resolve().parents[2]


def solutions_dir() -> Path:
    """lessons/solutions/ of the source checkout (FileNotFoundError if gradlab is not run from one)."""
    folder = repo_root() / "lessons" / "solutions"
    if not folder.is_dir():
        raise FileNotFoundError(
            f"the reference solutions live in the source checkout's lessons/solutions/, and {folder} does not "
            "exist: install gradlab from its repository with `pip install -e .` to use them"
        )
    return folder


def parse(text: str, origin: str = "<text>") -> dict[str, str]:
    """{exercise name: block source} from a solutions file's text (ValueError on a name used twice)."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        match = MARKER.match(line)
        if match:
            name = match.group(1)
            if name in blocks:
                raise ValueError(f"{origin}: exercise {name!r} has two solution blocks")
            current = blocks[name] = []
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines).strip("\n") + "\n" for name, lines in blocks.items()}


def load(stem: str) -> dict[str, str]:
    """{exercise name: solution source} from lessons/solutions/<stem>.py, e.g. load("01_derivatives")."""
    folder = solutions_dir()
    path = folder / f"{stem}.py"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("[0-9][0-9]_*.py"))) or "none yet"
        raise FileNotFoundError(f"no reference solutions for lesson {stem!r} in {folder} (there are: {known})")
    return parse(path.read_text(encoding="utf-8"), origin=str(path))
