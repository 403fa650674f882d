"""A 2-D point cloud from a CSV file: the data the GAN and the diffusion model learn from when it is not a
built-in set.

    points = read_points("cloud.csv")                    float64 (n, 2)
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["read_points"]


def _shown(text: str, width: int = 40) -> str:
    """A line as quoted in an error: repr, cut to `width` characters with an ellipsis."""
    return repr(text if len(text) <= width else text[: width - 1] + "…")


def read_points(path, min_points: int = 1) -> np.ndarray:
    """The points of a CSV file as float64 of shape (n, 2). The format:

    - one point a line, `x,y`: two numbers separated by a comma (spaces around them are ignored);
    - an optional header: the first line that is not blank or a comment, if its fields are not all numbers
      (e.g. `x,y`), is skipped;
    - blank lines and lines starting with # are skipped (a UTF-8 byte-order mark is ignored);
    - any other line that is not two finite numbers is refused: ValueError naming the file and the line
      number (counting every line, from 1), e.g. `cloud.csv, line 4: expected two numbers x,y, got '5,six'`.

    A file with fewer than `min_points` points (default 1: a file without points) is refused too. A file that cannot be
    opened raises the OSError of open() (FileNotFoundError, IsADirectoryError, PermissionError, …)."""
    rows: list[tuple[float, float]] = []
    header_allowed = True
    with open(path, encoding="utf-8-sig") as lines:
        try:
            for number, line in enumerate(lines, start=1):
                text = line.strip()
                if not text or text.startswith("#"):
                    continue
                cells = [cell.strip() for cell in text.split(",")]
                try:
                    values = [float(cell) for cell in cells]
                except ValueError:
                    if header_allowed:
                        header_allowed = False
                        continue  # a header such as "x,y"
                    raise ValueError(f"{path}, line {number}: expected two numbers x,y, got {_shown(text)}") from None
                header_allowed = False
                if len(values) != 2:
                    raise ValueError(
                        f"{path}, line {number}: expected two numbers x,y, got {len(values)} in {_shown(text)}"
                    )
                if not all(map(math.isfinite, values)):
                    raise ValueError(f"{path}, line {number}: expected two finite numbers x,y, got {_shown(text)}")
                rows.append((values[0], values[1]))
        except UnicodeDecodeError:
            raise ValueError(f"{path} is not UTF-8 text: expected a CSV file of x,y lines") from None
    needed = max(1, int(min_points))
    if len(rows) < needed:
        found = "no points" if not rows else f"{len(rows)} point{'s' if len(rows) != 1 else ''}"
        raise ValueError(f"{path} holds {found}; at least {needed} needed, one x,y a line")
    return np.array(rows, dtype=np.float64)
