"""Model files (.npz) read safely and written atomically: one reader and writer for nn.Module and the recommender.

An .npz file is a zip archive of .npy arrays. np.load trusts it: it decompresses a member before anything
checks its size (a 2 MB file whose member declares 2 GiB of zeros takes seconds and 2 GB of memory before
the caller sees a wrong shape), and a damaged file raises whichever of BadZipFile, EOFError, zlib.error
or ValueError the damage happens to cause. read_npz instead

    1. opens the zip and reads only the header of every member (read_magic, read_array_header_1_0/2_0:
       the dtype and shape, from the member's first bytes),
    2. checks every header before any data is decompressed: the dtype is numbers (or text where the
       caller allows it; object arrays, which need pickle, never), the sizes add up to no more than a
       limit, the caller's own check passes (for a network: each key, shape and dtype against the model),
       and the member holds exactly the bytes its header declares,
    3. only then reads the arrays, into buffers of the declared size.

Anything wrong raises ModelFileError (a ValueError), whose message starts with the file's name and says
what is wrong and what to do; a file that does not exist raises FileNotFoundError.

write_npz writes to a temporary file in the same folder and renames it over the target (os.replace), so
an interrupted save leaves the previous file whole.
"""

from __future__ import annotations

import math
import os
import zipfile
import zlib
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numpy.lib import format as npy

__all__ = ["MAX_BYTES", "Header", "ModelFileError", "StateKeysError", "read_npz", "write_npz"]

MAX_BYTES = 1 << 30  # 1 GiB of declared array data per file, for readers that do not know the shapes to expect
_CHUNK = 1 << 20  # arrays are read in pieces of this many bytes, so no second copy of the data is ever made


class ModelFileError(ValueError):
    """A model file that cannot be used; the message names the file, what is wrong and what to do."""


class StateKeysError(ModelFileError, KeyError):
    """Saved keys that do not match the model's. Also a KeyError, as load_state_dict raised before."""

    __str__ = Exception.__str__  # KeyError's own would print the message in quotes


class Header(NamedTuple):
    """What a member's .npy header declares, read before its data."""

    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


_KIND_NAMES = {"c": "complex numbers", "U": "text", "S": "bytes", "O": "pickled Python objects", "V": "records"}


def read_npz(
    path,
    check: Callable[[dict[str, Header]], None] | None = None,
    *,
    text: Collection[str] = (),
    limit: int | None = MAX_BYTES,
    remedy: str = "save it again",
) -> dict[str, np.ndarray]:
    """The arrays of the .npz file at path, by name, every header checked before any data is read.

    Members hold bool, integer or float arrays; those named in `text` may also hold text. check(headers)
    sees {name: Header} for the whole file before any data is decompressed, and raises ModelFileError
    (or a subclass) saying what does not fit: the reader puts the file's name in front. limit caps the
    declared bytes of all members together (None: no cap, for callers whose check bounds every shape).
    remedy ends the reader's own messages (a damaged file, a refused dtype, too much data).
    Raises ModelFileError, or FileNotFoundError when there is no file.
    """
    path = Path(path)

    def fail(problem: str) -> ModelFileError:
        return ModelFileError(f"{path}: {problem}; {remedy}")

    try:
        with zipfile.ZipFile(path) as archive:
            members = {name: _member(archive, name, info, fail) for name, info in _names(archive, fail).items()}
            headers = {name: member.header for name, member in members.items()}
            for name, header in headers.items():
                _check_dtype(name, header.dtype, "biufU" if name in text else "biuf", fail)
            total = sum(header.nbytes for header in headers.values())
            if limit is not None and total > limit:
                raise fail(
                    f"its arrays declare {_size(total)} of data, more than the {_size(limit)} a model file may hold "
                    "(a small file that unpacks to this much is a decompression bomb, or the file is damaged)"
                )
            if check is not None:
                try:
                    check(headers)
                except ModelFileError as error:
                    raise type(error)(f"{path}: {error}") from None
            return {name: _read(archive, name, member, fail) for name, member in members.items()}
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise fail("is a folder, not a model file") from None
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, ValueError) as error:
        raise fail(f"not a readable .npz file: {_damage(path, error)}") from None
    except (OSError, RuntimeError, NotImplementedError) as error:  # permissions; encrypted or exotic zip members
        raise fail(f"cannot be read ({error})") from None


class _Member(NamedTuple):
    info: zipfile.ZipInfo
    header: Header
    fortran_order: bool
    offset: int  # where the data starts, after magic string and header


def _names(archive: zipfile.ZipFile, fail) -> dict[str, zipfile.ZipInfo]:
    names = {}
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            raise fail(f"holds {info.filename!r}, which is not a NumPy array (.npy): this is not a NumPy .npz file")
        name = info.filename.removesuffix(".npy")
        if name in names:
            raise fail(f"holds two arrays named {name!r}: it has been tampered with")
        names[name] = info
    return names


def _member(archive: zipfile.ZipFile, name: str, info: zipfile.ZipInfo, fail) -> _Member:
    """Decompress only the member's first bytes: the magic string, the format version and the header."""
    with archive.open(info) as stream:
        try:
            version = npy.read_magic(stream)
            if version == (1, 0):
                shape, fortran_order, dtype = npy.read_array_header_1_0(stream)
            elif version == (2, 0):
                shape, fortran_order, dtype = npy.read_array_header_2_0(stream)
            else:
                raise ValueError(f"format version {version[0]}.{version[1]}; this reader knows 1.0 and 2.0")
        except (ValueError, SyntaxError, TypeError) as error:
            raise fail(f"the array {name!r} has a damaged or unknown .npy header ({error})") from None
        offset = stream.tell()
    if any(n < 0 for n in shape):
        raise fail(f"the array {name!r} declares an impossible shape {shape}")
    return _Member(info, Header(tuple(shape), dtype), fortran_order, offset)


def _check_dtype(name: str, dtype: np.dtype, kinds: str, fail):
    if dtype.kind not in kinds or dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        what = _KIND_NAMES.get(dtype.kind, f"dtype {dtype}")
        wanted = "real numbers or text" if "U" in kinds else "real numbers (bool, integer or float)"
        raise fail(f"the array {name!r} holds {what} (dtype {dtype.str}), where a model file holds {wanted}")


def _read(archive: zipfile.ZipFile, name: str, member: _Member, fail) -> np.ndarray:
    """The member's data, read into an array of the declared size in chunks; the zip's CRC is checked at the end."""
    header, expected = member.header, member.offset + member.header.nbytes
    if member.info.file_size != expected:
        shorter = member.info.file_size < expected
        raise fail(
            f"the array {name!r} declares {_size(header.nbytes)} of data but holds "
            f"{'less' if shorter else 'more'} ({member.info.file_size - member.offset:,} bytes): it is damaged"
        )
    flat = np.empty(math.prod(header.shape), dtype=header.dtype)
    buffer = memoryview(flat.view(np.uint8))
    with archive.open(member.info) as stream:
        stream.read(member.offset)
        done = 0
        while done < len(buffer):
            got = stream.readinto(buffer[done : done + _CHUNK])
            if not got:
                raise fail(f"the array {name!r} ends after {done:,} of its {len(buffer):,} bytes: it is damaged")
            done += got
        if stream.read(1):  # reading to the end also makes zipfile compare the CRC
            raise fail(f"the array {name!r} has bytes beyond those its header declares: it is damaged")
    array = flat.reshape(header.shape[::-1]).T if member.fortran_order else flat.reshape(header.shape)
    return array if array.dtype.isnative else array.astype(array.dtype.newbyteorder("="))


def _damage(path: Path, error: Exception) -> str:
    """Why a file is not a readable zip, in words: empty, cut short, or something else altogether."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as stream:
            start = stream.read(64)
    except OSError:
        return str(error)
    if size == 0:
        return "it is empty (0 bytes), as a save that was interrupted leaves it"
    if start.startswith(b"PK"):
        return f"it is cut short or damaged, as an interrupted copy or download leaves it ({error})"
    if start.startswith(b"\x93NUMPY"):
        return "it is a single .npy array, not an .npz archive of named arrays"
    try:
        text = start.decode("utf-8")
    except UnicodeDecodeError:
        return f"it is not a zip archive ({error})"
    return f"it is text, not a zip archive (it starts {text[:30]!r})"


def _size(nbytes: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= scale:
            return f"{nbytes / scale:,.1f} {unit}"
    return f"{nbytes} bytes"


def write_npz(path, arrays: Mapping[str, np.ndarray], compress: bool = False) -> Path:
    """Write arrays to the .npz file at path (no pickle) atomically; returns the path.

    The file is written under a temporary name in the same folder, flushed to disk and renamed over
    path (os.replace, atomic on POSIX and Windows), so a crash or a full disk mid-save leaves the
    previous file as it was. Nothing is appended to the name: path is used as given.
    """
    path = Path(path)
    arrays = {name: np.asarray(array) for name, array in arrays.items()}
    for name, array in arrays.items():
        if array.dtype.hasobject:  # np.savez would pickle it (its allow_pickle is NumPy 2.1+ only)
            raise ValueError(f"{name!r} is an array of Python objects, which a model file cannot hold without pickle")
    partial = path.with_name(f"{path.name}.{os.getpid()}-{os.urandom(4).hex()}.part")
    save = np.savez_compressed if compress else np.savez
    try:
        with open(partial, "xb") as stream:  # "x": never another writer's file; permissions as for any new file
            save(stream, **arrays)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path
