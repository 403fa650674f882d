"""MovieLens 100K (GroupLens): 100,000 ratings 1–5 from 943 users on 1,682 movies, read from the files
as published in ml-100k.zip, and a loader for any `user,item,rating` CSV.

The files used here:

    u.data              user id <TAB> item id <TAB> rating <TAB> unix timestamp     (all 100,000 ratings)
    u.item              item id | title | release date | video date | IMDb URL | 19 genre flags   (Latin-1)
    u1.base … u5.base   the official 5-fold split, same format as u.data: each uK.test holds a fifth
    u1.test … u5.test   of the ratings (20,000) and uK.base the other 80,000; the five tests are disjoint

    load_ratings(root)                    Ratings of u.data (or of any one file in that format: name="u1.base")
    load_split(root, fold=1)              (train, test) = (uK.base, uK.test)
    load_titles(root)                     {item id: title}, decoded from Latin-1 (or UTF-8 if re-saved so)
    load_csv_ratings(path)                Ratings of a `user,item,rating` CSV (header optional, ids kept as text)
    IdMap(raw_ids)                        raw ids <-> dense indices 0..n-1, unknown ids -> -1
    IndexedRatings                        Ratings already as dense int32 indices (user_ids, item_ids: the raw ids),
                                          as the large loaders and the synthetic generator give them
    download_movielens(root)              fetch ml-100k.zip from GroupLens, check it and unzip it into root
                                          (the command line: `gradlab data download movielens-100k [--to DIR]`)

With no root the loaders read default_root(), ~/.cache/gradlab/ml-100k, where the download puts the files.

Every file is checked against its SHA-256 sum before it is read: the sum listed for it in the folder's
SHA256SUMS (lines "<sum>  <file name>", as `sha256sum` writes them) or, for the files as GroupLens
publishes them, the sums in SHA256 below. Every number is checked too: a rating or id that is not a
number, is not finite, or is too large for the arrays it goes into is refused with its line number.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from .checksums import CHECKSUMS_FILE, ChecksumError, file_sha256, read_checksums
from .download import DownloadError, fetch, mirror_urls, prepare, shell_command, with_advice

__all__ = [
    "FOLDS",
    "SHA256",
    "IdMap",
    "IndexedRatings",
    "Ratings",
    "default_root",
    "download_movielens",
    "load_csv_ratings",
    "load_ratings",
    "load_split",
    "load_titles",
]

MIRRORS = ("https://files.grouplens.org/datasets/movielens/",)
ARCHIVE = "ml-100k.zip"
URL = MIRRORS[0] + ARCHIVE
FOLDS = (1, 2, 3, 4, 5)

# ml-100k.zip as GroupLens publishes it: 4,924,029 bytes, MD5 0e33842e24a9c977be4e0107933c0723 (the sum
# GroupLens serves in ml-100k.zip.md5) and this SHA-256, the value TensorFlow Datasets and others check.
ARCHIVE_SHA256 = "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229"
ARCHIVE_BYTES = 4_924_029
MAX_MEMBER_BYTES = 64 << 20  # the largest file in the archive (u.data) is 2 MB

# The files the loaders read; a download is complete when all of them are present with a good sum.
NEEDED = ("u.data", "u.item", *(f"u{k}.{part}" for k in FOLDS for part in ("base", "test")))

# The sums of the files in ml-100k.zip as GroupLens publishes it (taken from the project's reference copy;
# u.data, u.item, u.user and README agree with the sums other projects publish), so that a folder unzipped
# by a user, which has no SHA256SUMS, is checked as well, and so that a re-packed copy of the archive
# (from a mirror) can be checked file by file.
SHA256 = {
    "README": "4883b8cf340ed0059971b33f56ad3adc88a40792108ebca3d24aafc4c82e8b52",
    "u.genre": "9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb",
    "u.info": "5b0a40b2e47a729ee6203063f6dcf8790c2e63f5a18663e6ee318a72c5f3c27b",
    "u.occupation": "cd5fbec9afe345d993a62fc7817df1a4a9079c4feb267b3118763b8fd942137d",
    "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
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


@dataclass(frozen=True, repr=False)
class IndexedRatings(Ratings):
    """Ratings whose user and item are dense indices 0..n-1 (int32), rating float32; user_ids[k] and
    item_ids[k] are the raw ids (as in the source files) of index k. A Ratings, so every trainer takes it;
    n_users and n_items are the sizes of the index ranges (no np.unique over millions of rows)."""

    user_ids: np.ndarray | None = None
    item_ids: np.ndarray | None = None

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def nbytes(self) -> int:
        """Bytes held by the rating arrays (user, item, rating and timestamp when present)."""
        arrays = (self.user, self.item, self.rating, self.timestamp)
        return sum(a.nbytes for a in arrays if a is not None)

    def __repr__(self) -> str:
        return f"IndexedRatings({len(self):,} ratings, {self.n_users:,} users, {self.n_items:,} items)"


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
    """Where the loaders look when no root is given, and where `gradlab data download movielens-100k`
    puts the files: ~/.cache/gradlab/ml-100k."""
    return Path.home() / ".cache" / "gradlab" / "ml-100k"


def download_command(folder: Path | None = None) -> str:
    """The command that fetches MovieLens 100K into folder (no --to when it is the default folder)."""
    return shell_command("movielens-100k", folder, default_root())


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
        if root is None:
            where += " (the default folder)"
        raise FileNotFoundError(
            f"MovieLens file not found: {name}\n"
            f"  looked in: {where}\n"
            f"  to fix: run `{download_command(None if root is None else folder)}` to fetch {ARCHIVE} "
            f"({ARCHIVE_BYTES / 1e6:.1f} MB) from GroupLens, check it and unzip it there,\n"
            f"          or download {URL} yourself, unzip it and pass the ml-100k folder as root (--data DIR);\n"
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
            "(sha256sum FILE >> SHA256SUMS; from Python, verify=False reads it unchecked)"
        )
    expected = " or ".join(
        f"{value} ({source})"
        for value, source in ((listed, f"{CHECKSUMS_FILE} in that folder"), (published, "the published file"))
        if value
    )
    raise ValueError(
        f"{path}: SHA-256 checksum mismatch: the file's sum is {digest}, expected {expected}. "
        f"The file is incomplete, corrupt or edited: run `{download_command(path.parent)}` to fetch it again, "
        "or, from Python, pass verify=False to read it anyway"
    )


def load_ratings(root=None, name: str = "u.data", verify: bool = True) -> Ratings:
    """The ratings of one MovieLens 100K file in the u.data format (user, item, rating, timestamp; tabs).

    name is "u.data" (all 100,000 ratings) or one of the split files "u1.base" … "u5.test".
    root is the ml-100k folder (default: default_root()). Raises FileNotFoundError when the file is
    missing and ValueError when its checksum or its contents are wrong.
    """
    raw = _read(root, name, verify)
    path = _folder(root) / name
    # one conversion of every number at once; only when it fails are the lines walked to name the bad one.
    # Digits, tabs and line ends only: no sign, exponent, 'inf' or '1_000' gets as far as the conversion.
    table = None
    if not raw.translate(None, b"0123456789\t\r\n"):
        try:
            table = np.array(raw.split(), dtype=np.int64)
        except (ValueError, OverflowError):  # OverflowError: a number of 19 digits or more
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


INT64_MAX = 2**63 - 1


def _find_bad_line(path: Path, raw: bytes):
    for number, line in enumerate(raw.splitlines(), start=1):
        fields = line.split(b"\t")
        if len(fields) != 4 or not all(field.isdigit() for field in fields):
            raise ValueError(
                f"{path}, line {number}: expected 'user<TAB>item<TAB>rating<TAB>timestamp' (four whole numbers), "
                f"got {line[:80]!r}; the file is corrupt"
            )
        for field, role in zip(fields, ("user id", "item id", "rating", "timestamp")):
            if int(field) > INT64_MAX:
                raise ValueError(
                    f"{path}, line {number}: {role} {field[:40].decode()}{'…' if len(field) > 40 else ''} is too "
                    f"large ({len(field)} digits; at most {INT64_MAX}); the file is corrupt"
                )
    raise ValueError(f"{path}: could not read the ratings (blank lines or stray spaces?); the file is corrupt")


def load_split(root=None, fold: int = 1, verify: bool = True) -> tuple[Ratings, Ratings]:
    """The official split `fold` (1–5): (train, test) = (u{fold}.base, u{fold}.test), 80,000 and 20,000 ratings."""
    if fold not in FOLDS:
        raise ValueError(f"fold must be one of 1, 2, 3, 4, 5 (the official u1–u5 splits), got {fold!r}")
    return load_ratings(root, f"u{fold}.base", verify), load_ratings(root, f"u{fold}.test", verify)


def load_titles(root=None, verify: bool = True) -> dict[int, str]:
    """{item id: title} from u.item. The published file is Latin-1 (e.g. "Misérables, Les (1995)"), not
    UTF-8; a copy re-saved as UTF-8 is read as UTF-8 (a Latin-1 text with accents is never valid UTF-8)."""
    raw = _read(root, "u.item", verify)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # every byte is a Latin-1 character: this cannot fail
    titles = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) < 2 or not fields[0].isdigit():
            raise ValueError(f"{_folder(root) / 'u.item'}, line {number}: expected 'item id|title|…', got {line!r}")
        titles[int(fields[0])] = fields[1]
    return titles


RATING_LIMIT = 1e6  # larger ratings are a corrupt column, and their squares would swamp any fit


def load_csv_ratings(
    path,
    user: str | int = 0,
    item: str | int = 1,
    rating: str | int = 2,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> Ratings:
    """Ratings from any delimited text file with a user, an item and a rating on each row.

    user, item and rating name the columns: by header name ("userId") or by position (0, 1, 2, the
    default). A first row whose rating field is not a number is taken as a header. delimiter is
    guessed from the first line (comma, tab, semicolon, | or space) when not given. Ids stay text
    unless every one of them is a whole number (then int64, like MovieLens's).

    encoding=None reads UTF-8 (a byte-order mark is dropped; UTF-16 with a byte-order mark is read too)
    and falls back to Latin-1 for a file that is not valid UTF-8, such as a CSV saved by a Windows
    spreadsheet: Latin-1 gives every byte a character of its own, so distinct ids stay distinct. A
    named encoding is used strictly. Ratings must be finite numbers within ±RATING_LIMIT, ids that are
    whole numbers must fit in 64 bits; any other value is refused with its line number.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"ratings file not found: {path}")
    text = _decode(path, path.read_bytes(), encoding)
    first = text.split("\n", 1)[0]
    if delimiter is None:
        delimiter = next((d for d in (",", "\t", ";", "|") if d in first), " ")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    rows, line_of = [], []
    try:
        start = 1
        for row in reader:
            if row and any(field.strip() for field in row):
                rows.append(row)
                line_of.append(start)
            start = reader.line_num + 1
    except csv.Error as error:
        raise ValueError(f"{path}, line {reader.line_num}: {error}") from None
    if not rows:
        raise ValueError(f"{path}: no rows")
    header = None
    if not _is_number(rows[0][rating] if isinstance(rating, int) and rating < len(rows[0]) else ""):
        header, rows, line_of = [field.strip() for field in rows[0]], rows[1:], line_of[1:]
    columns = []
    for role, column in (("user", user), ("item", item), ("rating", rating)):
        if isinstance(column, str):
            if header is None or column not in header:
                found = f"the header is {header}" if header else "the file has no header"
                raise ValueError(f"{path}: no column named {column!r} for the {role}; {found}")
            column = header.index(column)
        columns.append(column)
    width = max(columns) + 1
    for number, row in zip(line_of, rows):
        if len(row) < width:
            raise ValueError(f"{path}, line {number}: expected at least {width} fields, got {row}")
    users, items, values = ([row[c].strip() for row in rows] for c in columns)
    used = f"(columns used: user {columns[0]}, item {columns[1]}, rating {columns[2]})"
    try:
        scores = np.array(values, dtype=np.float64)
    except ValueError:
        bad = next(n for n, v in enumerate(values) if not _is_number(v))
        raise ValueError(f"{path}, line {line_of[bad]}: the rating {values[bad]!r} is not a number {used}") from None
    bad = np.flatnonzero(~(np.abs(scores) <= RATING_LIMIT))  # also catches nan, for which every comparison fails
    if bad.size:
        value = values[bad[0]]
        why = "not a finite number" if not np.isfinite(scores[bad[0]]) else f"larger than ±{RATING_LIMIT:,.0f}"
        raise ValueError(
            f"{path}, line {line_of[bad[0]]}: the rating {value!r} is {why}; ratings are scores on a scale "
            f"(1–5, 0–10, a count…) {used}"
        )
    return Ratings(_ids(users, "user", path, line_of), _ids(items, "item", path, line_of), scores)


def _decode(path: Path, raw: bytes, encoding: str | None) -> str:
    if encoding is not None:
        try:
            return raw.decode(encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {encoding!r} for {path}") from None
        except UnicodeDecodeError as error:
            line = raw.count(b"\n", 0, error.start) + 1
            raise ValueError(
                f"{path}, line {line}: not valid {encoding} (byte 0x{raw[error.start]:02X}); name the file's "
                "encoding (encoding='latin-1', 'cp1252', …), leave encoding=None to have it guessed, "
                "or save the file as UTF-8"
            ) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise ValueError(f"{path}: starts like UTF-16 text but is not valid UTF-16; save it as UTF-8") from None
    if b"\x00" in raw:
        raise ValueError(
            f"{path}: holds NUL bytes, so it is not a text file in UTF-8 or Latin-1 (UTF-16 without a "
            "byte-order mark, or a binary file such as .xlsx); save or export it as CSV in UTF-8"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _ids(values: list[str], role: str, path: Path, line_of: list[int]) -> np.ndarray:
    if all(v.isdigit() or (v[:1] == "-" and v[1:].isdigit()) for v in values):
        try:
            return np.array(values, dtype=np.int64)
        except (OverflowError, ValueError):  # a whole number of 19 digits or more
            bad = next(n for n, v in enumerate(values) if not -(2**63) <= int(v) < 2**63)
            shown = values[bad] if len(values[bad]) <= 40 else values[bad][:40] + "…"
            raise ValueError(
                f"{path}, line {line_of[bad]}: the {role} id {shown} is too large ({len(values[bad])} digits; "
                "ids that are whole numbers must lie within ±9.2e18, 64 bits); the column is corrupt, or "
                "holds something other than ids"
            ) from None
    return np.array(values, dtype=str)


# --- download ------------------------------------------------------------------------------------
def download_movielens(
    root=None,
    mirror: str | Sequence[str] = MIRRORS,
    timeout: float = 15.0,
    *,
    retries: int = 3,
    backoff: float = 1.0,
    progress=True,
) -> Path:
    """Fetch ml-100k.zip from GroupLens, check it and unzip its files into root (default: default_root()).

    mirror is a base URL, or several tried in order, to which "ml-100k.zip" is appended. Nothing is
    fetched when root already holds the files the loaders read with good sums. The archive is streamed
    to a .part file (resumed if an earlier download broke off, retried on a cut connection) and is
    accepted when

      * its SHA-256 is that of the archive GroupLens publishes (ARCHIVE_SHA256): every file is unzipped; or
      * it is another packing of the same files (a mirror that re-zipped them): then every file in it
        whose sum is known (SHA256) must match, those are unzipped, files with no known sum are left out,
        and the files the loaders read (NEEDED) must all be there.

    The files go into root itself (root/u.data …), written under a temporary name and renamed, and the
    archive is deleted once they are out. Returns the folder. Raises ConnectionError when no mirror can
    be reached and ValueError when the archive is wrong.
    """
    folder = default_root() if root is None else Path(root).expanduser()
    mirrors, stream = prepare(folder, mirror, progress)
    if _complete(folder):
        if stream is not None:
            print(f"  MovieLens 100K: already in {folder}, SHA-256 verified", file=stream, flush=True)
        return folder
    archive = folder / ARCHIVE
    try:
        if archive.is_file():  # a run that stopped while unzipping left the checked archive
            _check_archive(archive, file_sha256(archive))
        else:
            urls = mirror_urls(mirrors, ARCHIVE)
            fetch(urls, archive, _check_archive, retries=retries, backoff=backoff, timeout=timeout, progress=stream)
    except (ChecksumError, DownloadError) as error:
        advice = f"To use MovieLens 100K offline, unzip a copy of {ARCHIVE} into {folder} by other means ({URL})."
        archive.unlink(missing_ok=True)  # only ever a checked archive has this name
        raise with_advice(error, advice) from None
    names, skipped = _extract(archive, folder)
    archive.unlink()
    if stream is not None:
        note = f"; left out (no known checksum): {', '.join(skipped)}" if skipped else ""
        print(f"  {ARCHIVE}: unzipped {len(names)} files into {folder}{note}", file=stream, flush=True)
    return folder


def _complete(folder: Path) -> bool:
    listed = read_checksums(folder)
    return all(
        (folder / name).is_file() and file_sha256(folder / name) in (SHA256[name], listed.get(name)) for name in NEEDED
    )


def _members(archive: zipfile.ZipFile) -> tuple[dict[str, zipfile.ZipInfo], list[str]]:
    """The archive's files by bare name (ml-100k/u.data -> u.data), and the entries that are not left
    out: anything outside one top folder, names with a path in them or hidden names (no zip-slip)."""
    members, odd = {}, []
    for info in archive.infolist():
        if info.is_dir():
            continue
        parts = PurePosixPath(info.filename).parts
        name = parts[-1] if parts else ""
        if (
            not (len(parts) == 1 or (len(parts) == 2 and parts[0] == "ml-100k"))
            or name.startswith(".")
            or ("\\" in name or ":" in name)
        ):
            odd.append(info.filename)
            continue
        if name in members:
            raise ChecksumError(f"{ARCHIVE}: holds {name} twice; it is not a copy of MovieLens 100K")
        members[name] = info
    return members, odd


def _plan(path: Path, digest: str) -> tuple[dict[str, zipfile.ZipInfo], list[str], bool]:
    """(files to unzip, files left out, whether the archive is the published one); ChecksumError if it is wrong."""
    official = digest == ARCHIVE_SHA256
    try:
        with zipfile.ZipFile(path) as archive:
            members, odd = _members(archive)
            if official:
                return members, odd, True
            keep, skipped = {}, list(odd)
            for name, info in members.items():
                known = SHA256.get(name)
                if known is None:
                    skipped.append(name)
                    continue
                found = hashlib.sha256(_read_member(archive, info)).hexdigest()
                if found != known:
                    raise ChecksumError(
                        f"{ARCHIVE}: its SHA-256 is {digest}, not that of the published archive ({ARCHIVE_SHA256}), "
                        f"and the {name} inside it has SHA-256 {found}, not that of the published file ({known})"
                    )
                keep[name] = info
    except (zipfile.BadZipFile, EOFError) as error:
        raise ChecksumError(
            f"{ARCHIVE}: not a readable zip file ({error}); its SHA-256 is {digest}, "
            f"the published archive's is {ARCHIVE_SHA256}"
        ) from None
    missing = [name for name in NEEDED if name not in keep]
    if missing:
        raise ChecksumError(
            f"{ARCHIVE}: its SHA-256 is {digest}, not that of the published archive ({ARCHIVE_SHA256}), "
            f"and it lacks {', '.join(missing)}"
        )
    return keep, sorted(skipped), False


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > MAX_MEMBER_BYTES:
        raise ChecksumError(
            f"{ARCHIVE}: {info.filename} claims {info.file_size:,} bytes; MovieLens 100K has no such file"
        )
    return archive.read(info)  # zipfile checks each member's CRC-32 as it reads


def _check_archive(path: Path, digest: str) -> None:
    """fetch's check: the published archive, or a re-packed one whose files all match their sums."""
    _plan(path, digest)


def _extract(path: Path, folder: Path) -> tuple[list[str], list[str]]:
    members, skipped, official = _plan(path, file_sha256(path))
    with zipfile.ZipFile(path) as archive:
        for name, info in members.items():
            data = _read_member(archive, info)
            if not official and hashlib.sha256(data).hexdigest() != SHA256[name]:  # the file changed since
                raise ChecksumError(f"{path}: {name} changed while being unzipped; run the download again")
            temporary = folder / f".{name}.unzipping"
            temporary.write_bytes(data)
            os.replace(temporary, folder / name)
    return sorted(members), skipped
