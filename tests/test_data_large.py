"""Data at scale: the synthetic rating generator (gradlab.data.synthetic) and the MovieLens 1M/10M/20M/25M
loaders and downloads (gradlab.data.movielens_large), on small files built here in the exact formats.

The 20 M-rating measurements (time, peak memory) are in the report of issue 17 and are reproduced by
benchmarks, not here: these tests run in seconds."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import http.server
import io
import threading
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gradlab.cli import main
from gradlab.data import movielens_large, synthetic
from gradlab.data.checksums import CHECKSUMS_FILE, ChecksumError, read_checksums, write_checksums
from gradlab.data.movielens import Ratings
from gradlab.data.synthetic import load_truth, make_ratings, open_ratings, write_ratings
from test_download import Handler


# --- the synthetic generator ---------------------------------------------------------------------
@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 4,096 ratings, so that a few tens of thousands of ratings cross many block boundaries."""
    monkeypatch.setattr(synthetic, "BLOCK", 4096)


def columns(ratings):
    return np.asarray(ratings.user), np.asarray(ratings.item), np.asarray(ratings.rating)


def test_streamed_to_disk_equals_in_memory_and_the_seed_fixes_everything(small_blocks, tmp_path):
    made = make_ratings(30_000, 700, 300, rank=4, seed=3)
    folder = write_ratings(tmp_path / "synth", 30_000, 700, 300, rank=4, seed=3)
    opened = open_ratings(folder)
    assert isinstance(opened, Ratings) and isinstance(opened.rating, np.memmap)
    for a, b in zip(columns(made), columns(opened)):
        np.testing.assert_array_equal(a, b)
    again = make_ratings(30_000, 700, 300, rank=4, seed=3)
    other = make_ratings(30_000, 700, 300, rank=4, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(columns(made), columns(again)))
    assert not np.array_equal(made.item, other.item)


def test_ratings_are_distinct_pairs_on_the_half_star_scale_grouped_by_user(small_blocks):
    ratings = make_ratings(40_000, 500, 400, seed=1)
    user, item, rating = columns(ratings)
    assert (user.dtype, item.dtype, rating.dtype) == (np.int32, np.int32, np.float32)
    assert len(ratings) == 40_000 and (ratings.n_users, ratings.n_items) == (500, 400)
    assert user.min() >= 0 and user.max() < 500 and item.min() >= 0 and item.max() < 400
    assert np.all(np.diff(user) >= 0)
    assert len(np.unique(user.astype(np.int64) * 400 + item)) == 40_000  # no (user, item) twice
    assert set(np.unique(rating)) <= set(np.arange(1, 11) / 2)
    assert len(np.unique(rating)) == 10  # the whole scale is used, not a sliver of it


def test_every_pair_once_when_the_matrix_is_full():
    ratings = make_ratings(20 * 30, 20, 30, seed=0)  # the degree cap and the heavy-user draw are both needed
    pairs = np.sort(ratings.user.astype(np.int64) * 30 + ratings.item)
    np.testing.assert_array_equal(pairs, np.arange(600))


def test_continuous_ratings_are_the_low_rank_model_plus_noise_of_the_given_size(tmp_path):
    folder = write_ratings(tmp_path / "s", 60_000, 2_000, 800, rank=5, noise=0.3, seed=2, stars=False)
    ratings, truth = open_ratings(folder), load_truth(folder)
    residual = ratings.rating - truth.predict(ratings.user, ratings.item)
    assert abs(residual.mean()) < 0.01 and abs(residual.std() - 0.3) < 0.01
    signal = np.einsum("nk,nk->n", truth.P[ratings.user], truth.Q[ratings.item])
    assert abs(signal.std() - synthetic.SIGNAL_STD) < 0.05  # k σ⁴ = 0.6² whatever the rank
    assert truth.P.shape == (2_000, 5) and truth.Q.shape == (800, 5)


def test_popularity_is_long_tailed_and_skew_zero_is_flat():
    def top_percent_share(counts):
        top = np.sort(counts)[::-1][: len(counts) // 100]
        return top.sum() / counts.sum()

    tailed = make_ratings(100_000, 5_000, 2_000, seed=0)
    flat = make_ratings(100_000, 5_000, 2_000, seed=0, user_skew=0, item_skew=0)
    assert top_percent_share(np.bincount(tailed.user)) > 0.08  # the busiest 1 % of users: > 8 % of ratings
    assert top_percent_share(np.bincount(tailed.item)) > 0.08
    assert top_percent_share(np.bincount(flat.user)) < 0.02
    assert top_percent_share(np.bincount(flat.item)) < 0.02


def test_writing_holds_one_block_not_the_whole_set(small_blocks, tmp_path):
    n = 400_000  # 4.8 MB of ratings; a block of 4,096 is ~160 kB while drawn
    tracemalloc.start()
    try:
        write_ratings(tmp_path / "big", n, 1_000, 2_000, rank=4, seed=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 12 * n / 4, f"writing peaked at {peak:,} bytes for {12 * n:,} bytes of ratings"


def test_progress_line_shows_counts_and_the_end(tmp_path):
    out = io.StringIO()
    write_ratings(tmp_path / "p", 5_000, 100, 100, seed=0, progress=out)
    assert "synthetic ratings: 5,000/5,000 (100%)" in out.getvalue()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((1_000, 10, 10), "more than the 100 distinct"),
        ((10, 0, 10), "n_users must be a whole number >= 1"),
        ((-1, 10, 10), "n_ratings must be a whole number >= 0"),
    ],
)
def test_impossible_requests_are_refused_with_the_reason(arguments, message):
    with pytest.raises(ValueError, match=message):
        make_ratings(*arguments)
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        make_ratings(10, 10, 10, noise=float("nan"))


def test_an_unfinished_folder_is_refused_with_what_to_do(tmp_path):
    folder = write_ratings(tmp_path / "s", 1_000, 50, 50, seed=0)
    (folder / "meta.json").unlink()  # what a run stopped half-way leaves
    with pytest.raises(FileNotFoundError, match="not a finished set.*gradlab data synth"):
        open_ratings(folder)


def test_synth_command_writes_what_make_ratings_makes(tmp_path, capsys):
    code = main(["data", "synth", "--ratings", "5000", "--users", "300", "--items", "80", "--seed", "7",
                 "--out", str(tmp_path / "s"), "-q"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "5,000 synthetic ratings (300 users × 80 items" in out and "open_ratings(" in out
    made = make_ratings(5000, 300, 80, seed=7)
    assert all(np.array_equal(a, b) for a, b in zip(columns(made), columns(open_ratings(tmp_path / "s"))))
    assert main(["data", "synth", "--ratings", "101", "--users", "10", "--items", "10", "--out", str(tmp_path)]) == 2
    assert "more than the 100 distinct (user, item) pairs" in capsys.readouterr().err
    (tmp_path / "a-file").write_text("kept")
    taken = str(tmp_path / "a-file")
    assert main(["data", "synth", "--ratings", "50", "--users", "9", "--items", "9", "--out", taken]) == 2
    assert "it is a file, not a folder; give --out a folder (made if missing)" in capsys.readouterr().err
    assert (tmp_path / "a-file").read_text() == "kept"


# --- MovieLens 1M/10M/20M/25M: files in the published formats, built here --------------------------
RAW = [  # user, movie, rating, timestamp: ids with gaps and out of order, every star value of the scale
    (17, 3, 4.0, 978300760), (17, 200_001, 3.5, 978302109), (5, 3, 0.5, 978301968),
    (5, 1, 5.0, 978300275), (902, 48, 2.5, 1112486027), (902, 200_001, 1.0, 1427784002),
]  # fmt: skip
MOVIES = {1: "Toy Story (1995)", 3: "Misérables, Les (1995)", 48: "Pocahontas (1995)", 200_001: 'Zoë, "X" (2019)'}


def ratings_text(version: str, rows) -> bytes:
    spec = movielens_large.VERSIONS[version]
    if spec.separator == b"::":
        # ML-1M and ML-10M write whole ratings without a decimal point ("5"), half stars with one ("3.5")
        return "".join(f"{u}::{m}::{r:g}::{t}\n" for u, m, r, t in rows).encode()
    return ("userId,movieId,rating,timestamp\n" + "".join(f"{u},{m},{r:.1f},{t}\n" for u, m, r, t in rows)).encode()


def movies_text(version: str) -> bytes:
    if movielens_large.VERSIONS[version].separator == b"::":  # ML-1M's movies.dat is Latin-1
        return "".join(f"{m}::{t}::Drama\n" for m, t in MOVIES.items()).encode("latin-1", errors="replace")
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["movieId", "title", "genres"])
    writer.writerows([m, t, "Drama|Romance"] for m, t in MOVIES.items())
    return text.getvalue().encode("utf-8")


def write_release(folder: Path, version: str, rows=RAW) -> Path:
    spec = movielens_large.VERSIONS[version]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / spec.ratings).write_bytes(ratings_text(version, rows))
    (folder / spec.movies).write_bytes(movies_text(version))
    return folder


def zip_release(version: str, rows=RAW) -> bytes:
    """ml-<version>.zip as GroupLens lays it out: the files under one top folder, and others beside them."""
    spec = movielens_large.VERSIONS[version]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{spec.top}/{spec.ratings}", ratings_text(version, rows))
        archive.writestr(f"{spec.top}/{spec.movies}", movies_text(version))
        archive.writestr(f"{spec.top}/README.txt", b"Summary\n")
    return buffer.getvalue()


@pytest.mark.parametrize("version", ["1m", "10m", "20m", "25m"])
def test_each_release_loads_as_dense_indices_that_map_back_to_the_raw_ids(version, tmp_path):
    write_release(tmp_path, version)
    ratings = movielens_large.load_movielens(version, tmp_path, timestamps=True)
    assert isinstance(ratings, Ratings) and (ratings.user.dtype, ratings.rating.dtype) == (np.int32, np.float32)
    np.testing.assert_array_equal(ratings.user_ids, [5, 17, 902])  # index k is the k-th smallest id
    np.testing.assert_array_equal(ratings.item_ids, [1, 3, 48, 200_001])
    back = list(zip(ratings.user_ids[ratings.user], ratings.item_ids[ratings.item], ratings.rating, ratings.timestamp))
    assert back == RAW
    assert (ratings.n_users, ratings.n_items) == (3, 4)
    assert movielens_large.load_movielens(version, tmp_path).timestamp is None  # only when asked
    titles = movielens_large.load_movie_titles(version, tmp_path)
    assert titles[3] == "Misérables, Les (1995)" and titles[48] == "Pocahontas (1995)"
    if version in ("20m", "25m"):
        assert titles[200_001] == 'Zoë, "X" (2019)'  # quoted, with a comma and quotes inside


def test_reading_in_blocks_cuts_lines_anywhere_and_a_last_line_may_lack_its_newline(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    rows = [(int(u), int(m), float(r), 978300000 + k) for k, (u, m, r) in enumerate(
        zip(rng.integers(1, 500, 3000), rng.integers(1, 90_000, 3000), rng.integers(1, 11, 3000) / 2))]  # fmt: skip
    write_release(tmp_path, "25m", rows)
    path = tmp_path / "ratings.csv"
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    monkeypatch.setattr(movielens_large, "READ_BLOCK", 97)  # ~3 lines a block, cut mid-line every time
    ratings = movielens_large.load_movielens("25m", tmp_path, timestamps=True)
    back = list(zip(ratings.user_ids[ratings.user], ratings.item_ids[ratings.item], ratings.rating, ratings.timestamp))
    assert back == rows


def test_ids_far_apart_are_made_dense_without_a_huge_table(tmp_path):
    write_release(tmp_path, "20m", [(2_000_000_000, 7, 4.0, 1), (3, 2_147_483_647, 3.0, 2), (3, 7, 2.0, 3)])
    ratings = movielens_large.load_movielens("20m", tmp_path)
    np.testing.assert_array_equal(ratings.user_ids[ratings.user], [2_000_000_000, 3, 3])
    np.testing.assert_array_equal(ratings.item_ids[ratings.item], [7, 2_147_483_647, 7])


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"5,1,4.0\n", r"line 3: expected 'user,item,rating,timestamp'"),
        (b"5,1.5,4.0,978300275\n", r"line 3: expected"),
        (b"5,99999999999,4.0,978300275\n", r"line 3: expected .*ids whole numbers up to 2147483647"),
        (b"5,1,7.0,978300275\n", r"line 3: \(5, 1, 7.0, 978300275\) is not .*star rating"),
        (b"5,1,nan,978300275\n", r"line 3: .* is not .*star rating"),
        (b"5,1,3.7,978300275\n", r"line 3: .* is not .*star rating"),
        (b"0,1,3.0,978300275\n", r"line 3: .*user id >= 1"),
    ],
)
def test_a_bad_line_is_refused_with_its_number(tmp_path, line, message):
    (tmp_path / "ratings.csv").write_bytes(b"userId,movieId,rating,timestamp\n1,2,3.0,4\n" + line + b"6,7,1.0,8\n")
    with pytest.raises(ValueError, match=message):
        movielens_large.load_movielens("20m", tmp_path)


def test_a_wrong_header_or_missing_file_says_what_to_do(tmp_path):
    (tmp_path / "ratings.csv").write_bytes(b"user,item,rating\n1,2,3\n")
    with pytest.raises(ValueError, match="line 1: expected the header 'userId,movieId,rating,timestamp'"):
        movielens_large.load_movielens("25m", tmp_path)
    with pytest.raises(FileNotFoundError, match=f"gradlab data download movielens-1m --to {tmp_path}"):
        movielens_large.load_movielens("1m", tmp_path)
    with pytest.raises(ValueError, match="unknown MovieLens version '30m'"):
        movielens_large.load_movielens("30m", tmp_path)


def test_a_file_that_does_not_match_its_listed_sum_is_refused(tmp_path):
    write_release(tmp_path, "20m")
    write_checksums(tmp_path, {"ratings.csv": hashlib.sha256(b"something else").hexdigest()})
    with pytest.raises(ChecksumError, match="ratings.csv: SHA-256 checksum mismatch"):
        movielens_large.load_movielens("20m", tmp_path)
    assert len(movielens_large.load_movielens("20m", tmp_path, verify=False)) == len(RAW)


# --- downloads from a server on 127.0.0.1 (test_download's request handler) --------------------------
@pytest.fixture(scope="module")
def grouplens():
    """A server holding ml-1m.zip … ml-25m.zip built in the published layouts, at /movielens/."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    files = {f"/movielens/{spec.archive}": zip_release(name) for name, spec in movielens_large.VERSIONS.items()}
    httpd.files, httpd.script, httpd.log, httpd.cut = files, {}, [], 0
    thread = threading.Thread(target=httpd.serve_forever, name="grouplens", daemon=True)
    thread.start()
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}/movielens/"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def vouch(folder: Path, server, version: str) -> Path:
    """An empty target folder whose SHA256SUMS vouches for the test archive (it is not the published one)."""
    archive = movielens_large.VERSIONS[version].archive
    folder.mkdir()
    write_checksums(folder, {archive: hashlib.sha256(server.files[f"/movielens/{archive}"]).hexdigest()})
    return folder


@pytest.mark.parametrize("version", ["1m", "10m", "20m", "25m"])
def test_cli_downloads_checks_unzips_and_the_loader_reads_it(grouplens, tmp_path, capsys, version):
    folder = vouch(tmp_path / "ml", grouplens, version)
    code = main(["data", "download", f"movielens-{version}", "--to", str(folder), "--mirror", grouplens.base])
    out, err = capsys.readouterr()
    assert code == 0, err
    spec = movielens_large.VERSIONS[version]
    assert sorted(p.name for p in folder.iterdir()) == sorted([CHECKSUMS_FILE, spec.ratings, spec.movies])
    assert set(read_checksums(folder)) == {spec.archive, spec.ratings, spec.movies}
    assert f"load_movielens('{version}', '{folder}')" in out
    ratings = movielens_large.load_movielens(version, folder, timestamps=True)
    assert list(zip(ratings.user_ids[ratings.user], ratings.item_ids[ratings.item], ratings.rating)) == [
        row[:3] for row in RAW
    ]
    grouplens.log.clear()
    assert main(["data", "download", f"movielens-{version}", "--to", str(folder), "--mirror", grouplens.base]) == 0
    assert grouplens.log == [] and "already in" in capsys.readouterr().err


def test_an_archive_nobody_vouches_for_is_refused_and_the_published_md5_is_accepted(
    grouplens, tmp_path, capsys, monkeypatch
):
    folder = tmp_path / "ml"
    code = main(["data", "download", "movielens-1m", "--to", str(folder), "--mirror", grouplens.base, "-q"])
    assert code == 1 and "checksum mismatch" in capsys.readouterr().err
    assert not list(folder.glob("*.zip*")) and not (folder / "ratings.dat").exists()
    # GroupLens publishes MD5 sums only (ml-1m.zip.md5): an archive with the published MD5 is accepted
    served = grouplens.files["/movielens/ml-1m.zip"]
    published = dataclasses.replace(movielens_large.VERSIONS["1m"], md5=hashlib.md5(served).hexdigest(), sha256=None)
    monkeypatch.setitem(movielens_large.VERSIONS, "1m", published)
    assert movielens_large.download_movielens_large("1m", folder, mirror=grouplens.base, progress=False) == folder
    assert len(movielens_large.load_movielens("1m", folder)) == len(RAW)


def test_a_cut_download_is_resumed(grouplens, tmp_path):
    folder = vouch(tmp_path / "ml", grouplens, "25m")
    grouplens.cut = len(grouplens.files["/movielens/ml-25m.zip"]) // 2
    grouplens.script["/movielens/ml-25m.zip"] = ["truncate"]
    movielens_large.download_movielens_large("25m", folder, mirror=grouplens.base, backoff=0, progress=False)
    statuses = [entry["status"] for entry in grouplens.log if entry["path"].endswith("ml-25m.zip")]
    assert statuses[-2:] == [200, 206]
    assert len(movielens_large.load_movielens("25m", folder)) == len(RAW)
