"""SHA-256 checksum lists, as `sha256sum` writes them: '<64 hex digits>  <file name>' per line."""

from __future__ import annotations

from pathlib import Path

__all__ = ["CHECKSUMS_FILE", "read_checksums", "write_checksums"]

CHECKSUMS_FILE = "SHA256SUMS"


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
