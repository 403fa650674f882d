"""`gradlab data download`: the shared downloader against a real HTTP server on 127.0.0.1.

The server runs in a thread and serves the real files from ../shared/data (next to the repository
folder): the four MNIST .gz files, and ml-100k.zip zipped on the fly from the ml-100k folder (the shared
copy holds the unzipped files, not the archive). Each test can script the server's next answers for a
file: cut the body half-way, flip a byte, answer 503 or 404, stall, or ignore Range. The tests are
skipped when ../shared/data is absent. Nothing here touches the network beyond 127.0.0.1.

The shared MNIST files are re-compressed copies (see tests/test_data.py), so they do not have the
published SHA-256 sums: a download of them is accepted only when the target folder's SHA256SUMS vouches
for them, as load_mnist accepts them. That makes the checksum check itself visible in these tests.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import re
import shutil
import threading
import time
import zipfile
from pathlib import Path

import pytest

from gradlab.cli import main
from gradlab.data import download as dl
from gradlab.data import mnist, movielens
from gradlab.data.download import ChecksumError, DownloadError, Progress, fetch, sha256_in
from reference_data import HINT, SHARED_DATA

SHARED = SHARED_DATA
MNIST = SHARED / "mnist"
ML100K = SHARED / "ml-100k"
MNIST_NAMES = tuple(mnist.SHA256)
TRAIN_IMAGES = "train-images-idx3-ubyte.gz"

pytestmark = pytest.mark.skipif(
    not (MNIST.is_dir() and ML100K.is_dir()), reason=f"the reference data is not present at {SHARED}: {HINT}"
)


def zip_folder(folder: Path, replace: dict[str, bytes] | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    """ml-100k.zip as GroupLens lays it out (every file under ml-100k/), built from a folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for path in sorted(folder.iterdir()):
            if path.name != "SHA256SUMS":
                archive.writestr(f"ml-100k/{path.name}", (replace or {}).get(path.name, path.read_bytes()))
        for name, data in (extra or {}).items():
            archive.writestr(f"ml-100k/{name}", data)
    return buffer.getvalue()


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves server.files; the next answer for a path is taken from server.script[path] (default "ok").

    ok        the file, honouring "Range: bytes=N-" (206), or 416 when N is past the end
    norange   the whole file with 200, whatever Range says
    truncate  announces the full length, sends the first server.cut bytes of the body, hangs up
    corrupt   the whole file with one byte flipped in the middle
    stall     sends server.cut bytes, then nothing for 2 s
    503, 404  that status and nothing else
    """

    def log_message(self, *args):  # keep pytest's output clean
        pass

    def do_GET(self):
        server = self.server
        data = server.files.get(self.path)
        queue = server.script.get(self.path, [])
        behaviour = queue.pop(0) if queue else "ok"
        asked = self.headers.get("Range")
        entry = {"path": self.path, "range": asked, "behaviour": behaviour, "status": None, "sent": 0}
        server.log.append(entry)
        if data is None or behaviour == "404":
            entry["status"] = 404
            self.send_error(404)
            return
        if behaviour == "503":
            entry["status"] = 503
            self.send_error(503, "Busy, try later")
            return
        if behaviour == "corrupt":
            data = bytearray(data)
            data[len(data) // 2] ^= 0xFF
            data = bytes(data)
        start = 0
        found = re.fullmatch(r"bytes=(\d+)-", asked or "")
        if found and behaviour != "norange":
            start = int(found.group(1))
            if start >= len(data):
                entry["status"] = 416
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            entry["status"] = 206
        else:
            self.send_response(200)
            entry["status"] = 200
        body = data[start:]
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if behaviour in ("truncate", "stall"):
            body = body[: server.cut]
        self.wfile.write(body)
        self.wfile.flush()
        entry["sent"] = len(body)
        if behaviour == "stall":
            time.sleep(2.0)
        self.close_connection = True


@pytest.fixture(scope="module")
def server():
    files = {f"/mnist/{name}": (MNIST / name).read_bytes() for name in MNIST_NAMES}
    files["/movielens/ml-100k.zip"] = zip_folder(ML100K)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.files, httpd.script, httpd.log, httpd.cut = files, {}, [], 0
    httpd.zip = files["/movielens/ml-100k.zip"]
    thread = threading.Thread(target=httpd.serve_forever, name="data-server", daemon=True)
    thread.start()
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def srv(server):
    """The server with a fresh log and script, and the cut point at 40% of the training images."""
    server.script.clear()
    server.log.clear()
    server.cut = int(0.4 * len(server.files[f"/mnist/{TRAIN_IMAGES}"]))
    server.files["/movielens/ml-100k.zip"] = server.zip
    return server


def vouched_folder(path: Path) -> Path:
    """An empty target folder whose SHA256SUMS vouches for the shared MNIST copies."""
    path.mkdir()
    shutil.copyfile(MNIST / "SHA256SUMS", path / "SHA256SUMS")
    return path


def requests_for(server, name: str) -> list[dict]:
    return [entry for entry in server.log if entry["path"].endswith("/" + name)]


def fast_mnist(folder, srv, **options):
    options = {"retries": 3, "backoff": 0.0, "progress": False, **options}
    return mnist.download_mnist(folder, mirror=f"{srv.base}/mnist/", **options)


# --- MNIST through the command line --------------------------------------------------------------
def test_cli_downloads_mnist_verifies_and_loads(srv, tmp_path, capsys):
    folder = vouched_folder(tmp_path / "mnist")
    start = time.perf_counter()
    code = main(["data", "download", "mnist", "--to", str(folder), "--mirror", f"{srv.base}/mnist/"])
    seconds = time.perf_counter() - start
    out, err = capsys.readouterr()
    assert code == 0, err
    for name in MNIST_NAMES:
        assert (folder / name).read_bytes() == (MNIST / name).read_bytes()
    assert not list(folder.glob("*.part"))
    # progress: not a terminal here, so a line per file at its start and its end
    assert f"downloading {srv.base}/mnist/{TRAIN_IMAGES} (9.5 MB)" in err
    assert err.count("SHA-256 verified") == 4
    assert "checksums verified" in out and f"gradlab train mnist --data {folder}" in out
    assert mnist.load_mnist(folder, split="test", limit=5)[1].tolist() == [7, 2, 1, 0, 4]
    print(f"\nMNIST (11.2 MB) from 127.0.0.1 through the CLI: {seconds:.2f} s")
    assert seconds < 20

    # a second run finds the files in place and asks the server nothing
    srv.log.clear()
    assert main(["data", "download", "mnist", "--to", str(folder), "--mirror", f"{srv.base}/mnist/"]) == 0
    assert srv.log == [] and capsys.readouterr().err.count("already in") == 4


def test_copies_without_a_vouching_sum_are_refused_and_nothing_is_left(srv, tmp_path, capsys):
    folder = tmp_path / "bare"  # no SHA256SUMS: only the published sums count, and these copies differ
    code = main(["data", "download", "mnist", "--to", str(folder), "--mirror", f"{srv.base}/mnist/", "-q"])
    err = capsys.readouterr().err
    assert code == 1
    assert "could not get a good copy of train-images-idx3-ubyte.gz" in err
    assert "SHA-256 checksum mismatch" in err and mnist.SHA256[TRAIN_IMAGES] in err
    assert not folder.exists()  # neither the file nor a .part, nor the folder the download made
    assert [entry["status"] for entry in requests_for(srv, TRAIN_IMAGES)] == [200, 200]  # fetched again once


def test_default_folder_is_the_one_load_mnist_reads(srv, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GRADLAB_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    cache = tmp_path / ".cache" / "gradlab" / "mnist"
    cache.mkdir(parents=True)
    shutil.copyfile(MNIST / "SHA256SUMS", cache / "SHA256SUMS")
    assert main(["data", "download", "mnist", "--mirror", f"{srv.base}/mnist/", "-q"]) == 0
    assert "`gradlab train mnist` finds it there" in capsys.readouterr().out
    assert mnist.load_mnist(split="test", limit=3)[1].tolist() == [7, 2, 1]  # no root: the cache


# --- broken downloads ----------------------------------------------------------------------------
def test_a_cut_connection_is_resumed_with_a_range_request(srv, tmp_path):
    folder = vouched_folder(tmp_path / "m")
    srv.script[f"/mnist/{TRAIN_IMAGES}"] = ["truncate"]
    fast_mnist(folder, srv)
    assert (folder / TRAIN_IMAGES).read_bytes() == (MNIST / TRAIN_IMAGES).read_bytes()
    first, second = requests_for(srv, TRAIN_IMAGES)
    assert first["range"] is None and first["sent"] == srv.cut
    assert second["range"] == f"bytes={srv.cut}-" and second["status"] == 206
    size = (MNIST / TRAIN_IMAGES).stat().st_size
    assert first["sent"] + second["sent"] == size  # nothing fetched twice


def test_a_server_that_ignores_range_gets_a_clean_restart(srv, tmp_path, capsys):
    folder = vouched_folder(tmp_path / "m")
    srv.script[f"/mnist/{TRAIN_IMAGES}"] = ["truncate", "norange"]
    fast_mnist(folder, srv, progress=True)
    assert (folder / TRAIN_IMAGES).read_bytes() == (MNIST / TRAIN_IMAGES).read_bytes()
    assert [(e["range"] is not None, e["status"]) for e in requests_for(srv, TRAIN_IMAGES)] == [
        (False, 200),
        (True, 200),
    ]
    err = capsys.readouterr().err
    assert "connection closed after 3.8 MB of 9.5 MB; retrying" in err and "does not resume" in err


def test_a_corrupted_response_is_discarded_and_fetched_again(srv, tmp_path, capsys):
    folder = vouched_folder(tmp_path / "m")
    srv.script[f"/mnist/{TRAIN_IMAGES}"] = ["corrupt"]
    fast_mnist(folder, srv, progress=True)
    assert (folder / TRAIN_IMAGES).read_bytes() == (MNIST / TRAIN_IMAGES).read_bytes()
    assert [e["range"] for e in requests_for(srv, TRAIN_IMAGES)] == [None, None]  # the second from the start
    assert "deleted the bad copy, downloading it again from the start" in capsys.readouterr().err


def test_a_server_that_always_corrupts_is_refused(srv, tmp_path):
    folder = vouched_folder(tmp_path / "m")
    srv.script[f"/mnist/{TRAIN_IMAGES}"] = ["corrupt"] * 10
    with pytest.raises(ValueError, match="could not get a good copy of train-images") as caught:
        fast_mnist(folder, srv)
    assert isinstance(caught.value, ChecksumError)
    assert not (folder / TRAIN_IMAGES).exists() and not (folder / f"{TRAIN_IMAGES}.part").exists()
    assert len(requests_for(srv, TRAIN_IMAGES)) == 2


def test_busy_and_stalled_servers_are_retried(srv, tmp_path):
    folder = vouched_folder(tmp_path / "m")
    srv.script[f"/mnist/{TRAIN_IMAGES}"] = ["503", "stall"]
    fast_mnist(folder, srv, timeout=0.5)
    assert (folder / TRAIN_IMAGES).read_bytes() == (MNIST / TRAIN_IMAGES).read_bytes()
    assert [e["status"] for e in requests_for(srv, TRAIN_IMAGES)] == [503, 200, 206]


def test_retries_wait_longer_each_time_then_give_up_keeping_the_part(srv, tmp_path):
    target = tmp_path / TRAIN_IMAGES
    srv.script[f"/mnist/{TRAIN_IMAGES}"] = ["503"] * 4
    waits = []
    with pytest.raises(DownloadError, match="HTTP 503") as caught:
        fetch(
            f"{srv.base}/mnist/{TRAIN_IMAGES}",
            target,
            sha256_in("x", []),
            retries=3,
            backoff=0.5,
            progress=False,
            sleep=waits.append,
        )
    assert waits == [0.5, 1.0, 2.0] and "gave up after 4 attempts" in str(caught.value)
    assert not target.exists()


def test_a_missing_file_moves_on_to_the_next_mirror(srv, tmp_path):
    folder = vouched_folder(tmp_path / "m")
    mnist.download_mnist(folder, mirror=[f"{srv.base}/nowhere/", f"{srv.base}/mnist/"], progress=False)
    assert [e["status"] for e in requests_for(srv, TRAIN_IMAGES)] == [404, 200]
    with pytest.raises(ConnectionError, match="HTTP 404") as caught:
        mnist.download_mnist(tmp_path / "n", mirror=f"{srv.base}/nowhere/", progress=False)
    assert "--mirror URL" in str(caught.value)


def test_a_part_left_by_a_broken_run_is_resumed_by_the_next_run(srv, tmp_path, capsys):
    """The first run loses its connection every time and gives up; the second picks up where it stopped."""
    folder = vouched_folder(tmp_path / "m")
    command = ["data", "download", "mnist", "--to", str(folder), "--mirror", f"{srv.base}/mnist/", "--retries", "0"]
    srv.script[f"/mnist/{TRAIN_IMAGES}"] = ["truncate"]
    assert main(command) == 1
    err = capsys.readouterr().err
    part = folder / f"{TRAIN_IMAGES}.part"
    assert part.stat().st_size == srv.cut and not (folder / TRAIN_IMAGES).exists()
    assert f"fetched so far are kept in {part}: run the same command again to resume" in err

    srv.log.clear()
    assert main(command) == 0
    err = capsys.readouterr().err
    assert f"resuming at {srv.cut / 1e6:.1f} MB" in err
    (request,) = requests_for(srv, TRAIN_IMAGES)
    assert (
        request["range"] == f"bytes={srv.cut}-" and request["sent"] == (MNIST / TRAIN_IMAGES).stat().st_size - srv.cut
    )
    assert (folder / TRAIN_IMAGES).read_bytes() == (MNIST / TRAIN_IMAGES).read_bytes() and not part.exists()


def test_a_complete_part_is_checked_and_kept(srv, tmp_path):
    """A run that died between the last byte and the rename: the server answers 416, nothing is fetched."""
    folder = vouched_folder(tmp_path / "m")
    shutil.copyfile(MNIST / TRAIN_IMAGES, folder / f"{TRAIN_IMAGES}.part")
    fast_mnist(folder, srv)
    assert [e["status"] for e in requests_for(srv, TRAIN_IMAGES)] == [416]
    assert (folder / TRAIN_IMAGES).read_bytes() == (MNIST / TRAIN_IMAGES).read_bytes()


def test_a_part_of_some_other_file_is_thrown_away(srv, tmp_path):
    folder = vouched_folder(tmp_path / "m")
    # longer than the file: 416, restart from zero
    (folder / "t10k-labels-idx1-ubyte.gz.part").write_bytes(bytes(50_000))
    # shorter, but of the wrong bytes: resumed, fails the checksum, fetched again whole
    (folder / "t10k-images-idx3-ubyte.gz.part").write_bytes(bytes(1000))
    fast_mnist(folder, srv)
    for name in MNIST_NAMES:
        assert (folder / name).read_bytes() == (MNIST / name).read_bytes()
    assert [e["status"] for e in requests_for(srv, "t10k-labels-idx1-ubyte.gz")] == [416, 200]
    assert [e["status"] for e in requests_for(srv, "t10k-images-idx3-ubyte.gz")] == [206, 200]


# --- MovieLens 100K ------------------------------------------------------------------------------
def test_cli_downloads_movielens_checks_each_file_and_unzips(srv, tmp_path, capsys):
    folder = tmp_path / "ml"
    code = main(["data", "download", "movielens-100k", "--to", str(folder), "--mirror", f"{srv.base}/movielens/"])
    out, err = capsys.readouterr()
    assert code == 0, err
    for name in movielens.SHA256:  # every file the shared copy has (all have known sums) ...
        assert (folder / name).read_bytes() == (ML100K / name).read_bytes()
    assert not (folder / "ml-100k.zip").exists() and not list(folder.glob("*.part")) and not list(folder.glob(".*"))
    assert "unzipped 17 files" in err and f"gradlab recommend train --data {folder}" in out
    train, test = movielens.load_split(folder, fold=1)
    assert (len(train), len(test)) == (80_000, 20_000)
    srv.log.clear()
    assert main(["data", "download", "movielens-100k", "--to", str(folder), "--mirror", f"{srv.base}/movielens/"]) == 0
    assert srv.log == [] and "already in" in capsys.readouterr().err


def test_movielens_default_folder_is_the_one_the_loaders_read(srv, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert movielens.default_root() == tmp_path / ".cache" / "gradlab" / "ml-100k"
    assert main(["data", "download", "movielens-100k", "--mirror", f"{srv.base}/movielens/", "-q"]) == 0
    assert "`gradlab recommend train` finds it there" in capsys.readouterr().out
    assert len(movielens.load_ratings()) == 100_000 and movielens.load_titles()[1] == "Toy Story (1995)"


def test_a_repacked_archive_with_an_edited_file_is_refused(srv, tmp_path):
    edited = (ML100K / "u.data").read_bytes().replace(b"\t3\t", b"\t5\t", 1)
    srv.files["/movielens/ml-100k.zip"] = zip_folder(ML100K, replace={"u.data": edited})
    folder = tmp_path / "ml"
    with pytest.raises(ValueError, match="the u.data inside it has SHA-256") as caught:
        movielens.download_movielens(folder, mirror=f"{srv.base}/movielens/", retries=0, backoff=0, progress=False)
    assert movielens.ARCHIVE_SHA256 in str(caught.value)
    assert list(folder.iterdir()) == []  # nothing unzipped, no archive, no .part


def test_a_repacked_archive_lacking_a_file_or_with_unknown_files(srv, tmp_path, capsys):
    lacking = zip_folder(ML100K)
    with zipfile.ZipFile(io.BytesIO(lacking)) as archive:
        kept = {
            info.filename: archive.read(info) for info in archive.infolist() if not info.filename.endswith("u5.test")
        }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in kept.items():
            archive.writestr(name, data)
    srv.files["/movielens/ml-100k.zip"] = buffer.getvalue()
    with pytest.raises(ValueError, match="lacks u5.test"):
        movielens.download_movielens(tmp_path / "a", mirror=f"{srv.base}/movielens/", retries=0, progress=False)

    # files with no known sum are left out of a re-packed archive, and so is anything outside ml-100k/
    srv.files["/movielens/ml-100k.zip"] = zip_folder(ML100K, extra={"ua.base": b"1\t1\t1\t1\n", "../../evil": b"x"})
    folder = tmp_path / "b"
    movielens.download_movielens(folder, mirror=f"{srv.base}/movielens/", progress=True)
    assert not (folder / "ua.base").exists() and not (tmp_path / "evil").exists()
    assert "left out (no known checksum): ml-100k/../../evil, ua.base" in capsys.readouterr().err


def test_the_published_archive_is_unzipped_whole(srv, tmp_path, monkeypatch):
    """An archive whose SHA-256 is the published one vouches for every file in it, known sum or not."""
    archive = zip_folder(ML100K, extra={"ua.base": b"1\t1\t1\t1\n", "allbut.pl": b"# a script\n"})
    srv.files["/movielens/ml-100k.zip"] = archive
    monkeypatch.setattr(movielens, "ARCHIVE_SHA256", hashlib.sha256(archive).hexdigest())
    folder = tmp_path / "ml"
    movielens.download_movielens(folder, mirror=f"{srv.base}/movielens/", progress=False)
    assert (folder / "ua.base").read_bytes() == b"1\t1\t1\t1\n" and (folder / "allbut.pl").exists()


def test_a_cut_archive_download_is_resumed(srv, tmp_path):
    srv.script["/movielens/ml-100k.zip"] = ["truncate"]
    srv.cut = 1_000_000
    folder = movielens.download_movielens(tmp_path / "ml", mirror=f"{srv.base}/movielens/", backoff=0, progress=False)
    assert [e["range"] for e in requests_for(srv, "ml-100k.zip")] == [None, "bytes=1000000-"]
    assert len(movielens.load_ratings(folder)) == 100_000


def test_cli_refuses_a_bad_mirror_and_an_unwritable_folder(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["data", "download", "mnist", "--mirror", "ftp://example.org/"])
    assert "must be an http://, https:// or file:// address" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["data", "download", "mnist", "--to", str(blocker / "sub"), "--mirror", "http://127.0.0.1:9/"]) == 2
    assert "cannot write MNIST into" in capsys.readouterr().err
    assert main(["data", "download", "mnist", "--to", str(blocker), "--mirror", "http://127.0.0.1:9/"]) == 2
    assert f"cannot write MNIST into {blocker}: it is a file, not a folder" in capsys.readouterr().err


def test_a_download_that_got_nothing_leaves_no_folder_it_made(tmp_path, capsys):
    """Found by an entry-point trial: offline, `data download movielens-1m` left an empty ml-1m folder, which
    `recommend train --data` then took for MovieLens 100K, advising the wrong download. A folder that was there
    before stays, with what was fetched into it."""
    options = ["--mirror", "http://127.0.0.1:9/", "--retries", "0", "--timeout", "2", "-q"]
    for dataset, name in (("movielens-1m", "ml-1m"), ("mnist", "mnist")):
        assert main(["data", "download", dataset, "--to", str(tmp_path / name), *options]) == 1
        assert not (tmp_path / name).exists()
    (tmp_path / "kept").mkdir()
    assert main(["data", "download", "mnist", "--to", str(tmp_path / "kept"), *options]) == 1
    assert (tmp_path / "kept").is_dir()
    capsys.readouterr()


def test_data_without_an_action_prints_help(capsys):
    assert main(["data"]) == 0
    assert "download" in capsys.readouterr().out


# --- progress ------------------------------------------------------------------------------------
class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_in_a_log_is_a_line_every_ten_seconds():
    clock, stream = FakeClock(), io.StringIO()
    progress = Progress("f.gz", stream=stream, clock=clock)
    progress.begin("http://x/f.gz", total=10_000_000)
    for second in range(1, 26):  # 25 s at 200 kB/s
        clock.now += 1
        progress.update(200_000 * second)
    progress.end("done")
    lines = stream.getvalue().splitlines()
    assert lines[0] == "downloading http://x/f.gz (10.0 MB)"
    assert lines[1:3] == [
        "  f.gz: 2.0 MB/10.0 MB (20%), 200.0 kB/s, 0:40 left",
        "  f.gz: 4.0 MB/10.0 MB (40%), 200.0 kB/s, 0:30 left",
    ]
    assert lines[3] == "  f.gz: done" and len(lines) == 4


def test_progress_on_a_terminal_is_a_bar_redrawn_in_place():
    clock, stream = FakeClock(), Terminal()
    progress = Progress("f.gz", stream=stream, clock=clock, width=10)
    progress.begin("http://x/f.gz", total=4_000_000, start_bytes=1_000_000)
    clock.now += 1
    progress.update(2_000_000)
    text = stream.getvalue()
    assert "\r" in text and "\n" not in text
    assert text.rsplit("\r", 1)[1].startswith("f.gz [#####.....]   50%  2.0 MB/4.0 MB  1.0 MB/s  0:02 left")
    progress.note("retrying")
    assert stream.getvalue().endswith("\n  retrying\n")


def test_shell_command_names_the_folder_only_when_it_is_not_the_default(tmp_path):
    assert dl.shell_command("mnist", None, tmp_path) == "gradlab data download mnist"
    assert dl.shell_command("mnist", tmp_path, tmp_path) == "gradlab data download mnist"
    odd = tmp_path / "with space"
    assert dl.shell_command("mnist", odd, tmp_path) == f"gradlab data download mnist --to '{odd}'"


def test_a_part_being_written_by_another_download_is_left_alone(srv, tmp_path):
    fcntl = pytest.importorskip("fcntl")
    target = tmp_path / TRAIN_IMAGES
    with open(tmp_path / f"{TRAIN_IMAGES}.part", "ab") as other:
        other.write(b"x" * 1000)
        other.flush()
        fcntl.flock(other.fileno(), fcntl.LOCK_EX)
        with pytest.raises(DownloadError, match="is being written by another download"):
            fetch(f"{srv.base}/mnist/{TRAIN_IMAGES}", target, sha256_in("x", []), progress=False)
    assert (tmp_path / f"{TRAIN_IMAGES}.part").read_bytes() == b"x" * 1000 and not target.exists()
