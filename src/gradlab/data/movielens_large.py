"""MovieLens 1M, 10M, 20M and 25M (GroupLens): the ratings as dense int32 indices and float32 ratings,
read fast and lean, and their download.

    ratings = load_movielens("20m", root)        IndexedRatings: user, item int32 indices, rating float32
    ratings.user_ids[k], ratings.item_ids[k]     the raw userId / movieId of index k
    titles = load_movie_titles("20m", root)      {movieId: title}
    download_movielens_large("20m", root)        fetch ml-20m.zip, check it, unzip ratings and movies
                                                 (the command line: `gradlab data download movielens-20m`)

The files, as GroupLens publishes them (one zip each, every file under one top folder):

    1m    ml-1m/       ratings.dat  UserID::MovieID::Rating::Timestamp      movies.dat  MovieID::Title::Genres
    10m   ml-10M100K/  ratings.dat  (same, half stars)                      movies.dat  (same)
    20m   ml-20m/      ratings.csv  userId,movieId,rating,timestamp         movies.csv  movieId,title,genres
    25m   ml-25m/      ratings.csv  (same)                                  movies.csv  (titles with commas
                                                                                         are "quoted")

Reading. The ratings file is read twice in blocks of READ_BLOCK bytes: once to count the lines (and hash
the file when SHA256SUMS lists it), then to parse each block with NumPy's C text reader (np.loadtxt) into
arrays allocated once at their final size. Memory: the result (12 bytes a rating, 20 with timestamps)
plus one block's temporaries. Measured on 20 M lines in ML-20M's CSV format (540 MB), one thread, a 2-core
machine shared with other jobs, medians of 3 run side by side: load_movielens 11.3 s at 303 MB peak RSS
(240 MB of it the result; 3.5 s when the machine was quiet); np.loadtxt of the whole file into float64 8.6 s
at 668 MB (no checks, no indices); np.fromstring(sep=",") per block 19.4 s at 1,256 MB.

Ids become dense indices in the order of the ids (index k is the k-th smallest id seen), through a lookup
table over the id range: O(n), no sort of 20 M values.

Every value is checked: a line that does not hold four numbers, an id that is not a whole number in
1 … 2^31 − 1, a rating outside 0.5 … 5 or off the half-star grid, is refused with its file and line.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checksums import CHECKSUMS_FILE, ChecksumError, file_sha256, read_checksums, sha256_or_md5_in, write_checksums
from .download import DownloadError, fetch, mirror_urls, prepare, with_advice
from .movielens import MIRRORS, IndexedRatings

__all__ = [
    "VERSIONS",
    "Version",
    "default_root",
    "download_movielens_large",
    "load_movie_titles",
    "load_movielens",
]

READ_BLOCK = 1 << 23  # 8 MiB of text, ~300,000 lines: the parse's temporaries stay near 40 MB
ID_LIMIT = 2**31 - 1  # ids are stored as int32 before they are made dense


@dataclass(frozen=True)
class Version:
    """One MovieLens release: where it lives and how its files are laid out.

    md5 is the sum GroupLens publishes beside the archive (ml-20m.zip.md5); sha256 is the sum TensorFlow
    Datasets checks (tensorflow_datasets/url_checksums/movielens.txt), None where no SHA-256 is published."""

    name: str
    archive: str
    top: str
    ratings: str
    movies: str
    separator: bytes
    header: bytes | None
    md5: str
    sha256: str | None
    archive_bytes: int | None


VERSIONS = {
    "1m": Version("1m", "ml-1m.zip", "ml-1m", "ratings.dat", "movies.dat", b"::", None,
                  "c4d9eecfca2ab87c1945afe126590906",
                  "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20", 5_917_549),
    "10m": Version("10m", "ml-10m.zip", "ml-10M100K", "ratings.dat", "movies.dat", b"::", None,
                   "ce571fd55effeba0271552578f2648bd", None, None),
    "20m": Version("20m", "ml-20m.zip", "ml-20m", "ratings.csv", "movies.csv", b",",
                   b"userId,movieId,rating,timestamp", "cd245b17a1ae2cc31bb14903e1204af3",
                   "96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3", 198_702_078),
    "25m": Version("25m", "ml-25m.zip", "ml-25m", "ratings.csv", "movies.csv", b",",
                   b"userId,movieId,rating,timestamp", "6b51fb2759a8657d3bfcbfc42b592ada",
                   "8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa", 261_978_986),
}  # fmt: skip


def _version(version: str) -> Version:
    key = str(version).lower().removeprefix("ml-").removeprefix("movielens-")
    if key not in VERSIONS:
        raise ValueError(f"unknown MovieLens version {version!r}: choose one of {', '.join(VERSIONS)}")
    return VERSIONS[key]


def default_root(version: str) -> Path:
    """Where load_movielens looks and the download puts the files: ~/.cache/gradlab/ml-<version>."""
    return Path.home() / ".cache" / "gradlab" / f"ml-{_version(version).name}"


def _folder(version: Version, root) -> Path:
    """The folder holding the files; its parent (holding ml-20m/, or ml-10M100K/ for 10m) works too."""
    folder = default_root(version.name) if root is None else Path(root).expanduser()
    if not (folder / version.ratings).is_file() and (folder / version.top / version.ratings).is_file():
        return folder / version.top
    return folder


def _path(version: Version, root, name: str) -> Path:
    folder = _folder(version, root)
    path = folder / name
    if not path.is_file():
        command = f"gradlab data download movielens-{version.name}" + ("" if root is None else f" --to {folder}")
        raise FileNotFoundError(
            f"MovieLens {version.name.upper()} file not found: {path}\n"
            f"  to fix: run `{command}`, or unzip {MIRRORS[0]}{version.archive} yourself and pass the "
            f"{version.top} folder as root"
        )
    return path


# --- the ratings ---------------------------------------------------------------------------------
def _blocks(path: Path, skip: int):
    """(first line number, lines in block, block of whole lines) from byte `skip` on, READ_BLOCK bytes at a time."""
    line = 1 + (skip > 0)
    with open(path, "rb") as stream:
        stream.seek(skip)
        rest = b""
        while chunk := stream.read(READ_BLOCK):
            chunk = rest + chunk
            cut = chunk.rfind(b"\n") + 1
            if cut == 0:
                rest = chunk
                continue
            rest, lines = chunk[cut:], chunk.count(b"\n", 0, cut)
            yield line, lines, chunk[:cut]
            line += lines
        if rest.strip():
            yield line, 1, rest + b"\n"


def _count_and_check(path: Path, skip: int, verify: bool) -> int:
    """Lines after the header; with verify, the file's SHA-256 against SHA256SUMS beside it (when listed)."""
    listed = read_checksums(path.parent).get(path.name) if verify else None
    digest = hashlib.sha256() if listed else None
    lines = 0
    with open(path, "rb") as stream:
        head = stream.read(skip)
        if digest:
            digest.update(head)
        last = b"\n"
        while chunk := stream.read(READ_BLOCK):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
            if digest:
                digest.update(chunk)
    if digest and digest.hexdigest() != listed:
        raise ChecksumError(
            f"{path}: SHA-256 checksum mismatch: the file's sum is {digest.hexdigest()}, {CHECKSUMS_FILE} beside it "
            f"lists {listed}. The file is incomplete, corrupt or edited: download it again, or pass verify=False"
        )
    return lines + (last != b"\n")


def _header_length(path: Path, version: Version) -> int:
    if version.header is None:
        return 0
    with open(path, "rb") as stream:
        first = stream.readline()
    if first.strip() != version.header:
        raise ValueError(
            f"{path}, line 1: expected the header {version.header.decode()!r} of MovieLens "
            f"{version.name.upper()}, got {first[:80]!r}; is this the right file?"
        )
    return len(first)


ROW = np.dtype([("user", np.int32), ("item", np.int32), ("rating", np.float32), ("timestamp", np.int64)])


def _parse(block: bytes, lines: int, version: Version, path: Path, line: int) -> np.ndarray:
    """The block's lines as a ROW array, by NumPy's C text reader: ids must be whole numbers that fit int32
    (it refuses "2.5" and 99999999999 itself); the rest is checked here. A bad line raises ValueError naming it.

    Measured on 2 M lines of ML-20M's CSV (seconds, medians of 3, side by side): loadtxt into this record
    dtype 0.61, into float64 0.95; np.fromstring(sep=",") 1.12-1.26."""
    text = block.replace(version.separator, b",") if version.separator != b"," else block
    try:
        table = np.loadtxt(io.BytesIO(text), delimiter=",", dtype=ROW, ndmin=1, comments=None)
    except ValueError:
        table = None
    if table is None or len(table) != lines:
        _find_bad_line(block, version, path, line)
    bad = (table["user"] < 1) | (table["item"] < 1) | (table["timestamp"] < 0)
    rating = table["rating"]
    bad |= ~((rating >= 0.5) & (rating <= 5) & (2 * rating == np.floor(2 * rating)))  # also refuses nan
    if bad.any():
        k = int(np.argmax(bad))
        raise ValueError(
            f"{path}, line {line + k}: {tuple(table[k].tolist())} is not (user id >= 1, movie id >= 1, "
            "star rating 0.5, 1, … 5, timestamp >= 0); the file is corrupt"
        )
    return table


def _find_bad_line(block: bytes, version: Version, path: Path, line: int):
    layout = version.separator.decode().join(("user", "item", "rating", "timestamp"))
    for number, row in enumerate(block.split(b"\n")[:-1], start=line):
        fields = row.strip().split(version.separator)
        whole = all(field.strip().isdigit() and int(field) <= ID_LIMIT for field in fields[:2])
        if len(fields) != 4 or not whole or not fields[3].strip().isdigit() or not _is_number(fields[2]):
            raise ValueError(
                f"{path}, line {number}: expected '{layout}' (ids whole numbers up to {ID_LIMIT}), got {row[:80]!r}"
            )
    raise ValueError(f"{path}, lines {line}…: could not read the ratings (blank lines?); the file is corrupt")


def _is_number(text: bytes) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _dense(raw: np.ndarray) -> np.ndarray:
    """Replace raw ids (int32, in place) by their rank among the distinct ids; returns the distinct ids.

    A lookup table over 0 … max id (one byte per possible id, then int32 ranks) when the id range is not much
    wider than the data; np.unique otherwise."""
    if len(raw) == 0:
        return np.zeros(0, dtype=np.int64)
    top = int(raw.max())
    if top > 8 * len(raw) + (1 << 20):
        ids, inverse = np.unique(raw, return_inverse=True)
        raw[:] = inverse
        return ids.astype(np.int64)
    seen = np.zeros(top + 1, dtype=bool)
    seen[raw] = True
    rank = (np.cumsum(seen, dtype=np.int32) - 1).astype(np.int32)
    for start in range(0, len(raw), 1 << 22):  # in slices: no second full-length array
        part = raw[start : start + (1 << 22)]
        part[:] = rank[part]
    return np.flatnonzero(seen).astype(np.int64)


def load_movielens(version: str, root=None, timestamps: bool = False, verify: bool = True) -> IndexedRatings:
    """All ratings of MovieLens `version` ("1m", "10m", "20m", "25m") from its ratings file in root
    (default: default_root(version)): user and item as dense int32 indices (user_ids[u], item_ids[i] give
    the raw ids back), rating float32, timestamp int64 unix seconds only when timestamps=True.

    verify=True checks the file's SHA-256 against the SHA256SUMS beside it when it lists the file (the
    download writes it); a folder unzipped by hand has none and is read as it is. Raises FileNotFoundError
    when the file is missing and ValueError (naming the line) when its contents are not MovieLens ratings."""
    spec = _version(version)
    path = _path(spec, root, spec.ratings)
    skip = _header_length(path, spec)
    n = _count_and_check(path, skip, verify)
    user, item = np.empty(n, np.int32), np.empty(n, np.int32)
    rating = np.empty(n, np.float32)
    stamp = np.empty(n, np.int64) if timestamps else None
    done = 0
    for line, lines, block in _blocks(path, skip):
        table = _parse(block, lines, spec, path, line)
        end = done + len(table)
        if end > n:
            raise ValueError(f"{path}: grew while it was read; read it again")
        user[done:end], item[done:end], rating[done:end] = table["user"], table["item"], table["rating"]
        if stamp is not None:
            stamp[done:end] = table["timestamp"]
        done = end
    if done != n:
        raise ValueError(f"{path}: holds {done:,} ratings, but {n:,} lines (blank lines?); the file is corrupt")
    user_ids, item_ids = _dense(user), _dense(item)
    return IndexedRatings(user, item, rating, stamp, user_ids=user_ids, item_ids=item_ids)


def load_movie_titles(version: str, root=None) -> dict[int, str]:
    """{movieId: title} from movies.dat (ML-1M and ML-10M: 'MovieID::Title::Genres') or movies.csv (ML-20M,
    ML-25M: 'movieId,title,genres', titles holding commas quoted). Text is UTF-8, or Latin-1 (ML-1M's) when
    it is not valid UTF-8."""
    spec = _version(version)
    path = _path(spec, root, spec.movies)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # every byte is a Latin-1 character: this cannot fail
    if spec.separator == b"::":
        rows = (line.split("::", 2) for line in text.splitlines() if line.strip())
    else:
        rows = csv.reader(io.StringIO(text))
        header = next(rows, None)
        if header != ["movieId", "title", "genres"]:
            raise ValueError(f"{path}, line 1: expected the header 'movieId,title,genres', got {header}")
    titles = {}
    for number, row in enumerate(rows, start=1 + (spec.header is not None)):
        if len(row) != 3 or not row[0].isdigit():
            raise ValueError(f"{path}, line {number}: expected 'movie id, title, genres', got {row}")
        titles[int(row[0])] = row[1]
    return titles


# --- download ------------------------------------------------------------------------------------
def download_movielens_large(
    version: str,
    root=None,
    mirror: str | Sequence[str] = MIRRORS,
    timeout: float = 15.0,
    *,
    retries: int = 3,
    backoff: float = 1.0,
    progress=True,
) -> Path:
    """Fetch ml-<version>.zip, check it, and unzip its ratings and movies files into root (default:
    default_root(version)); returns the folder.

    The archive is accepted when its SHA-256 is the published one (Version.sha256) or is listed for it in
    root's SHA256SUMS, or when its MD5 is the one GroupLens publishes (Version.md5; ML-10M has no SHA-256).
    The two files are streamed out of it (never whole in memory) under temporary names and renamed, their
    SHA-256 sums are added to root's SHA256SUMS (which load_movielens then checks), and the archive is
    deleted. Nothing is fetched when root already holds both files with the sums listed there."""
    spec = _version(version)
    folder = default_root(spec.name) if root is None else Path(root).expanduser()
    mirrors, stream = prepare(folder, mirror, progress)
    label = f"MovieLens {spec.name.upper()}"
    if _complete(spec, folder):
        if stream is not None:
            print(f"  {label}: already in {folder}, SHA-256 verified", file=stream, flush=True)
        return folder
    archive = folder / spec.archive
    check = sha256_or_md5_in(spec.archive, (spec.sha256, read_checksums(folder).get(spec.archive)), (spec.md5,))
    try:
        fetch(mirror_urls(mirrors, spec.archive), archive, check, retries=retries, backoff=backoff,
              timeout=timeout, progress=stream)  # fmt: skip
    except (ChecksumError, DownloadError) as error:
        advice = f"To use {label} offline, unzip a copy of {MIRRORS[0]}{spec.archive} into {folder} by other means."
        raise with_advice(error, advice) from None
    sums = _extract(spec, archive, folder)
    write_checksums(folder, sums)
    archive.unlink()
    if stream is not None:
        print(f"  {spec.archive}: unzipped {', '.join(sums)} into {folder}", file=stream, flush=True)
    return folder


def _complete(spec: Version, folder: Path) -> bool:
    """Whether folder holds the ratings and movies files with the sums its SHA256SUMS lists for them."""
    listed = read_checksums(folder)
    return all(
        name in listed and (folder / name).is_file() and file_sha256(folder / name) == listed[name]
        for name in (spec.ratings, spec.movies)
    )


def _extract(spec: Version, archive: Path, folder: Path) -> dict[str, str]:
    """Stream the ratings and movies files out of the archive; their SHA-256 sums by name."""
    sums = {}
    try:
        with zipfile.ZipFile(archive) as zipped:
            for name in (spec.ratings, spec.movies):
                member = f"{spec.top}/{name}"
                try:
                    info = zipped.getinfo(member)
                except KeyError:
                    raise ChecksumError(f"{archive}: holds no {member}; it is not MovieLens {spec.name}") from None
                temporary = folder / f".{name}.unzipping"
                digest = hashlib.sha256()
                with zipped.open(info) as source, open(temporary, "wb") as target:
                    while block := source.read(1 << 20):  # zipfile checks the CRC-32 at the end
                        digest.update(block)
                        target.write(block)
                os.replace(temporary, folder / name)
                sums[name] = digest.hexdigest()
    except zipfile.BadZipFile as error:
        raise ChecksumError(f"{archive}: not a readable zip file ({error})") from None
    return sums
