"""MNIST: 70,000 handwritten digits of 28×28 grey levels, read from the original IDX files.

The four files, gzipped, as LeCun, Cortes and Burges published them:

    train-images-idx3-ubyte.gz   60,000 images      train-labels-idx1-ubyte.gz   60,000 labels
    t10k-images-idx3-ubyte.gz    10,000 images      t10k-labels-idx1-ubyte.gz    10,000 labels

The IDX format (inside the gzip), every integer big-endian:

    bytes 0–3   magic number: 0x00000803 for images (0x08 = unsigned bytes, 3 dimensions),
                              0x00000801 for labels (unsigned bytes, 1 dimension)
    then        one uint32 per dimension: N, 28, 28 for images; N for labels
    then        the data, N·28·28 (or N) unsigned bytes in row-major order;
                pixels run from 0 (background) to 255 (ink), labels from 0 to 9

    load_mnist(root, split="train")   (images, labels): float32 (N, 1, 28, 28) in [0, 1], int64 (N,)
    download_mnist(root)              fetch the four files into the cache folder and check them
                                      (the command line: `gradlab data download mnist [--to DIR]`)

Every file is checked against its SHA-256 sum before it is read. SHA256 holds the sums of the files as
published; a SHA256SUMS file in the same folder (lines "<sum>  <file name>", as `sha256sum` writes them)
may vouch for other copies, such as a re-compressed one. Whatever the checksum says, the header's counts
must fit the file before anything is allocated, and the gzip stream is read to its end (its CRC-32 and
length checked) even when limit= asks for only the first few examples.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import operator
import os
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .checksums import CHECKSUMS_FILE, ChecksumError, file_sha256, read_checksums, sha256_in
from .download import DownloadError, fetch, mirror_urls, prepare, shell_command, with_advice

__all__ = ["FILES", "MIRRORS", "SHA256", "default_root", "download_mnist", "load_mnist"]

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801

FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

# The sums of the files as published (the same bytes on yann.lecun.com and both mirrors below; TensorFlow
# Datasets and torchvision check the same values).
SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

# yann.lecun.com itself often refuses scripted downloads, so the default is the mirrors that
# TensorFlow and PyTorch use, tried in this order.
MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
DOWNLOAD_BYTES = 11_594_722  # the four published .gz files together

# Deflate cannot expand data by more than 1032:1 (a 258-byte match per 2 bits), so a gzip file of S bytes
# holds at most 1032·S bytes: a header declaring more is corrupt, whatever is (or is not) behind it.
MAX_GZIP_RATIO = 1032
READ_BLOCK = 1 << 24  # the data is read in blocks of 16 MiB, so memory grows only with bytes really there


def default_root() -> Path:
    """The folder load_mnist and download_mnist use when no root is given: $GRADLAB_DATA if set,
    else ~/.cache/gradlab/mnist."""
    env = os.environ.get("GRADLAB_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "gradlab" / "mnist"


def _folder(root) -> Path:
    return default_root() if root is None else Path(root).expanduser()


def download_command(folder: Path | None = None) -> str:
    """The command that fetches the four files into folder (no --to when it is the default folder)."""
    return shell_command("mnist", folder, default_root())


def load_mnist(
    root=None,
    split: str = "train",
    normalize: bool = True,
    flatten: bool = False,
    limit: int | None = None,
    verify: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """The MNIST training set (split="train", 60,000 examples) or test set (split="test", 10,000).

    Returns (images, labels): images of shape (N, 1, 28, 28), or (N, 784) with flatten=True, as
    float32 pixel/255 in [0, 1] (normalize=True) or the raw uint8 levels 0–255 (normalize=False);
    labels int64 in 0–9. limit=k returns only the first k examples (all of them if k ≥ N).

    root is the folder holding the four .gz files (default: default_root()). With verify=True (the
    default) each file's SHA-256 must match SHA256 or the folder's SHA256SUMS. Raises
    FileNotFoundError when a file is missing and ValueError when one is corrupt.
    """
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if limit is not None:
        if isinstance(limit, bool):
            raise TypeError(f"limit must be a whole number or None, got {limit!r}")
        limit = operator.index(limit)
        if limit < 0:
            raise ValueError(f"limit must be >= 0 (the number of examples to read), got {limit}")
    folder = _folder(root)
    paths = [folder / name for name in FILES[split]]
    missing = [path for path in paths if not path.is_file()]
    if missing:
        raise FileNotFoundError(_missing_message(folder, missing, root is None))

    images, n_images = _read_idx(paths[0], IMAGES_MAGIC, limit, verify)
    labels, n_labels = _read_idx(paths[1], LABELS_MAGIC, limit, verify)
    if n_images != n_labels:
        raise ValueError(
            f"{paths[0].name} holds {n_images} images but {paths[1].name} holds {n_labels} labels; "
            f"the two files in {folder} come from different versions of MNIST: download them again together"
        )
    if labels.size and labels.max() > 9:
        bad = int(np.argmax(labels > 9))
        raise ValueError(f"{paths[1]}: label {labels[bad]} at position {bad} is not a digit 0–9; the file is corrupt")

    if normalize:
        # uint8 to float32 and the division in one pass, with no intermediate copy: 4× faster on the training set
        images = np.divide(images, np.float32(255), dtype=np.float32)
    else:
        images = images.copy()  # np.frombuffer gives a read-only view of the decompressed bytes
    n, rows, cols = images.shape
    images = images.reshape(n, rows * cols) if flatten else images.reshape(n, 1, rows, cols)
    return images, labels.astype(np.int64)


def _missing_message(folder: Path, missing: list[Path], is_default: bool) -> str:
    names = ", ".join(path.name for path in missing)
    notes = [] if folder.is_dir() else ["this folder does not exist"]
    if is_default and os.environ.get("GRADLAB_DATA"):
        notes.append("from $GRADLAB_DATA: use --data DIR (Python: root=) to look elsewhere")
    elif is_default:
        notes.append("the default folder: set $GRADLAB_DATA or use --data DIR (Python: root=) to look elsewhere")
    where = f"{folder} ({'; '.join(notes)})" if notes else f"{folder}"
    lines = [
        f"MNIST file(s) not found: {names}",
        f"  looked in: {where}",
        f"  to fix: run `{download_command(None if is_default else folder)}` to fetch the four files "
        f"({DOWNLOAD_BYTES / 1e6:.1f} MB) into that folder",
        f"          (from Python: gradlab.data.download_mnist({'' if is_default else repr(str(folder))})),",
        f"          or download them from {MIRRORS[0]} (e.g. {MIRRORS[0]}{missing[0].name})",
        "          and put them there as they are, still gzipped.",
    ]
    unzipped = [path.with_suffix("") for path in missing if path.with_suffix("").is_file()]
    if unzipped:
        lines.append(
            f"  note: found {', '.join(p.name for p in unzipped)} without .gz; gradlab reads the gzipped files "
            "as published (gzip them again, or download the .gz files)"
        )
    return "\n".join(lines)


def _read_idx(path: Path, magic: int, limit: int | None, verify: bool):
    """The first `limit` items (all if None) of one gzipped IDX file of unsigned bytes, as a read-only
    uint8 array of shape (n, *item_shape), and the number of items its header declares.

    The declared size must fit the file before anything is allocated, and the gzip stream is always
    read to its end, so that its CRC-32 and length are checked even when only a few items are kept."""
    if verify:
        raw = path.read_bytes()
        _check_sum(path, raw)
        size = len(raw)
        stream = gzip.GzipFile(fileobj=io.BytesIO(raw))
    else:
        size = path.stat().st_size
        stream = gzip.open(path, "rb")
    try:
        with stream:
            header = stream.read(4)
            if len(header) < 4:
                raise ValueError(f"{path}: truncated: the file ends inside the 4-byte magic number")
            found = int.from_bytes(header, "big")
            if found != magic:
                raise ValueError(_magic_message(path, found, magic))
            ndim = magic & 0xFF
            dims = stream.read(4 * ndim)
            if len(dims) < 4 * ndim:
                raise ValueError(f"{path}: truncated: the file ends inside the header's {ndim} dimension sizes")
            shape = tuple(int.from_bytes(dims[4 * k : 4 * k + 4], "big") for k in range(ndim))
            n, item_shape = shape[0], shape[1:]
            item_size = 1
            for d in item_shape:
                item_size *= d
            declared = n * item_size  # Python ints: no overflow, however large the header's numbers
            if 4 + 4 * ndim + declared > MAX_GZIP_RATIO * size:
                raise ValueError(
                    f"{path}: the header declares {n:,} items of {' × '.join(map(str, item_shape))} bytes "
                    f"({declared:,} bytes), more than a gzip file of {size:,} bytes can hold "
                    f"(at most {MAX_GZIP_RATIO * size:,} bytes decompressed): the header is corrupt; "
                    f"download the file again (`{download_command(path.parent)}`)"
                )
            count = n if limit is None else min(limit, n)
            data = _read_up_to(stream, count * item_size)
            if len(data) < count * item_size:
                raise ValueError(
                    f"{path}: truncated: the header declares {n} items of {item_size} bytes, "
                    f"but the data ends after {len(data) // item_size} of them"
                )
            # the rest is decompressed and dropped: reaching the end of the stream is what makes gzip
            # check its CRC-32 and length, so a damaged tail is found even with limit=5
            rest = _skip_to_end(stream)
            if rest < (n - count) * item_size:
                raise ValueError(
                    f"{path}: truncated: the header declares {n} items of {item_size} bytes, "
                    f"but the data ends after {count + rest // item_size} of them"
                )
            if rest > (n - count) * item_size:
                raise ValueError(f"{path}: has bytes after the {n} items its header declares; the file is corrupt")
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise ValueError(
            f"{path}: not a complete gzip file ({error}); it is truncated or corrupt: "
            f"download it again (`{download_command(path.parent)}` replaces it)"
        ) from None
    return np.frombuffer(data, dtype=np.uint8).reshape(count, *item_shape), n


def _read_up_to(stream, size: int) -> bytes:
    """Up to size bytes, fewer if the stream ends first; read block by block, so that a header that
    lies about the size costs no more memory than the data actually present."""
    blocks, got = [], 0
    while got < size:
        block = stream.read(min(size - got, READ_BLOCK))
        if not block:
            break
        blocks.append(block)
        got += len(block)
    return b"".join(blocks)


def _skip_to_end(stream) -> int:
    """Decompress what is left without keeping it; the number of bytes it held."""
    skipped = 0
    while block := stream.read(1 << 20):
        skipped += len(block)
    return skipped


def _magic_message(path: Path, found: int, expected: int) -> str:
    kind = "images" if expected == IMAGES_MAGIC else "labels"
    message = (
        f"{path}: bad magic number 0x{found:08X}, expected 0x{expected:08X} (MNIST {kind} in IDX format); "
        "this is not an MNIST file, or it is corrupt"
    )
    other = LABELS_MAGIC if expected == IMAGES_MAGIC else IMAGES_MAGIC
    if found == other:
        message += f" (its magic number is that of {'labels' if kind == 'images' else 'images'}: are files swapped?)"
    return message


def _check_sum(path: Path, raw: bytes) -> None:
    digest = hashlib.sha256(raw).hexdigest()
    official = SHA256.get(path.name)
    if digest == official:
        return
    # read only when needed, so that a stray SHA256SUMS never stands in the way of the published files
    listed = read_checksums(path.parent).get(path.name)
    if digest == listed:
        return
    expected = " or ".join(
        f"{value} ({source})"
        for value, source in ((official, "the published file"), (listed, f"{CHECKSUMS_FILE} in that folder"))
        if value
    )
    raise ValueError(
        f"{path}: SHA-256 checksum mismatch: the file's sum is {digest}, expected {expected or 'a listed sum'}. "
        f"The file is incomplete, corrupt or not the original: run `{download_command(path.parent)}` (it replaces "
        f"a file whose sum is wrong), or, for a copy you trust that is not the published file, list its sum in "
        f"{CHECKSUMS_FILE} beside it (`sha256sum *.gz > {CHECKSUMS_FILE}` in that folder; from Python, verify=False "
        "reads it unchecked)"
    )


def download_mnist(
    root=None,
    mirror: str | Sequence[str] = MIRRORS,
    timeout: float = 15.0,
    *,
    retries: int = 3,
    backoff: float = 1.0,
    progress=True,
) -> Path:
    """Fetch the four MNIST files into root (default: default_root()) and check their SHA-256 sums.

    mirror is a base URL, or several tried in order, to which the file names are appended. Files
    already present with a good sum (the published one, or one listed in the folder's SHA256SUMS) are
    kept. Each file is streamed to a .part file (resumed if an earlier download broke off), retried on
    a cut connection (1 + retries attempts, backoff·2^k s apart) and renamed only once its sum is right,
    so the folder never holds a half file under the real name. progress: True for stderr, a stream,
    or False for silence. Returns the folder. Raises ConnectionError when no mirror can be reached
    (no network), and ValueError when the mirrors serve a file whose sum is wrong.
    """
    folder = _folder(root)
    mirrors, stream = prepare(folder, mirror, progress)
    known_sums = read_checksums(folder)
    for name in SHA256:
        target = folder / name
        allowed = (SHA256[name], known_sums.get(name))
        if target.is_file() and file_sha256(target) in allowed:
            if stream is not None:
                print(f"  {name}: already in {folder}, SHA-256 verified", file=stream, flush=True)
            continue
        try:
            fetch(
                mirror_urls(mirrors, name),
                target,
                sha256_in(name, allowed),
                retries=retries,
                backoff=backoff,
                timeout=timeout,
                progress=stream,
            )
        except (ChecksumError, DownloadError) as error:
            advice = (
                f"To use MNIST offline, copy the four .gz files into {folder} by other means "
                f"(sources: {', '.join(mirrors)}); if they are not the published files (a re-compressed copy), "
                f"list their sums there with `sha256sum *.gz > {CHECKSUMS_FILE}`."
            )
            raise with_advice(error, advice) from None
    return folder
