"""Model files load all or nothing, and safely: nn.Module.load, FactorModel.load and `gradlab recommend top/similar`.

Every way a file can be wrong (other shapes or names, complex/text/pickled arrays, empty, cut short, text, a
decompression bomb, arrays that contradict each other) gives one error type that names the file, leaves the
model as it was, and never decompresses more than the model itself holds.
"""

import resource
import time
import tracemalloc
import zipfile

import numpy as np
import pytest
from numpy.lib import format as npy

from gradlab import Tensor, nn
from gradlab.apps.recommender import FactorModel, fit_sgd
from gradlab.cli import main
from gradlab.data.movielens import Ratings
from gradlab.npzfile import ModelFileError, StateKeysError, read_npz, write_npz


# --- files to feed the loaders ----------------------------------------------------------------------------
def write_members(path, members: dict, compress=True):
    """A zip of .npy members written by hand: {name: (header dict, data bytes or a number of zero bytes)}.

    A number of zero bytes is streamed in 1 MiB chunks, so a member declaring hundreds of MiB of zeros
    makes a file of a few hundred KiB (deflate packs zeros about 1000 to 1): a decompression bomb.
    """
    mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=mode) as archive:
        for name, (header, data) in members.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as out:
                npy.write_array_header_2_0(out, header)
                if isinstance(data, int):
                    chunk = bytes(1 << 20)
                    for start in range(0, data, len(chunk)):
                        out.write(chunk[: min(len(chunk), data - start)])
                else:
                    out.write(data)
    return path


def member(array):
    """(header, data) of an array, as np.save would write them."""
    array = np.asarray(array)
    return {"descr": npy.dtype_to_descr(array.dtype), "fortran_order": False, "shape": array.shape}, array.tobytes()


def small_net():
    return nn.Sequential(nn.Linear(3, 4, seed=0), nn.ReLU(), nn.Linear(4, 2, seed=1))


def arrays_of(model):
    return {key: value.copy() for key, value in model.state_dict().items()}


def assert_unchanged(model, before):
    after = model.state_dict()
    assert list(after) == list(before)
    for key in before:
        np.testing.assert_array_equal(after[key], before[key], err_msg=key)
        assert after[key].dtype == before[key].dtype


_ran = []


def _record(note):
    _ran.append(note)


class Payload:
    """An object whose unpickling would run code: here it only records that it ran."""

    def __reduce__(self):
        return _record, ("the pickle ran",)


# --- nn.Module.load: all or nothing ---------------------------------------------------------------------
def test_a_wrong_shape_in_the_last_key_changes_nothing(tmp_path):
    saved = {key: value + 1.0 for key, value in arrays_of(small_net()).items()}  # every array differs from the model
    last = list(saved)[-1]
    assert last == "2.bias"
    saved[last] = np.zeros(3)  # the model's is (2,)
    path = tmp_path / "other-size.npz"
    np.savez(path, **saved)
    model = small_net()
    before = arrays_of(model)
    with pytest.raises(ModelFileError) as caught:
        model.load(path)
    message = str(caught.value)
    assert str(path) in message and "'2.bias'" in message and "(3,)" in message and "(2,)" in message
    assert "nothing was loaded" in message
    assert_unchanged(model, before)


def test_a_wrong_dtype_in_the_last_key_changes_nothing(tmp_path):
    saved = {key: value + 1.0 for key, value in arrays_of(small_net()).items()}
    saved["2.bias"] = saved["2.bias"].astype(np.complex128)
    path = tmp_path / "complex.npz"
    np.savez(path, **saved)
    model = small_net()
    before = arrays_of(model)
    with pytest.raises(ModelFileError, match="'2.bias'.*complex") as caught:
        model.load(path)
    assert str(path) in str(caught.value)
    assert_unchanged(model, before)


def _file(kind, path, good):
    """Write a bad model file of the given kind at path; good is the bytes of a valid one."""
    state = {key: np.asarray(value) for key, value in np.load(good).items()}
    if kind == "missing key":
        np.savez(path, **{key: value for key, value in state.items() if key != "2.weight"})
    elif kind == "unexpected key":
        np.savez(path, **state, extra=np.zeros(2))
    elif kind == "complex":
        np.savez(path, **{**state, "0.weight": state["0.weight"] + 0j})
    elif kind == "text":
        np.savez(path, **{**state, "0.bias": np.array(["a", "b", "c", "d"])})
    elif kind == "bytes":
        np.savez(path, **{**state, "0.bias": np.array([b"a", b"b", b"c", b"d"])})
    elif kind == "pickled object":
        np.savez(path, **{**state, "0.bias": np.array([Payload()] * 4, dtype=object)})
    elif kind == "records":
        np.savez(path, **{**state, "0.bias": np.zeros(4, dtype=[("a", "f8")])})
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        data = good.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "text file":
        path.write_text("weights: 0.1 0.2 0.3\n")
    elif kind == "single .npy":
        np.save(path.with_suffix(".npy"), state["0.weight"])
        path.with_suffix(".npy").rename(path)
    elif kind == "member cut short":  # a header declaring the right shape over too little data
        header, data = member(state["0.weight"])
        write_members(path, {**{k: member(v) for k, v in state.items()}, "0.weight": (header, data[:-8])})
    elif kind == "flipped byte":  # headers intact, data damaged: only the zip's CRC-32 tells
        data = bytearray(good.read_bytes())
        at = bytes(data).index(state["2.bias"].tobytes())
        data[at + 3] ^= 0xFF
        path.write_bytes(bytes(data))
    elif kind == "not a .npy member":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("readme.txt", "hello")
    elif kind == "damaged header":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("0.weight.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': <f8'}\n")
    return path


BAD_FILES = [
    "missing key", "unexpected key", "complex", "text", "bytes", "pickled object", "records", "empty", "truncated",
    "text file", "single .npy", "member cut short", "flipped byte", "not a .npy member", "damaged header",
]  # fmt: skip


@pytest.mark.parametrize("kind", BAD_FILES)
def test_every_bad_file_gives_one_clear_error_and_changes_nothing(tmp_path, kind):
    good = small_net().save(tmp_path / "good.npz")
    path = _file(kind, tmp_path / "bad.npz", good)
    model = small_net()
    for p in model.parameters():
        p.data = p.data * 3.0  # unlike the file's values, so an assignment would show
    before = arrays_of(model)
    with pytest.raises(ModelFileError) as caught:  # a ValueError: never KeyError, BadZipFile, EOFError, zlib.error
        model.load(path)
    assert isinstance(caught.value, ValueError)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and len(message) > len(str(path)) + 20
    assert_unchanged(model, before)
    assert _ran == []  # nothing was unpickled


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("missing key", "missing ['2.weight']"),
        ("unexpected key", "unexpected ['extra']"),
        ("complex", "complex numbers"),
        ("text", "text"),
        ("pickled object", "pickled Python objects"),
        ("empty", "empty (0 bytes)"),
        ("truncated", "cut short or damaged"),
        ("text file", "it is text, not a zip archive (it starts 'weights: 0.1"),
        ("single .npy", "a single .npy array"),
        ("member cut short", "'0.weight' declares 96 bytes of data but holds less"),
        ("flipped byte", "Bad CRC-32 for file"),
    ],
)
def test_the_error_says_what_is_wrong(tmp_path, kind, words):
    good = small_net().save(tmp_path / "good.npz")
    path = _file(kind, tmp_path / "bad.npz", good)
    with pytest.raises(ModelFileError) as caught:
        small_net().load(path)
    assert words in str(caught.value)


def test_key_errors_are_also_key_errors_as_before(tmp_path):
    path = _file("missing key", tmp_path / "bad.npz", small_net().save(tmp_path / "good.npz"))
    with pytest.raises(KeyError) as caught:
        small_net().load(path)
    assert isinstance(caught.value, StateKeysError) and not str(caught.value).startswith("'")  # no KeyError quotes


def test_a_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.npz"):
        small_net().load(tmp_path / "nowhere.npz")


def test_load_state_dict_is_all_or_nothing_too():
    model = small_net()
    before = arrays_of(model)
    state = {key: value + 1.0 for key, value in before.items()}
    state["2.bias"] = np.zeros((1, 2))
    with pytest.raises(ModelFileError, match=r"'2.bias' has shape \(1, 2\).*\(2,\)"):
        model.load_state_dict(state)
    assert_unchanged(model, before)
    model.load_state_dict({key: value + 1.0 for key, value in before.items()})
    np.testing.assert_array_equal(model.state_dict()["2.bias"], before["2.bias"] + 1.0)


# --- dtypes: real numbers are copied into the model's dtype ----------------------------------------------
def test_float32_and_float64_files_load_into_either_model(tmp_path):
    wide = nn.Linear(3, 2, seed=0)
    narrow = nn.Linear(3, 2, seed=1, dtype=np.float32)
    into_narrow = nn.Linear(3, 2, seed=2, dtype=np.float32).load(wide.save(tmp_path / "wide.npz"))
    assert into_narrow.weight.dtype == np.float32
    np.testing.assert_array_equal(into_narrow.weight.data, wide.weight.data.astype(np.float32))
    into_wide = nn.Linear(3, 2, seed=3).load(narrow.save(tmp_path / "narrow.npz"))
    assert into_wide.weight.dtype == np.float64
    np.testing.assert_array_equal(into_wide.weight.data, narrow.weight.data.astype(np.float64))


def test_batch_norm_buffers_round_trip(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4, seed=0), nn.BatchNorm1d(4))
    model(Tensor(np.random.default_rng(0).standard_normal((8, 3))))  # move the running statistics
    restored = nn.Sequential(nn.Linear(3, 4, seed=5), nn.BatchNorm1d(4)).load(model.save(tmp_path / "bn.npz"))
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(restored.state_dict()[key], value)


# --- decompression bombs --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    """Linear(3, 4)'s file, with a weight that declares 256 MiB of float64 zeros (a file of ~256 KiB)."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.npz"
    huge = {"descr": "<f8", "fortran_order": False, "shape": (1 << 25,)}
    return write_members(path, {"weight": (huge, 8 << 25), "bias": member(np.zeros(4))})


def _measure(load):
    """Seconds, peak traced Python memory and the growth of the process's peak RSS while load() runs."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(ModelFileError) as caught:
        load()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) * 1024, str(caught.value)


def test_a_decompression_bomb_is_refused_from_its_header(bomb):
    assert bomb.stat().st_size < 1 << 20
    seconds, peak, rss, message = _measure(lambda: nn.Linear(3, 4).load(bomb))
    assert "'weight' has shape (33554432,)" in message and "(3, 4)" in message and str(bomb) in message
    assert seconds < 0.5 and peak < 4 << 20 and rss < 32 << 20  # np.load: ~1 s and 256 MiB for this file


def test_readers_without_expected_shapes_have_a_cap(bomb):
    seconds, peak, _, message = _measure(lambda: read_npz(bomb, limit=64 << 20))
    assert "declare 256.0 MiB of data, more than the 64.0 MiB" in message and "decompression bomb" in message
    assert seconds < 0.5 and peak < 4 << 20
    huge = {"descr": "<f8", "fortran_order": False, "shape": (1 << 28,)}  # 2 GiB declared, over the default cap
    lying = write_members(bomb.with_name("lying.npz"), {"weight": (huge, 4096)})
    with pytest.raises(ModelFileError, match="2.0 GiB of data, more than the 1.0 GiB"):
        read_npz(lying)


def test_a_header_that_lies_about_its_size_is_refused(tmp_path):
    header, data = member(np.zeros((3, 4)))
    path = write_members(tmp_path / "m.npz", {"weight": (header, data + bytes(80)), "bias": member(np.zeros(4))})
    with pytest.raises(ModelFileError, match="declares 96 bytes of data but holds more"):
        nn.Linear(3, 4).load(path)


# --- saving is atomic ---------------------------------------------------------------------------------------
def _failing_savez(monkeypatch, name):
    def fail(stream, **arrays):
        stream.write(b"PK\x03\x04 half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, name, fail)


def test_an_interrupted_module_save_keeps_the_previous_file(tmp_path, monkeypatch):
    model = small_net()
    path = model.save(tmp_path / "net.npz")
    saved = path.read_bytes()
    _failing_savez(monkeypatch, "savez")
    with pytest.raises(OSError, match="No space"):
        small_net().save(path)
    assert path.read_bytes() == saved and sorted(p.name for p in tmp_path.iterdir()) == ["net.npz"]
    monkeypatch.undo()
    small_net().load(path)
    assert model.save(tmp_path / "no-suffix") == tmp_path / "no-suffix.npz"  # as np.savez names it


def test_an_interrupted_recommender_save_keeps_the_previous_file(tmp_path, monkeypatch, factor_model):
    path = factor_model.save(tmp_path / "rec.npz")
    saved = path.read_bytes()
    _failing_savez(monkeypatch, "savez_compressed")
    with pytest.raises(OSError, match="No space"):
        factor_model.save(path)
    assert path.read_bytes() == saved and sorted(p.name for p in tmp_path.iterdir()) == ["rec.npz"]


def test_write_npz_refuses_object_arrays(tmp_path):
    with pytest.raises(ValueError, match="Python objects"):
        write_npz(tmp_path / "x.npz", {"a": np.array([{}], dtype=object)})
    assert list(tmp_path.iterdir()) == []


# --- the recommender: arrays checked against each other ----------------------------------------------
@pytest.fixture(scope="module")
def factor_model():
    rng = np.random.default_rng(0)
    users, items = np.meshgrid(np.arange(1, 21), np.arange(1, 16), indexing="ij")
    keep = rng.random(users.shape) < 0.6
    ratings = Ratings(users[keep], items[keep], rng.integers(1, 6, keep.sum()).astype(np.float64))
    return fit_sgd(ratings, factors=3, epochs=2, progress=False)


@pytest.fixture
def saved(factor_model, tmp_path):
    path = factor_model.save(tmp_path / "model.npz")
    with np.load(path) as data:
        return {name: data[name] for name in data.files}


def _edited(arrays, field):
    """The model's arrays with one field damaged as a truncated or hand-edited file would have it."""
    a = dict(arrays)
    edits = {
        "user_factors": lambda: a["user_factors"][:-1],
        "item_factors": lambda: a["item_factors"][:, :-1],
        "user_bias": lambda: a["user_bias"][:-1],
        "item_ids": lambda: a["item_ids"][:-1],
        "user_ids": lambda: np.concatenate([a["user_ids"][:1], a["user_ids"][:-1]]),  # a repeated id
        "rated_indptr": lambda: a["rated_indptr"][:-1],
        "rated_indptr rising": lambda: a["rated_indptr"][::-1].copy(),
        "rated_indptr end": lambda: np.append(a["rated_indptr"][:-1], a["rated_indptr"][-1] + 5),
        "rated_items": lambda: a["rated_items"] + 100,
        "info": lambda: np.array('["sgd", {}]'),
        "info JSON": lambda: np.array("{not json"),
        "titles": lambda: np.array(["One", "Two"]),
        "mean": lambda: np.array(np.nan),
        "scale": lambda: np.array([5.0, 1.0]),
        "history": lambda: np.array(["x"]),
    }
    a[field.split()[0]] = edits[field]()
    return a


FIELDS = [
    "user_factors", "item_factors", "user_bias", "item_ids", "user_ids", "rated_indptr", "rated_indptr rising",
    "rated_indptr end", "rated_items", "info", "info JSON", "titles", "mean", "scale", "history",
]  # fmt: skip


@pytest.mark.parametrize("field", FIELDS)
def test_a_damaged_recommender_file_names_the_file_and_the_field(saved, tmp_path, field, capsys):
    path = tmp_path / "damaged.npz"
    np.savez_compressed(path, **_edited(saved, field))
    with pytest.raises(ModelFileError) as caught:
        FactorModel.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and field.split()[0] in message and "train and save the model" in message
    for command in (["top", "--user", "3"], ["similar", "--item", "5"]):
        assert main(["recommend", *command, "--model", str(path)]) == 2
        captured = capsys.readouterr()
        assert captured.err.startswith(f"gradlab recommend {command[0]}: {path}: ") and field.split()[0] in captured.err
        assert "Traceback" not in captured.err and captured.out == ""


@pytest.mark.parametrize("kind", ["missing", "other format", "empty", "truncated", "text file", "bomb"])
def test_unreadable_recommender_files_exit_2_naming_the_file(saved, tmp_path, kind, capsys):
    path = tmp_path / "bad.npz"
    if kind == "missing":
        np.savez_compressed(path, **{k: v for k, v in saved.items() if k != "rated_items"})
    elif kind == "other format":
        np.savez_compressed(path, **{**saved, "format": np.array("someone.else/1")})
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        good = tmp_path / "good.npz"
        np.savez_compressed(good, **saved)
        path.write_bytes(good.read_bytes()[:-200])
    elif kind == "text file":
        path.write_text("user,item,rating\n1,2,3\n")
    else:  # user_factors declares 64 MiB: refused from the headers, as it has more rows than user_ids has ids
        members = {name: member(value) for name, value in saved.items()}
        members["user_factors"] = ({"descr": "<f4", "fortran_order": False, "shape": (1 << 22, 4)}, 4 << 24)
        write_members(path, members)
    start = time.perf_counter()
    assert main(["recommend", "top", "--user", "3", "--model", str(path)]) == 2
    assert time.perf_counter() - start < 2.0
    err = capsys.readouterr().err
    assert err.startswith(f"gradlab recommend top: {path}: ") and "Traceback" not in err


def test_a_good_recommender_file_still_loads_and_answers(factor_model, tmp_path, capsys):
    path = factor_model.save(tmp_path / "model.npz")
    loaded = FactorModel.load(path)
    assert loaded.recommend(3, 3) == factor_model.recommend(3, 3) and loaded.hyper == factor_model.hyper
    assert main(["recommend", "top", "--user", "3", "-n", "2", "--model", str(path)]) == 0
    assert capsys.readouterr().out.count("predicted") == 2
