"""MovieLens 100K (GroupLens): 100,000 ratings 1–5 from 943 users on 1,682 movies, read from the files
as published in ml-100k.zip, and a loader for any `user,item,rating` CSV.

The files used here:

    u.data              user id <TAB> item id <TAB> rating <TAB> unix timestamp     (all 100,000 ratings)
    u.item              item id | title | release date | video date | IMDb URL | 19 genre flags   (Latin-1)
    u1.base … u5.base   the official 5-fold split, same format as u.data: each uK.test holds a fifth
    u1.test … u5.test   of the ratings (20,000) and uK.base the other 80,000; the five tests are disjoint

    load_ratings(root)                    Ratings of u.data (or of any one file in that format: name="u1.base")
    load_split(root, fold=1)              (train, test) = (uK.base, uK.test)
    load_titles(root)                     {item id: title}, decoded from Latin-1
    load_csv_ratings(path)                Ratings of a `user,item,rating` CSV (header optional, ids kept as text)
    IdMap(raw_ids)                        raw ids <-> dense indices 0..n-1, unknown ids -> -1

Every file is checked against its SHA-256 sum before it is read: the sum listed for it in the folder's
SHA256SUMS (lines "<sum>  <file name>", as `sha256sum` writes them) or, for the files as GroupLens
publishes them, the sums in SHA256 below.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checksums import CHECKSUMS_FILE, read_checksums

__all__ = [
    "FOLDS",
    "SHA256",
    "IdMap",
    "Ratings",
    "default_root",
    "load_csv_ratings",
    "load_ratings",
    "load_split",
    "load_titles",
]

URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
FOLDS = (1, 2, 3, 4, 5)

# The sums of the files in ml-100k.zip as GroupLens publishes it (taken from the project's reference copy),
# so that a folder unzipped by a user, which has no SHA256SUMS, is checked as well.
SHA256 = {
    "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
    "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
    "u1.base": "ce253ec86c448b44fb3ba9a30d12dcfc2e9210cbde71efada3730c22e9ac212a",
    "u1.test": "18c6014a4b2c7324f250a63f8904a7b16b2b19f911129e346141507b0cbac950",
    "u2.base": "6c06f0b5df4b256da1a994f3ac66edc8da4d3f09bc9282df6b14d893366d703e",
    "u2.test": "4de658d1e04ed9104629509a2e2528fce833ac8e048280183f1df167632038c3",
    "u3.base": "afdc155c291c6edc41c0407e39d7462eb98d341e064f0b0a12175b80b3c4af5d",
    "u3.test": "0f548b51c78327de4c156461d3e430b7e5579fe2b5681586a59416e48fd35f6d",
    "u4.base": "219f0f4d40dfe9c5141d425f53fa91ee23ed275f14e280bbf1b50117afb064ca",
    "u4.test": "7c02ad0a1e7ab1083c8b9d4b627203a051dd7b5eab46d99fa44de33470de8db9",
    "u5.base": "a9574e59ce961eec2121627760b6e9b0974ce1637b3fe69ac32cb14a4bfab485",
    "u5.test": "351cc52e0d15b6c721466276fc24671d40936899e3d01fadeaf312915b8c5634",
}


@dataclass(frozen=True)
class Ratings:
    """Ratings as three parallel arrays: user[n] gave item[n] the rating rating[n].

    user and item hold the raw ids as they appear in the file (int64 for MovieLens, str for a CSV whose
    ids are not all whole numbers); rating is float64. timestamp (int64 unix seconds) when the file has one.
    """

    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    timestamp: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.rating)

    @property
    def n_users(self) -> int:
        return len(np.unique(self.user))

    @property
    def n_items(self) -> int:
        return len(np.unique(self.item))

    @property
    def scale(self) -> tuple[float, float]:
        """(lowest, highest) rating present."""
        return float(self.rating.min()), float(self.rating.max())

    def __repr__(self) -> str:
        return f"Ratings({len(self):,} ratings, {self.n_users:,} users, {self.n_items:,} items)"


class IdMap:
    """Raw ids (numbers or text) to dense indices 0..n-1 and back.

    The indices follow the sorted order of the distinct ids, so the same ids always give the same map.
    index(ids) returns -1 for an id that was not in the map (a user or item unseen in training).
    """

    def __init__(self, raw_ids):
        ids = np.unique(np.asarray(raw_ids))
        if ids.dtype.kind not in "iuU":
            raise TypeError(f"ids must be whole numbers or text, got an array of {ids.dtype}")
        self.ids = ids.astype(np.int64) if ids.dtype.kind in "iu" else ids

    def __len__(self) -> int:
        return len(self.ids)

    def index(self, raw_ids) -> np.ndarray:
        """Dense index of each raw id (an array, or one id giving a 0-d array); -1 where the id is unknown."""
        raw = np.asarray(raw_ids)
        if raw.dtype.kind != self.ids.dtype.kind and not (raw.dtype.kind in "iu" and self.ids.dtype.kind in "iu"):
            # "196" and 196 name the same user when one side was read as text: compare as text
            raw, ids = raw.astype(str), self.ids.astype(str)
            order = np.argsort(ids)
            ids = ids[order]
        else:
            order, ids = None, self.ids
        if len(ids) == 0:
            return np.full(raw.shape, -1, dtype=np.int64)
        where = np.searchsorted(ids, raw)
        where = np.minimum(where, len(ids) - 1)
        found = ids[where] == raw
        index = where if order is None else order[where]
        return np.where(found, index, -1).astype(np.int64)

    def __repr__(self) -> str:
        return f"IdMap({len(self):,} ids)"


def default_root() -> Path:
    """Where the loaders look when no root is given: ~/.cache/gradlab/ml-100k."""
    return Path.home() / ".cache" / "gradlab" / "ml-100k"


def _folder(root) -> Path:
    """The folder holding the files; a parent folder holding ml-100k/ (such as the shared data folder) works too."""
    folder = default_root() if root is None else Path(root).expanduser()
    if not (folder / "u.data").is_file() and (folder / "ml-100k" / "u.data").is_file():
        return folder / "ml-100k"
    return folder


def _read(root, name: str, verify: bool) -> bytes:
    folder = _folder(root)
    path = folder / name
    if not path.is_file():
        where = f"{folder}" + ("" if folder.is_dir() else " (this folder does not exist)")
        raise FileNotFoundError(
            f"MovieLens file not found: {name}\n"
            f"  looked in: {where}\n"
            f"  to fix: download {URL}, unzip it and pass the ml-100k folder as root (or --data);\n"
            f"          with no root the loaders look in {default_root()}"
        )
    raw = path.read_bytes()
    if verify:
        _check_sum(path, raw)
    return raw


def _check_sum(path: Path, raw: bytes) -> None:
    digest = hashlib.sha256(raw).hexdigest()
    listed = read_checksums(path.parent).get(path.name)
    published = SHA256.get(path.name)
    if digest in (listed, published):
        return
    if listed is None and published is None:
        raise ValueError(
            f"{path}: no SHA-256 sum is known for this file: list it in {CHECKSUMS_FILE} beside it "
            "(sha256sum FILE >> SHA256SUMS), or pass verify=False to read it unchecked"
        )
    expected = " or ".join(
        f"{value} ({source})"
        for value, source in ((listed, f"{CHECKSUMS_FILE} in that folder"), (published, "the published file"))
        if value
    )
    raise ValueError(
        f"{path}: SHA-256 checksum mismatch: the file's sum is {digest}, expected {expected}. "
        f"The file is incomplete, corrupt or edited: download {URL} and unzip it again, "
        "or pass verify=False to read it anyway"
    )


def load_ratings(root=None, name: str = "u.data", verify: bool = True) -> Ratings:
    """The ratings of one MovieLens 100K file in the u.data format (user, item, rating, timestamp; tabs).

    name is "u.data" (all 100,000 ratings) or one of the split files "u1.base" … "u5.test".
    root is the ml-100k folder (default: default_root()). Raises FileNotFoundError when the file is
    missing and ValueError when its checksum or its contents are wrong.
    """
    raw = _read(root, name, verify)
    path = _folder(root) / name
    # one conversion of every number at once; only when it fails are the lines walked to name the bad one
    try:
        table = np.array(raw.split(), dtype=np.int64)
    except ValueError:
        table = None
    lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") or not raw else 1)
    if table is None or table.size != 4 * lines:
        _find_bad_line(path, raw)
    table = table.reshape(-1, 4)
    rating = table[:, 2].astype(np.float64)
    bad = np.flatnonzero((rating < 1) | (rating > 5))
    if bad.size:
        raise ValueError(f"{path}, line {bad[0] + 1}: rating {rating[bad[0]]:g} is outside MovieLens' scale 1–5")
    return Ratings(table[:, 0].copy(), table[:, 1].copy(), rating, table[:, 3].copy())


def _find_bad_line(path: Path, raw: bytes):
    for number, line in enumerate(raw.splitlines(), start=1):
        fields = line.split(b"\t")
        if len(fields) != 4 or not all(field.strip().isdigit() for field in fields):
            raise ValueError(
                f"{path}, line {number}: expected 'user<TAB>item<TAB>rating<TAB>timestamp' (four whole numbers), "
                f"got {line[:80]!r}; the file is corrupt"
            )
    raise ValueError(f"{path}: could not read the ratings (blank lines or stray spaces?); the file is corrupt")


def load_split(root=None, fold: int = 1, verify: bool = True) -> tuple[Ratings, Ratings]:
    """The official split `fold` (1–5): (train, test) = (u{fold}.base, u{fold}.test), 80,000 and 20,000 ratings."""
    if fold not in FOLDS:
        raise ValueError(f"fold must be one of 1, 2, 3, 4, 5 (the official u1–u5 splits), got {fold!r}")
    return load_ratings(root, f"u{fold}.base", verify), load_ratings(root, f"u{fold}.test", verify)


def load_titles(root=None, verify: bool = True) -> dict[int, str]:
    """{item id: title} from u.item. The file is Latin-1 (e.g. "Misérables, Les (1995)"), not UTF-8."""
    raw = _read(root, "u.item", verify)
    titles = {}
    for number, line in enumerate(raw.decode("latin-1").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) < 2 or not fields[0].isdigit():
            raise ValueError(f"{_folder(root) / 'u.item'}, line {number}: expected 'item id|title|…', got {line!r}")
        titles[int(fields[0])] = fields[1]
    return titles


def load_csv_ratings(
    path,
    user: str | int = 0,
    item: str | int = 1,
    rating: str | int = 2,
    delimiter: str | None = None,
    encoding: str = "utf-8",
) -> Ratings:
    """Ratings from any delimited text file with a user, an item and a rating on each row.

    user, item and rating name the columns: by header name ("userId") or by position (0, 1, 2, the
    default). A first row whose rating field is not a number is taken as a header. delimiter is
    guessed from the first line (comma, tab, semicolon, | or space) when not given. Ids stay text
    unless every one of them is a whole number (then int64, like MovieLens's).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"ratings file not found: {path}")
    text = path.read_text(encoding=encoding)
    first = text.split("\n", 1)[0]
    if delimiter is None:
        delimiter = next((d for d in (",", "\t", ";", "|") if d in first), " ")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    rows = [row for row in reader if row and any(field.strip() for field in row)]
    if not rows:
        raise ValueError(f"{path}: no rows")
    header = None
    if not _is_number(rows[0][rating] if isinstance(rating, int) and rating < len(rows[0]) else ""):
        header, rows = [field.strip() for field in rows[0]], rows[1:]
    columns = []
    for role, column in (("user", user), ("item", item), ("rating", rating)):
        if isinstance(column, str):
            if header is None or column not in header:
                found = f"the header is {header}" if header else "the file has no header"
                raise ValueError(f"{path}: no column named {column!r} for the {role}; {found}")
            column = header.index(column)
        columns.append(column)
    width = max(columns) + 1
    for number, row in enumerate(rows, start=2 if header else 1):
        if len(row) < width:
            raise ValueError(f"{path}, line {number}: expected at least {width} fields, got {row}")
    users, items, values = ([row[c].strip() for row in rows] for c in columns)
    try:
        scores = np.array(values, dtype=np.float64)
    except ValueError:
        bad = next(n for n, v in enumerate(values) if not _is_number(v))
        raise ValueError(
            f"{path}, row {bad + 1} of the data: the rating {values[bad]!r} is not a number "
            f"(columns used: user {columns[0]}, item {columns[1]}, rating {columns[2]})"
        ) from None
    if not np.isfinite(scores).all():
        raise ValueError(f"{path}: ratings must be finite numbers")
    return Ratings(_ids(users), _ids(items), scores)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _ids(values: list[str]) -> np.ndarray:
    if all(v.isdigit() or (v[:1] == "-" and v[1:].isdigit()) for v in values):
        return np.array(values, dtype=np.int64)
    return np.array(values, dtype=str)
