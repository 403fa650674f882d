"""gradlab.data: MNIST read from the real IDX files, MovieLens and CSV files that are not what they
should be, the toy sets, 2-D point clouds from x,y files, mini-batches and the split.

The MNIST tests read the copies in ../shared/data/mnist/ (next to the repository folder) and are
skipped when that folder is absent. They never download anything (tests/test_download.py does, from
a server on 127.0.0.1). That folder's SHA256SUMS vouches
for its files: its train-images file is a near-exact reconstruction rather than the published one
(every pixel within 1/255), and all four are compressed differently from the published .gz files,
so none of them has the published SHA-256 sum.
"""

import gzip
import hashlib
import math
import shutil
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from gradlab import data
from gradlab.data import (
    batches,
    load_mnist,
    make_blobs,
    make_circles,
    make_moons,
    make_spiral,
    make_swiss_roll,
    make_xor,
    movielens,
    read_points,
    train_test_split,
)
from reference_data import HINT, SHARED_DATA

MNIST = SHARED_DATA / "mnist"
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]  # official, per digit 0..9
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


@pytest.fixture(scope="module")
def mnist_dir():
    if not MNIST.is_dir():
        pytest.skip(f"the MNIST reference files are not present at {MNIST}: {HINT}")
    return MNIST


@pytest.fixture(scope="module")
def train(mnist_dir):
    start = time.perf_counter()
    images, labels = load_mnist(mnist_dir, split="train")
    return images, labels, time.perf_counter() - start


@pytest.fixture(scope="module")
def test_set(mnist_dir):
    return load_mnist(mnist_dir, split="test")


def copy_test_split(source: Path, target: Path, with_sums: bool = True) -> Path:
    target.mkdir(exist_ok=True)
    for name in TEST_FILES + (("SHA256SUMS",) if with_sums else ()):
        shutil.copyfile(source / name, target / name)
    return target


def write_idx(path: Path, magic: int, dims, payload: bytes) -> Path:
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in dims)
    path.write_bytes(gzip.compress(header + payload))
    return path


# --- MNIST: the real files -----------------------------------------------------------------------
def test_training_set_shapes_dtypes_and_statistics(train):
    images, labels, _ = train
    assert images.shape == (60_000, 1, 28, 28) and images.dtype == np.float32
    assert labels.shape == (60_000,) and labels.dtype == np.int64
    assert images.min() == 0.0 and images.max() == 1.0
    # the normalisation constants everyone uses for MNIST
    assert images.mean(dtype=np.float64) == pytest.approx(0.1307, abs=1e-3)
    assert images.std(dtype=np.float64) == pytest.approx(0.3081, abs=1e-3)
    assert np.bincount(labels).tolist() == TRAIN_COUNTS
    assert labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_reading_the_training_set_is_fast(train):
    # decompression, checksum and conversion are all vectorised: about 0.5 s; a Python loop over
    # the 47 million pixels would take a minute
    assert train[2] < 3.0, f"reading the training set took {train[2]:.2f} s"


def test_test_set_has_the_official_label_counts(test_set):
    images, labels = test_set
    assert images.shape == (10_000, 1, 28, 28) and images.dtype == np.float32
    assert labels.shape == (10_000,) and labels.dtype == np.int64
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert np.bincount(labels, minlength=10).tolist() == TEST_COUNTS
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_limit_returns_the_first_examples(mnist_dir, test_set):
    images, labels = load_mnist(mnist_dir, split="test", limit=100)
    assert images.shape == (100, 1, 28, 28) and labels.shape == (100,)
    np.testing.assert_array_equal(images, test_set[0][:100])
    np.testing.assert_array_equal(labels, test_set[1][:100])
    # without verification too (the rest of the stream is still decompressed, to check its CRC)
    fast_images, fast_labels = load_mnist(mnist_dir, split="test", limit=100, verify=False)
    np.testing.assert_array_equal(fast_images, images)
    np.testing.assert_array_equal(fast_labels, labels)
    assert load_mnist(mnist_dir, split="test", limit=0)[0].shape == (0, 1, 28, 28)
    assert load_mnist(mnist_dir, split="test", limit=10**6)[1].shape == (10_000,)


def test_flatten_and_raw_levels(mnist_dir, test_set):
    images, labels = load_mnist(mnist_dir, split="test", flatten=True, limit=500)
    assert images.shape == (500, 784) and labels.shape == (500,)
    np.testing.assert_array_equal(images, test_set[0][:500].reshape(500, 784))
    raw, _ = load_mnist(mnist_dir, split="test", normalize=False, limit=500)
    assert raw.dtype == np.uint8 and raw.shape == (500, 1, 28, 28) and raw.max() == 255
    np.testing.assert_array_equal(raw.astype(np.float32) / 255, test_set[0][:500])
    raw[0, 0, 0, 0] = 7  # a writable array of its own, not a view of the file's bytes


def test_root_defaults_to_gradlab_data(mnist_dir, monkeypatch):
    monkeypatch.setenv("GRADLAB_DATA", str(mnist_dir))
    assert data.default_root() == mnist_dir
    assert load_mnist(split="test", limit=3)[1].tolist() == [7, 2, 1]


def test_default_cache_folder_is_in_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("GRADLAB_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data.default_root() == tmp_path / ".cache" / "gradlab" / "mnist"
    with pytest.raises(FileNotFoundError, match="GRADLAB_DATA"):
        load_mnist()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        load_mnist(split="validation")
    with pytest.raises(ValueError, match="limit must be >= 0"):
        load_mnist(limit=-1)


# --- MNIST: missing and damaged files ------------------------------------------------------------
def test_missing_files_say_where_and_how_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError) as caught:
        load_mnist(tmp_path, split="test")
    message = str(caught.value)
    assert str(tmp_path) in message  # where it looked
    assert "t10k-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert "download_mnist(" in message and "https://" in message  # how to get them
    assert f"run `gradlab data download mnist --to {tmp_path}`" in message  # the command for that folder
    assert "still gzipped" in message  # where to put them: that folder, as they are


def test_missing_files_in_the_default_folder_name_the_download_command(tmp_path, monkeypatch):
    monkeypatch.delenv("GRADLAB_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="run `gradlab data download mnist` to fetch"):
        load_mnist(split="test")


def test_a_single_missing_file_is_named(mnist_dir, tmp_path):
    shutil.copyfile(mnist_dir / TEST_FILES[0], tmp_path / TEST_FILES[0])
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"")  # an unzipped copy gets a hint
    with pytest.raises(FileNotFoundError) as caught:
        load_mnist(tmp_path, split="test")
    assert "not found: t10k-labels-idx1-ubyte.gz\n" in str(caught.value)
    assert "without .gz" in str(caught.value)


def test_a_copy_vouched_for_by_sha256sums_is_read(mnist_dir, tmp_path):
    folder = copy_test_split(mnist_dir, tmp_path / "copy")
    assert load_mnist(folder, split="test", limit=5)[1].tolist() == [7, 2, 1, 0, 4]


def test_a_flipped_byte_fails_the_checksum(mnist_dir, tmp_path):
    folder = copy_test_split(mnist_dir, tmp_path / "copy")
    path = folder / "t10k-images-idx3-ubyte.gz"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="SHA-256 checksum mismatch") as caught:
        load_mnist(folder, split="test")
    assert "t10k-images-idx3-ubyte.gz" in str(caught.value) and "verify=False" in str(caught.value)


def test_without_sha256sums_only_the_published_sums_count(mnist_dir, tmp_path):
    folder = copy_test_split(mnist_dir, tmp_path / "bare", with_sums=False)
    with pytest.raises(ValueError, match="SHA-256 checksum mismatch") as caught:
        load_mnist(folder, split="test")
    assert data.SHA256["t10k-images-idx3-ubyte.gz"] in str(caught.value)
    assert load_mnist(folder, split="test", verify=False)[1].shape == (10_000,)


def test_a_malformed_sha256sums_is_reported(mnist_dir, tmp_path):
    folder = copy_test_split(mnist_dir, tmp_path / "copy")
    (folder / "SHA256SUMS").write_text("not a checksum line\n")
    with pytest.raises(ValueError, match="SHA256SUMS, line 1"):
        load_mnist(folder, split="test")


def test_a_wrong_magic_number_is_named(tmp_path):
    write_idx(tmp_path / TEST_FILES[0], 0x00000804, (2, 28, 28), bytes(2 * 784))
    write_idx(tmp_path / TEST_FILES[1], 0x00000801, (2,), bytes(2))
    with pytest.raises(ValueError, match="bad magic number 0x00000804, expected 0x00000803") as caught:
        load_mnist(tmp_path, split="test", verify=False)
    assert TEST_FILES[0] in str(caught.value)


def test_swapped_files_are_suspected(tmp_path):
    write_idx(tmp_path / TEST_FILES[0], 0x00000801, (2,), bytes(2))
    write_idx(tmp_path / TEST_FILES[1], 0x00000801, (2,), bytes(2))
    with pytest.raises(ValueError, match="are files swapped"):
        load_mnist(tmp_path, split="test", verify=False)


def test_truncated_data_is_reported(tmp_path):
    write_idx(tmp_path / TEST_FILES[0], 0x00000803, (3, 28, 28), bytes(2 * 784 + 100))
    write_idx(tmp_path / TEST_FILES[1], 0x00000801, (3,), bytes(3))
    with pytest.raises(ValueError, match="truncated: the header declares 3 items"):
        load_mnist(tmp_path, split="test", verify=False)


def test_a_cut_gzip_stream_is_reported(mnist_dir, tmp_path):
    raw = (mnist_dir / TEST_FILES[0]).read_bytes()
    (tmp_path / TEST_FILES[0]).write_bytes(raw[: len(raw) // 2])
    shutil.copyfile(mnist_dir / TEST_FILES[1], tmp_path / TEST_FILES[1])
    with pytest.raises(ValueError, match="not a complete gzip file") as caught:
        load_mnist(tmp_path, split="test", verify=False)
    assert TEST_FILES[0] in str(caught.value)


def test_files_of_different_lengths_are_refused(tmp_path):
    write_idx(tmp_path / TEST_FILES[0], 0x00000803, (2, 28, 28), bytes(2 * 784))
    write_idx(tmp_path / TEST_FILES[1], 0x00000801, (3,), bytes(3))
    with pytest.raises(ValueError, match="2 images but t10k-labels-idx1-ubyte.gz holds 3 labels"):
        load_mnist(tmp_path, split="test", verify=False)


def test_a_small_valid_file_round_trips(tmp_path):
    pixels = np.arange(2 * 784, dtype=np.uint8)
    write_idx(tmp_path / TEST_FILES[0], 0x00000803, (2, 28, 28), pixels.tobytes())
    write_idx(tmp_path / TEST_FILES[1], 0x00000801, (2,), bytes([3, 9]))
    images, labels = load_mnist(tmp_path, split="test", verify=False, normalize=False, flatten=True)
    np.testing.assert_array_equal(images.reshape(-1), pixels)
    assert labels.tolist() == [3, 9]


def test_a_header_declaring_2_to_the_32_rows_is_refused_before_allocation(tmp_path):
    # 2**32 - 1 images of 28×28 would be 3.4 TB: the file cannot hold that, so nothing is allocated
    write_idx(tmp_path / TEST_FILES[0], 0x00000803, (2**32 - 1, 28, 28), bytes(2 * 784))
    write_idx(tmp_path / TEST_FILES[1], 0x00000801, (2,), bytes(2))
    tracemalloc.start()
    try:
        for limit in (None, 5):  # today's code raised MemoryError without a limit
            with pytest.raises(ValueError, match="header declares 4,294,967,295 items of 28 × 28 bytes") as caught:
                load_mnist(tmp_path, split="test", verify=False, limit=limit)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "more than a gzip file of" in str(caught.value) and TEST_FILES[0] in str(caught.value)
    assert peak < 50 * 2**20
    # a header that fits the ratio but not the data: found by reading block by block, not by a huge allocation
    noise = np.random.default_rng(0).integers(0, 256, 2 * 784, dtype=np.uint8).tobytes()  # ~1.6 kB compressed
    write_idx(tmp_path / TEST_FILES[0], 0x00000803, (1000, 28, 28), noise)
    with pytest.raises(ValueError, match="truncated: the header declares 1000 items of 784 bytes.*after 2 of them"):
        load_mnist(tmp_path, split="test", verify=False)


def damaged_tail(mnist_dir, tmp_path, how: str) -> Path:
    folder = copy_test_split(mnist_dir, tmp_path / how, with_sums=False)
    path = folder / TEST_FILES[0]
    raw = bytearray(path.read_bytes())
    if how == "crc":
        raw[-8] ^= 0xFF  # the gzip trailer's CRC-32
    elif how == "data":
        raw[-5000] ^= 0x55  # compressed data near the end: the last images
    else:
        raw = raw[: len(raw) - 3000]  # cut
    path.write_bytes(bytes(raw))
    return folder


@pytest.mark.parametrize("how", ["crc", "data", "cut"])
def test_a_damaged_tail_is_found_even_with_a_limit(mnist_dir, tmp_path, how):
    folder = damaged_tail(mnist_dir, tmp_path, how)
    # unverified: only the gzip stream can tell, and it is read to its end although 5 images are kept
    with pytest.raises(ValueError, match=f"{TEST_FILES[0]}: (not a complete gzip file|truncated|has bytes)"):
        load_mnist(folder, split="test", limit=5, verify=False)
    # a SHA256SUMS written for the damaged file (sha256sum on a bad download) does not hide it either
    (folder / "SHA256SUMS").write_text(
        "".join(f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n" for n in TEST_FILES)
    )
    with pytest.raises(ValueError, match="not a complete gzip file|truncated"):
        load_mnist(folder, split="test", limit=5)


# --- MovieLens and CSV files that are not what they should be -------------------------------------
def write_udata(folder: Path, *lines: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "u.data").write_text("".join(line + "\n" for line in lines))
    return folder


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("1\t2\t1e308\t881250949", "four whole numbers"),
        ("1\t2\tinf\t881250949", "four whole numbers"),
        ("1\t2\tnan\t881250949", "four whole numbers"),
        (f"{10**30}\t2\t3\t881250949", f"user id {10**30} is too large"),
        (f"1\t{2**63}\t3\t881250949", f"item id {2**63} is too large"),
        (f"1\t2\t3\t{10**30}", "timestamp 1000000000000000000000000000000 is too large"),
        ("1\t2\t+3\t881250949", "four whole numbers"),
        ("1\t2\t1_0\t881250949", "four whole numbers"),
    ],
)
def test_udata_refuses_numbers_that_do_not_fit_with_their_line(tmp_path, line, expected):
    folder = write_udata(tmp_path / "ml", "196\t242\t3\t881250949", line)
    with pytest.raises(ValueError, match="line 2: ") as caught:
        movielens.load_ratings(folder, verify=False)
    assert expected in str(caught.value) and "u.data" in str(caught.value)


def test_udata_at_the_edge_of_int64_is_read(tmp_path):
    folder = write_udata(tmp_path / "ml", f"{2**63 - 1}\t2\t3\t0")
    assert movielens.load_ratings(folder, verify=False).user.tolist() == [2**63 - 1]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1e308", "the rating '1e308' is larger than ±1,000,000"),
        ("-2e6", "the rating '-2e6' is larger than ±1,000,000"),
        ("inf", "the rating 'inf' is not a finite number"),
        ("nan", "the rating 'nan' is not a finite number"),
        ("1e999", "the rating '1e999' is not a finite number"),
    ],
)
def test_csv_refuses_ratings_out_of_range_with_their_line(tmp_path, value, expected):
    path = tmp_path / "r.csv"
    path.write_text(f"user,item,rating\n1,10,4\n\n2,10,{value}\n")
    with pytest.raises(ValueError, match="r.csv, line 4: ") as caught:
        movielens.load_csv_ratings(path)
    assert expected in str(caught.value)


def test_csv_refuses_whole_number_ids_beyond_64_bits_with_their_line(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(f"1,10,4\n2,{10**30},3\n")
    with pytest.raises(ValueError, match=f"r.csv, line 2: the item id {10**30} is too large"):
        movielens.load_csv_ratings(path)
    path.write_text(f"1,10,4\n{-(2**63)},10,3\n")
    assert movielens.load_csv_ratings(path).user.tolist() == [1, -(2**63)]


def test_csv_line_numbers_count_blank_and_quoted_lines(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('user,item,rating\n\n"a\nb",m1,4\nc,m2,good\n')
    with pytest.raises(ValueError, match="r.csv, line 5: the rating 'good' is not a number"):
        movielens.load_csv_ratings(path)


def test_a_latin_1_csv_is_read_as_latin_1(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_bytes("user;item;rating\nJosé;Amélie;4\nZoë;Amélie;5\n".encode("latin-1"))
    ratings = movielens.load_csv_ratings(path)
    assert ratings.user.tolist() == ["José", "Zoë"] and ratings.item.tolist() == ["Amélie", "Amélie"]
    # UTF-8, with or without the byte-order mark Excel writes, and UTF-16 with its mark
    for encoded in (
        "user,item,rating\nJosé,Amélie,4\n".encode(),
        "user,item,rating\nJosé,Amélie,4\n".encode("utf-8-sig"),
        "user,item,rating\nJosé,Amélie,4\n".encode("utf-16"),
    ):
        path.write_bytes(encoded)
        assert movielens.load_csv_ratings(path).user.tolist() == ["José"]


def test_a_csv_in_the_wrong_encoding_is_refused_with_its_name_and_advice(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_bytes("user,item,rating\n1,2,4\nJosé,Amélie,4\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"notes.csv, line 3: not valid utf-8 \(byte 0xE9\)") as caught:
        movielens.load_csv_ratings(path, encoding="utf-8")
    assert "encoding='latin-1'" in str(caught.value)
    path.write_bytes("user,item,rating\n1,2,4\n".encode("utf-16-le"))  # no byte-order mark
    with pytest.raises(ValueError, match="notes.csv: holds NUL bytes") as caught:
        movielens.load_csv_ratings(path)
    assert "save or export it as CSV in UTF-8" in str(caught.value)


def test_u_item_is_read_as_published_in_latin_1_and_as_utf_8_when_re_saved(tmp_path):
    line = (
        "543|Misérables, Les (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Mis%E9rables%2C%20Les%20%281995%29|0"
    )
    folder = tmp_path / "ml"
    folder.mkdir()
    (folder / "u.item").write_bytes((line + "\n").encode("latin-1"))
    assert movielens.load_titles(folder, verify=False)[543] == "Misérables, Les (1995)"
    (folder / "u.item").write_bytes((line + "\n").encode("utf-8"))
    assert movielens.load_titles(folder, verify=False)[543] == "Misérables, Les (1995)"  # not 'MisÃ©rables'


def test_missing_movielens_names_the_download_command(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as caught:
        movielens.load_ratings()
    message = str(caught.value)
    assert "run `gradlab data download movielens-100k` to fetch ml-100k.zip" in message
    assert str(tmp_path / ".cache" / "gradlab" / "ml-100k") in message
    with pytest.raises(FileNotFoundError, match=f"run `gradlab data download movielens-100k --to {tmp_path}`"):
        movielens.load_split(tmp_path)


# --- toy data sets -------------------------------------------------------------------------------
MAKERS = {
    "moons": make_moons,
    "circles": make_circles,
    "spiral2": lambda **kw: make_spiral(classes=2, **kw),
    "spiral3": lambda **kw: make_spiral(classes=3, **kw),
    "xor": make_xor,
    "blobs": make_blobs,
}
CLASSES = {"moons": 2, "circles": 2, "spiral2": 2, "spiral3": 3, "xor": 2, "blobs": 3}


@pytest.mark.parametrize("name", MAKERS)
@pytest.mark.parametrize("n", [300, 301])
def test_toy_sets_are_balanced_typed_and_seeded(name, n):
    make = MAKERS[name]
    x, y = make(n=n, seed=1)
    assert x.shape == (n, 2) and x.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert len(counts) == CLASSES[name] and counts.max() - counts.min() <= 1
    x_again, y_again = make(n=n, seed=1)
    np.testing.assert_array_equal(x, x_again)
    np.testing.assert_array_equal(y, y_again)
    assert not np.array_equal(make(n=n, seed=2)[0], x)
    assert len(set(y[: n // 2])) > 1  # shuffled, not sorted by class


def test_moons_lie_on_their_half_circles():
    x, y = make_moons(n=400, noise=0.0)
    upper, lower = x[y == 0], x[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    assert (upper[:, 1] >= 0).all() and (lower[:, 1] <= 0.5).all()


def test_circles_have_radius_factor_and_one():
    x, y = make_circles(n=2000, noise=0.05, factor=0.3, seed=4)
    radius = np.hypot(*x.T)
    assert np.median(radius[y == 1]) == pytest.approx(0.3, abs=0.02)
    assert np.median(radius[y == 0]) == pytest.approx(1.0, abs=0.02)
    x, y = make_circles(n=200, noise=0.0)
    np.testing.assert_allclose(np.hypot(*x.T), np.where(y == 0, 1.0, 0.5))
    with pytest.raises(ValueError, match="factor"):
        make_circles(factor=1.5)


@pytest.mark.parametrize("classes", [2, 3])
def test_spiral_arms_follow_their_curve(classes):
    x, y = make_spiral(n=600, noise=0.0, classes=classes, turns=1.5)
    r = np.hypot(*x.T)
    # θ = 2π·turns·r + 2πk/K, compared on the circle so that wrapping past 2π does not matter
    offset = np.arctan2(x[:, 1], x[:, 0]) - (2 * math.pi * 1.5 * r + 2 * math.pi * y / classes)
    np.testing.assert_allclose(np.cos(offset), 1.0, atol=1e-12)
    assert (0.05 <= r).all() and (r <= 1).all()


def test_xor_labels_are_the_sign_rule():
    x, y = make_xor(n=400, noise=0.1)
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] < 0).astype(np.int64))
    for label in (0, 1):  # each class shared evenly between its two corners
        assert np.count_nonzero(x[y == label, 0] > 0) == 100


def test_blobs_sit_around_their_centres():
    x, y = make_blobs(n=3000, centers=3, std=0.4, seed=5)
    for k in range(3):
        centre = 3 * np.array([math.cos(2 * math.pi * k / 3), math.sin(2 * math.pi * k / 3)])
        cluster = x[y == k]
        np.testing.assert_allclose(cluster.mean(axis=0), centre, atol=0.05)
        np.testing.assert_allclose(cluster.std(axis=0), 0.4, atol=0.03)
    centres = np.array([[0.0, 0.0], [10.0, -4.0]])
    x, y = make_blobs(n=100, centers=centres, std=0.1)
    assert (np.linalg.norm(x - centres[y], axis=1) < 0.6).all()


def test_toy_arguments_are_checked():
    with pytest.raises(ValueError, match="noise must be >= 0"):
        make_moons(noise=-1)
    with pytest.raises(ValueError, match="n must be at least 3"):
        make_spiral(n=2, classes=3)
    with pytest.raises(ValueError, match="classes must be"):
        make_spiral(classes=1)
    with pytest.raises(ValueError, match="shape"):
        make_blobs(centers=np.zeros((3, 3)))


def test_swiss_roll_lies_on_its_spiral_and_is_seeded():
    x = make_swiss_roll(n=500, noise=0.0, seed=3)
    assert x.shape == (500, 2) and x.dtype == np.float64
    t = np.hypot(*x.T)  # x = (t cos t, t sin t): the radius is t
    assert (1.5 * math.pi <= t).all() and (t <= 4.5 * math.pi).all()
    np.testing.assert_allclose(np.cos(np.arctan2(x[:, 1], x[:, 0]) - t), 1.0, atol=1e-12)
    np.testing.assert_array_equal(make_swiss_roll(300, 1.0, seed=1), make_swiss_roll(300, 1.0, seed=1))
    assert not np.array_equal(make_swiss_roll(300, 1.0, seed=1), make_swiss_roll(300, 1.0, seed=2))
    noisy = make_swiss_roll(n=20_000, noise=1.0, seed=4)
    assert np.abs(noisy).max() < 20 and noisy.std(axis=0) == pytest.approx([6.70, 7.02], abs=0.15)
    with pytest.raises(ValueError, match="noise must be >= 0"):
        make_swiss_roll(noise=-1)


# --- 2-D point clouds from x,y files -------------------------------------------------------------
def write(tmp_path, text: str, name: str = "cloud.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    "text",
    [
        "x,y\n1,2\n3.5,-4e-1\n",  # a header
        "1,2\n3.5,-4e-1\n",  # none
        "# made by hand\n\nx , y\n 1 , 2 \n\n# between\n3.5,-4e-1",  # comments, blanks, spaces, no last newline
        "\ufeff1,2\r\n3.5,-4e-1\r\n",  # a byte-order mark and Windows line ends
    ],
)
def test_read_points_reads_x_y_lines(tmp_path, text):
    points = read_points(write(tmp_path, text))
    assert points.dtype == np.float64
    np.testing.assert_array_equal(points, [[1.0, 2.0], [3.5, -0.4]])


def test_read_points_takes_a_path_or_a_string_and_a_minimum(tmp_path):
    path = write(tmp_path, "x,y\n" + "".join(f"{i},{-i}\n" for i in range(12)))
    assert read_points(path).shape == read_points(str(path)).shape == (12, 2)
    assert read_points(path, min_points=12).shape == (12, 2)
    with pytest.raises(ValueError, match=r"cloud\.csv holds 12 points; at least 13 needed"):
        read_points(path, min_points=13)


@pytest.mark.parametrize(
    "text, words",
    [
        ("x,y\n1,2\n3,4\n5,six\n", "line 4: expected two numbers x,y, got '5,six'"),
        ("x,y\n" + "0.1,0.2\n" * 20 + "0.3;0.4\n", "line 22: expected two numbers x,y, got '0.3;0.4'"),
        ("1,2\n\n# note\n3\n", "line 4: expected two numbers x,y, got 1 in '3'"),
        ("1,2,3\n4,5\n", "line 1: expected two numbers x,y, got 3 in '1,2,3'"),  # numbers: not a header
        ("x,y\n1,2\nx,y\n", "line 3: expected two numbers x,y"),  # a header only comes first
        ("1,2\n3,\n", "line 2: expected two numbers x,y, got '3,'"),
        ("1,2\nnan,1\n", "line 2: expected two finite numbers x,y, got 'nan,1'"),
        ("1,2\n1,-inf\n", "line 2: expected two finite numbers x,y"),
        ("1,2\n1e999,0\n", "line 2: expected two finite numbers x,y"),  # overflows to inf
        ("1,2\n" + "7" * 80 + ",x\n", "line 2: expected two numbers x,y, got '" + "7" * 39 + "…'"),  # cut short
    ],
)
def test_read_points_refuses_a_bad_line_with_the_file_and_its_number(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as refused:
        read_points(path)
    assert str(refused.value).startswith(f"{path}, {words}")
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("text", ["", "\n\n", "x,y\n", "# only a comment\n"])
def test_read_points_refuses_a_file_without_points(tmp_path, text):
    with pytest.raises(ValueError, match=r"cloud\.csv holds no points; at least 1 needed, one x,y a line"):
        read_points(write(tmp_path, text))


def test_read_points_refuses_a_file_that_is_not_text_or_not_there(tmp_path):
    with pytest.raises(ValueError, match=r"cloud\.csv is not UTF-8 text"):
        read_points(write(tmp_path, "x,y\n1,2\n3,4\n", encoding="utf-16"))
    with pytest.raises(FileNotFoundError):
        read_points(tmp_path / "missing.csv")
    with pytest.raises(IsADirectoryError):
        read_points(tmp_path)


# --- batches and the split -----------------------------------------------------------------------
def numbered(n):
    """x = 0..n-1 as a column and y = 10·x: every batch shows which examples it holds, and that x and y stay paired."""
    x = np.arange(n, dtype=np.float64)[:, None]
    return x, 10 * np.arange(n)


@pytest.mark.parametrize("shuffle", [True, False])
def test_an_epoch_covers_every_example_once(shuffle):
    x, y = numbered(103)
    parts = list(batches(x, y, batch_size=10, shuffle=shuffle, seed=0))
    assert [len(xb) for xb, _ in parts] == [10] * 10 + [3]
    seen = np.concatenate([xb[:, 0] for xb, _ in parts])
    np.testing.assert_array_equal(np.sort(seen), np.arange(103))
    for xb, yb in parts:
        np.testing.assert_array_equal(yb, 10 * xb[:, 0])
    assert (np.array_equal(seen, np.arange(103))) != shuffle


def test_drop_last_leaves_out_the_short_batch():
    x, y = numbered(103)
    parts = list(batches(x, y, batch_size=10, seed=0, drop_last=True))
    assert [len(yb) for _, yb in parts] == [10] * 10
    assert len(np.unique(np.concatenate([yb for _, yb in parts]))) == 100
    assert len(list(batches(x, y, batch_size=103, drop_last=True))) == 1
    assert list(batches(x, y, batch_size=200, drop_last=True)) == []


def test_shuffle_order_follows_the_seed():
    x, y = numbered(50)

    def order(seed):
        return np.concatenate([yb for _, yb in batches(x, y, 8, seed=seed)])

    np.testing.assert_array_equal(order(3), order(3))
    assert not np.array_equal(order(3), order(4))
    rng = np.random.default_rng(0)  # a Generator gives a new order each epoch, reproducibly
    assert not np.array_equal(order(rng), order(rng))


def test_batches_check_their_arguments_at_the_call():
    x, y = numbered(10)
    with pytest.raises(ValueError, match="same number of examples"):
        batches(x, y[:9], 4)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        batches(x, y, 0)
    xb, yb = next(batches([[1.0], [2.0]], [0, 1], 2, shuffle=False))  # lists become arrays
    assert isinstance(xb, np.ndarray) and yb.tolist() == [0, 1]


def test_train_test_split_partitions_the_examples():
    x, y = numbered(100)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_fraction=0.25, seed=1)
    assert len(x_train) == len(y_train) == 75 and len(x_test) == len(y_test) == 25
    np.testing.assert_array_equal(np.sort(np.concatenate([y_train, y_test])), 10 * np.arange(100))
    np.testing.assert_array_equal(y_test, 10 * x_test[:, 0])
    np.testing.assert_array_equal(train_test_split(x, y, 0.25, seed=1)[1], x_test)
    assert not np.array_equal(train_test_split(x, y, 0.25, seed=2)[1], x_test)
    with pytest.raises(ValueError, match="both need at least one"):
        train_test_split(x[:2], y[:2], test_fraction=0.1)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        train_test_split(x, y, test_fraction=1.0)
