"""Checksums: is this file the one that was asked for?

file_sha256(path), file_md5(path)        a file's digest, read in 1 MiB blocks
sha256_in(name, sums)                    a check for download.fetch: the SHA-256 must be one of sums
sha256_or_md5_in(name, sha256s, md5s)    ... or else the MD5 one of md5s (GroupLens publishes only MD5s)
read_checksums(folder), write_checksums  SHA-256 lists as `sha256sum` writes them: '<64 hex>  <name>' a line
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = [
    "CHECKSUMS_FILE",
    "ChecksumError",
    "file_md5",
    "file_sha256",
    "read_checksums",
    "sha256_in",
    "sha256_or_md5_in",
    "write_checksums",
]

CHECKSUMS_FILE = "SHA256SUMS"


class ChecksumError(ValueError):
    """A downloaded (or present) file is not the one that was asked for: its checksum is wrong."""


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in blocks (never whole in memory)."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def file_md5(path: Path) -> str:
    """MD5 of a file, read in blocks: only to compare with a publisher's .md5 file (GroupLens serves no
    SHA-256), never as the only check where a SHA-256 is known."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, lambda: hashlib.md5(usedforsecurity=False)).hexdigest()


def sha256_or_md5_in(
    name: str, sha256s: Iterable[str | None], md5s: Iterable[str | None]
) -> Callable[[Path, str], None]:
    """A check for fetch: the SHA-256 must be one of sha256s, or else the file's MD5 one of md5s (None
    entries are ignored). The MD5 is computed only when no SHA-256 matches."""
    sums, md5_sums = [v for v in sha256s if v], [v for v in md5s if v]

    def check(path: Path, digest: str) -> None:
        if digest in sums:
            return
        md5 = file_md5(path) if md5_sums else None
        if md5 in md5_sums:
            return
        wanted = " or ".join([f"SHA-256 {v}" for v in sums] + [f"MD5 {v}" for v in md5_sums]) or "a known sum"
        found = f"SHA-256 {digest}" + (f", MD5 {md5}" if md5 else "")
        raise ChecksumError(f"{name}: checksum mismatch: got {found}, expected {wanted}")

    return check


def sha256_in(name: str, allowed: Iterable[str | None]) -> Callable[[Path, str], None]:
    """A check for fetch: the digest must be one of `allowed` (None entries are ignored)."""
    sums = [value for value in allowed if value]

    def check(path: Path, digest: str) -> None:
        if digest not in sums:
            raise ChecksumError(
                f"{name}: SHA-256 checksum mismatch: got {digest}, expected {' or '.join(sums) or 'a known sum'}"
            )

    return check


def read_checksums(folder: Path) -> dict[str, str]:
    """The sums listed in folder/SHA256SUMS, by file name; {} when there is no such file."""
    path = Path(folder) / CHECKSUMS_FILE
    if not path.is_file():
        return {}
    sums = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        digest = parts[0].lower()
        if len(parts) != 2 or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(
                f"{path}, line {number}: expected '<64 hex digits>  <file name>' as sha256sum writes it, "
                f"got {line!r}; fix or delete that file"
            )
        # sha256sum marks binary mode with '*' before the name
        sums[Path(parts[1].removeprefix("*")).name] = digest
    return sums


def write_checksums(folder: Path, sums: dict[str, str]) -> Path:
    """Add (or replace) sums {file name: SHA-256} in folder/SHA256SUMS, keeping the other lines' sums;
    written under a temporary name and renamed, so a reader never sees half a file."""
    path = Path(folder) / CHECKSUMS_FILE
    merged = {**read_checksums(folder), **sums}
    temporary = path.with_name(f".{CHECKSUMS_FILE}.writing")
    temporary.write_text("".join(f"{digest}  {name}\n" for name, digest in sorted(merged.items())), encoding="utf-8")
    temporary.replace(path)
    return path
