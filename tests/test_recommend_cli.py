"""`gradlab recommend` as a new user meets it: the first `top` with MovieLens 100K downloaded but no model
trained, the SVD++ rating model, and the flags that belong to one model only."""

import pytest

from gradlab.cli import main
from reference_data import HINT, SHARED_DATA

DATA = SHARED_DATA / "ml-100k"
pytestmark = pytest.mark.skipif(not (DATA / "u1.base").is_file(), reason=HINT)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A HOME whose ~/.cache/gradlab holds MovieLens 100K (as `gradlab data download movielens-100k` leaves it)."""
    cache = tmp_path / ".cache" / "gradlab"
    cache.mkdir(parents=True)
    (cache / "ml-100k").symlink_to(DATA, target_is_directory=True)
    monkeypatch.setenv("HOME", str(tmp_path))
    return cache


def run(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_first_top_fits_and_saves_the_best_ranking_model(home, capsys):
    code, text, err = run(capsys, ["recommend", "top", "--user", "196", "-n", "3"])
    assert code == 0, err
    assert "no ranking model saved yet: fitting ease on all 100,000" in text
    assert "by the ease ranking model" in text and text.count(" score ") == 3
    saved = home / "ranking.npz"
    assert saved.is_file()
    before = saved.stat().st_mtime_ns
    code, text, _ = run(capsys, ["recommend", "similar", "--item", "50", "-n", "2"])  # now read from the file
    assert code == 0 and "fitting" not in text and "Return of the Jedi" in text
    assert saved.stat().st_mtime_ns == before


def test_first_top_without_data_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    code, _, err = run(capsys, ["recommend", "top", "--user", "196"])
    assert code == 2 and "gradlab data download movielens-100k" in err and "--rating" in err
    assert not (tmp_path / ".cache" / "gradlab" / "ranking.npz").exists()


def test_svdpp_trains_from_the_command_line_and_beats_sgd(home, capsys):
    common = ["recommend", "train", "--epochs", "8", "--factors", "20", "--quiet"]
    code, text, err = run(capsys, [*common, "--model", "svdpp", "--reg-y", "0.3", "--lr-decay", "0.95"])
    assert code == 0, err
    assert "fitting svdpp on u1.base (80,000 ratings)" in text and "reg_y 0.3" in text
    svdpp_rmse = float(text.split("test on u1.test: RMSE ")[1].split()[0])
    code, text, _ = run(capsys, [*common, "--model", "sgd", "--save", str(home / "sgd.npz")])
    sgd_rmse = float(text.split("test on u1.test: RMSE ")[1].split()[0])
    assert svdpp_rmse < sgd_rmse < 1.0
    code, text, _ = run(capsys, ["recommend", "top", "--user", "196", "-n", "2", "--rating"])
    assert code == 0 and "by the svdpp rating model" in text and text.count("predicted") == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "als", "--reg-y", "1"], "--model als does not take --reg-y"),
        (["--model", "sgd", "--lr-decay", "0.9"], "--model sgd does not take --lr-decay"),
        (["--model", "svdpp", "--workers", "2"], "--workers trains SGD; --model svdpp runs on one machine"),
        (["--model", "ease", "--workers", "2"], "--workers trains SGD; --model ease runs on one machine"),
    ],
)
def test_flags_of_another_model_are_refused_before_any_work(home, capsys, argv, message):
    code, _, err = run(capsys, ["recommend", "train", *argv])
    assert code == 2 and message in err
    assert not (home / "recommender.npz").exists() and not (home / "ranking.npz").exists()


@pytest.mark.parametrize("value", ["0", "1.5", "-0.1", "nan"])
def test_lr_decay_must_lie_in_zero_one(home, capsys, value):
    with pytest.raises(SystemExit) as exit_:
        main(["recommend", "train", "--model", "svdpp", "--lr-decay", value])
    assert exit_.value.code == 2 and "--lr-decay" in capsys.readouterr().err


def test_train_reads_what_data_synth_writes_and_a_movielens_1m_folder(tmp_path, monkeypatch, capsys):
    """`--data` takes a `gradlab data synth` folder and a MovieLens 1M–25M folder, fitted whole; the model keeps
    the files' raw ids (not the loaders' dense indices), so `top` answers with the ids and titles of the files."""
    monkeypatch.setenv("HOME", str(tmp_path))
    synth = tmp_path / "synth"
    assert (
        main(["data", "synth", "--ratings", "20000", "--users", "400", "--items", "150", "--out", str(synth), "-q"])
        == 0
    )
    code, text, err = run(capsys, ["recommend", "train", "--data", str(synth), "--epochs", "3", "--quiet"])
    assert code == 0 and "(synthetic, all 20,000 ratings)" in text and "test on" not in text, err
    release = tmp_path / "ml-1m"
    release.mkdir()
    (release / "ratings.dat").write_text(
        "7::110::5::978300760\n7::260::4::978302109\n8::110::4::978301968\n8::480::2::978300275\n9::260::5::9788242\n"
    )
    (release / "movies.dat").write_text(
        "110::Braveheart (1995)::Drama\n260::Star Wars (1977)::Sci-Fi\n480::Jurassic Park (1993)::Action\n"
    )
    code, text, err = run(capsys, ["recommend", "train", "--data", str(release), "--model", "popularity"])
    assert code == 0 and "(MovieLens 1M, all 5 ratings)" in text, err
    code, text, _ = run(capsys, ["recommend", "top", "--user", "9", "-n", "1"])
    assert code == 0 and "Braveheart (1995)  [item 110]" in text  # raw id 110, the most seen film user 9 has not seen


def test_a_missing_csv_file_is_named_as_a_file(home, capsys):
    code, _, err = run(capsys, ["recommend", "train", "--data", "/no/such/ratings.csv"])
    assert code == 2 and "--data /no/such/ratings.csv: no such file" in err


def test_mistakes_a_new_user_made_get_a_sentence_not_a_silent_answer(home, tmp_path, capsys):
    """Found by an entry-point trial: --fold on data without official folds was ignored, --user abc fell back
    to the cold-start list, --model a folder advised saving a model onto the folder, and `similar` on a model
    without item factors printed its header before the error."""
    ratings = tmp_path / "r.csv"
    ratings.write_text("".join(f"{u},{i},{(u * i) % 5 + 1}\n" for u in range(1, 30) for i in range(1, 20)))
    code, _, err = run(capsys, ["recommend", "train", "--data", str(ratings), "--fold", "2"])
    assert code == 2 and f"--fold 2 picks an official split of MovieLens 100K; {ratings} is fitted whole" in err
    baseline = tmp_path / "b.npz"
    assert run(capsys, ["recommend", "train", "--model", "baseline", "--save", str(baseline)])[0] == 0
    for user in ("abc", " 196", "196.0"):
        code, text, err = run(capsys, ["recommend", "top", "--user", user, "--model", str(baseline)])
        assert code == 2 and "this model's user ids are whole numbers" in err and not text
    code, text, err = run(capsys, ["recommend", "top", "--user", "196", "--model", str(tmp_path)])
    assert code == 2 and "is a folder; give the model file (.npz)" in err and "--save" not in err.split(";")[0]
    code, text, err = run(capsys, ["recommend", "similar", "--item", "50", "--model", str(baseline)])
    assert code == 2 and "no item factors" in err and "because you watched" not in text
    with pytest.raises(SystemExit):  # k = 5000 ran for hours in ALS
        main(["recommend", "train", "--model", "als", "--factors", "5000"])
    assert "--factors: must be a whole number from 0 to 1000, got 5000" in capsys.readouterr().err
