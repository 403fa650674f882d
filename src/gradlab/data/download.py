"""One downloader for the data sets: streamed to a `.part` file, resumed, retried, checked, then renamed.

    fetch(urls, target, check=...)     download target from the first URL that works; returns a Fetched

How a file arrives:

  * The response is streamed in chunks to `<target>.part`, never held whole in memory.
  * A `.part` left by a broken download (a cut connection, Ctrl-C, a previous run) is resumed with an
    HTTP Range request; a server that ignores Range sends the whole file again and the `.part` restarts.
  * A cut connection, a stalled one (the timeout) or a 5xx answer is retried from where it stopped,
    after 1, 2, 4 … s (backoff); a 404, a refused connection or an unknown host goes on to the next URL.
  * When the body is complete its SHA-256 is checked (check(path, digest) raises ChecksumError when
    the copy is wrong) and only then is `.part` renamed to target, so target is always a whole, checked
    file. A wrong copy is deleted and fetched once more from the start before giving up on that URL.
  * Progress goes to stderr: a bar with bytes/total, rate and time left when stderr is a terminal,
    otherwise a line every ~10 s (and one at the start and end of each file).

The checks (sha256_in, sha256_or_md5_in) are in checksums.py, the progress bar in download_progress.py;
both are re-exported here. urllib only: no dependency beyond the standard library.
"""

from __future__ import annotations

import http.client
import os
import re
import shlex
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .checksums import ChecksumError, file_md5, file_sha256, sha256_in, sha256_or_md5_in
from .download_progress import Progress, byte_size

__all__ = [
    "ChecksumError",
    "DownloadError",
    "Fetched",
    "Progress",
    "fetch",
    "file_md5",
    "file_sha256",
    "mirror_urls",
    "prepare",
    "sha256_in",
    "sha256_or_md5_in",
    "shell_command",
    "with_advice",
]

CHUNK = 1 << 16  # 64 KiB: small enough for a smooth bar, large enough to cost nothing per call
USER_AGENT = "gradlab (python urllib)"
RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}


class DownloadError(ConnectionError):
    """No URL gave the file: the network, the servers or the addresses failed."""


class _Transient(Exception):
    """A failure worth retrying at the same URL (cut, stalled, 5xx)."""


class _Fatal(Exception):
    """A failure that retrying the same URL will not fix (404, unknown host, refused)."""


@dataclass(frozen=True)
class Fetched:
    """What fetch did: the file, the URL it came from, bytes transferred this time, seconds taken,
    how many bytes were already there from an earlier broken download, and the attempts made."""

    path: Path
    url: str
    transferred: int
    seconds: float
    resumed_from: int
    attempts: int


def shell_command(dataset: str, folder, default: Path) -> str:
    """`gradlab data download DATASET`, with --to FOLDER unless folder is None or the default folder."""
    command = f"gradlab data download {dataset}"
    if folder is not None and Path(folder).expanduser().resolve() != Path(default).expanduser().resolve():
        command += f" --to {shlex.quote(str(folder))}"
    return command


def prepare(folder: Path, mirror: str | Sequence[str], progress) -> tuple[list[str], TextIO | None]:
    """What a data set's download function does with its arguments first: create folder, and read mirror (a
    base URL, or several tried in order) as a list, ValueError when it is empty, and progress (True for stderr,
    a text stream, or False/None for silence) as the stream to report to, or None."""
    folder.mkdir(parents=True, exist_ok=True)
    mirrors = [mirror] if isinstance(mirror, str) else list(mirror)
    if not mirrors:
        raise ValueError("mirror must be a base URL or a non-empty list of them")
    return mirrors, _stream(progress)


def mirror_urls(mirrors: Sequence[str], name: str) -> list[str]:
    """The URL of file `name` at each mirror (a base URL, with or without its closing slash)."""
    return [base.rstrip("/") + "/" + name for base in mirrors]


def with_advice(error: ChecksumError | DownloadError, advice: str) -> ChecksumError | DownloadError:
    """The same kind of error, its message followed by advice on a line of its own; when no server answered (a
    DownloadError) the advice ends with trying another one. Raise it `from None`."""
    if isinstance(error, DownloadError):
        advice += " Try another server with --mirror URL (from Python: mirror=)."
    return type(error)(f"{error}\n{advice}")


def _stream(progress) -> TextIO | None:
    return sys.stderr if progress is True else (progress or None)


# --- one attempt ---------------------------------------------------------------------------------
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.IGNORECASE)
_UNSATISFIABLE = re.compile(r"bytes\s+\*/(\d+)", re.IGNORECASE)


def _reason(error: BaseException) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    if isinstance(error, TimeoutError | socket.timeout):
        return "timed out (no data)"
    return str(error) or type(error).__name__


def _is_transient(error: BaseException) -> bool:
    """Worth retrying at the same address: the connection was cut or stalled, or the server said 'later'."""
    if isinstance(error, urllib.error.HTTPError):
        return error.code in RETRYABLE_STATUS
    if isinstance(error, urllib.error.URLError):
        error = error.reason if isinstance(error.reason, BaseException) else None
        # an unknown host, a refused connection or a bad certificate will not change in a second
        return isinstance(error, TimeoutError | socket.timeout | ConnectionResetError | ConnectionAbortedError)
    return isinstance(error, OSError | http.client.HTTPException)


def _lock(stream) -> None:
    """Refuse to write a .part that another process is writing (POSIX; elsewhere a no-op)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return
    try:
        fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise _Fatal(f"{stream.name} is being written by another download; wait for it to finish") from None


def _attempt(url: str, part: Path, timeout: float, progress: Progress) -> int:
    """One request: append to (or restart) part until the body ends. Returns the bytes transferred.
    Raises _Transient or _Fatal. The body's length is checked when the server announced it."""
    have = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:
            # Range not satisfiable: the .part is the whole file already, or longer than the file
            found = _UNSATISFIABLE.search(error.headers.get("Content-Range", "") if error.headers else "")
            if found and int(found.group(1)) == have:
                progress.note(f"{part.name} was already complete ({byte_size(have)})")
                return 0
            progress.note(f"the partial file ({byte_size(have)}) does not fit the file on the server: starting again")
            part.unlink(missing_ok=True)
            return _attempt(url, part, timeout, progress)
        raise (_Transient if _is_transient(error) else _Fatal)(_reason(error)) from None
    except (OSError, http.client.HTTPException, ValueError) as error:
        # ValueError: urllib refuses a malformed URL ("unknown url type")
        raise (_Transient if _is_transient(error) else _Fatal)(_reason(error)) from None

    with response:
        length = response.headers.get("Content-Length")
        length = int(length) if length and length.isdigit() else None
        if have and response.status == 206:
            found = _CONTENT_RANGE.search(response.headers.get("Content-Range", ""))
            if not found or int(found.group(1)) != have:
                part.unlink(missing_ok=True)
                raise _Transient(f"the server resumed at the wrong place ({found and found.group(0)}); starting again")
            total = int(found.group(3)) if found.group(3) != "*" else None
            restart = False
        else:
            if have:
                progress.note(f"the server does not resume downloads (no Range support): fetching {part.stem} whole")
            have, restart = 0, True
            total = length
        progress.begin(url, total, have)
        received = 0
        with open(part, "ab") as out:  # never "wb": that would empty the file before the lock is taken
            _lock(out)
            if restart:
                out.truncate(0)
            while True:
                try:
                    chunk = response.read(CHUNK)
                except (OSError, http.client.HTTPException) as error:
                    raise _Transient(f"connection cut after {byte_size(have + received)}: {_reason(error)}") from None
                if not chunk:
                    break
                out.write(chunk)  # a full disk is not a network failure: it propagates as it is
                received += len(chunk)
                progress.update(have + received)
        if length is not None and received < length:
            raise _Transient(f"connection closed after {byte_size(have + received)} of {byte_size(have + length)}")
    return received


# --- the downloader ------------------------------------------------------------------------------
def fetch(
    urls: str | Sequence[str],
    target,
    check: Callable[[Path, str], None],
    *,
    retries: int = 3,
    backoff: float = 1.0,
    timeout: float = 15.0,
    progress=True,
    interval: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Fetched:
    """Download target from the first of urls that gives a good copy; returns a Fetched.

    check(path, sha256_hex) raises ChecksumError when the finished .part is not the file wanted (see
    sha256_in). Each URL gets 1 + retries attempts on a cut or stalled connection, waiting backoff·2^k s
    between them, each resuming the .part. progress: True for stderr, a text stream, or False/None for
    silence; interval: seconds between progress lines when the stream is not a terminal.

    Raises ChecksumError when URLs answered but none gave a good copy, DownloadError when none answered.
    On a connection failure the .part is kept, so that running again resumes it.
    """
    urls = [urls] if isinstance(urls, str) else list(urls)
    if not urls:
        raise ValueError("no URL to download from")
    target = Path(target)
    part = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    stream = _stream(progress)
    bar = Progress(target.name, stream=stream, interval=interval)
    failures: list[str] = []
    bad_copy = False
    start = time.monotonic()
    attempts = 0
    resumed_from = part.stat().st_size if part.exists() else 0
    transferred = 0
    for url in urls:
        tries = mismatches = 0
        while True:
            tries += 1
            attempts += 1
            try:
                transferred += _attempt(url, part, timeout, bar)
            except _Fatal as error:
                failures.append(f"{url}: {error}")
                break
            except _Transient as error:
                if tries > retries:
                    failures.append(f"{url}: {error} (gave up after {tries} attempts)")
                    break
                delay = backoff * 2 ** (tries - 1)
                bar.note(f"{error}; retrying in {delay:g} s (attempt {tries + 1} of {retries + 1})")
                sleep(delay)
                continue
            digest = file_sha256(part)
            try:
                check(part, digest)
            except ChecksumError as error:
                part.unlink(missing_ok=True)
                bad_copy = True
                failures.append(f"{url}: {error}")
                mismatches += 1
                if mismatches > 1 or tries > retries:
                    break
                bar.note(f"{error}; deleted the bad copy, downloading it again from the start")
                continue
            os.replace(part, target)
            seconds = time.monotonic() - start
            size = target.stat().st_size
            bar.end(f"{byte_size(size)} in {seconds:.1f} s, SHA-256 verified")
            return Fetched(target, url, transferred, seconds, resumed_from, attempts)
    tried = "\n".join("  " + failure for failure in failures)
    if part.exists() and part.stat().st_size:
        kept = byte_size(part.stat().st_size)
        tried += f"\n  the {kept} fetched so far are kept in {part}: run the same command again to resume"
    if bad_copy:
        raise ChecksumError(f"could not get a good copy of {target.name}:\n{tried}")
    raise DownloadError(f"could not download {target.name} (is the network available?):\n{tried}")
