"""Every command the way a new user reaches it: bad arguments, unwritable paths, diverging runs and
long work end in one clear sentence (with the sub-command's usage where an argument was wrong), never a
traceback; every option says its default; long training shows rate, elapsed time and time left."""

import argparse
import io
import os
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gradlab.cli as cli
from gradlab.cli import build_parser, main, plural
from gradlab.nn import training
from gradlab.progress import clock


def run(capsys, *argv):
    """(exit code, stdout, stderr) of `gradlab argv…`, with argparse's SystemExit turned into its code."""
    try:
        code = main(list(argv))
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub
                for inner, subsub in subparsers(sub):
                    yield f"{name} {inner}", subsub


def test_every_option_has_help_that_names_its_default():
    missing = []
    for name, sub in subparsers(build_parser()):
        for action in sub._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            text = action.help or ""
            if not text:
                missing.append(f"{name} {action.dest}: no help")
            elif action.option_strings and not action.required and action.default not in (None, False):
                if "default" not in text:
                    missing.append(f"{name} {action.option_strings[0]}: default {action.default!r} not stated")
    assert not missing, "\n".join(missing)


def test_the_top_level_help_says_the_lab_opens_a_browser_only_with_open(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    lab = text[text.index(" lab ") :]
    assert lab.startswith(" lab serve the interactive lab at http://127.0.0.1:8765")
    assert "--open also opens a browser" in lab


def test_race_refuses_an_unwritable_figure_before_computing(capsys, monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("the race ran although its figure could not be written")

    monkeypatch.setattr("gradlab.optim.race", must_not_run)
    code, _, err = run(capsys, "race", "rosenbrock", "--figure", "/no/such/dir/x.png")
    assert code == 2
    assert "usage: gradlab race" in err and "/no/such/dir does not exist" in err


def test_race_writes_its_figure_and_table(capsys, tmp_path):
    figure = tmp_path / "race.png"
    code, out, _ = run(capsys, "race", "booth", "--steps", "50", "--lr", "0.05", "--figure", str(figure))
    assert code == 0 and figure.stat().st_size > 10_000
    assert "sgd" in out and f"figure written to {figure}" in out


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["race", "nope"], "invalid choice: 'nope'"),
        (["race", "rosenbrock", "--optimizers", "sgd,bogus"], "unknown optimizer 'bogus'"),
        (["race", "rosenbrock", "--optimizers", ","], "at least one name"),
        (["race", "rosenbrock", "--start", "nan", "1"], "must be a finite number, got nan"),
        (["race", "rosenbrock", "--lr", "inf"], "must be a finite number"),
        (["race", "rosenbrock", "--steps", "100001"], "limited to 100000"),
        (["race", "rosenbrock", "--figure", "2.5"], "needs a picture format as its ending"),
        (["race", "rosenbrock", "--steps", "ten"], "must be a positive whole number, got 'ten'"),
        (["price", "--a", "nan", "--b", "2", "--cost", "1"], "must be a finite number, got nan"),
        (["price", "--demand", "exponential", "--a", "100", "--cost", "1"], "needs --b"),
        (["price", "--demand", "elasticity", "--a", "100", "--cost", "1"], "needs --elasticity"),
        (["demo", "--lr", "-1"], "must be a positive number"),
        (["demo", "--seed", "-1"], "must be a whole number >= 0, got -1"),
        (["recommend", "train", "--seed", "-1"], "must be a whole number >= 0, got -1"),
        (["train", "mnist", "--save", "/no/such/dir/w.npz"], "/no/such/dir does not exist"),
        (["recommend", "train", "--save", "/no/such/dir/m.npz"], "/no/such/dir does not exist"),
        (["lab", "--port", "0"], "between 1 and 65535"),
        (["lab", "--port", "abc"], "a port is a whole number, got 'abc'"),
        (["lessons", "--port", "99999"], "a port lies between 1 and 65535, got 99999"),
    ],
)
def test_a_bad_argument_prints_the_sub_commands_usage_and_a_sentence(capsys, argv, said):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert f"usage: gradlab {argv[0]}" in err, err
    assert said in err, err


def test_the_unknown_optimizer_is_caught_before_the_first_one_runs(capsys, monkeypatch):
    calls = []
    monkeypatch.setattr("gradlab.optim.race", lambda *a, **k: calls.append(a))
    run(capsys, "race", "rosenbrock", "--optimizers", "sgd,bogus", "--figure", "none")
    assert calls == []


def test_a_race_from_far_away_reports_divergence_without_numpy_warnings(capsys, recwarn):
    code, out, err = run(capsys, "race", "rosenbrock", "--start", "1e308", "1e308", "--steps", "5", "--figure", "none")
    assert code == 0 and "yes, from step 0" in out
    assert "RuntimeWarning" not in err and ".py:" not in err
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_price_reads_right_and_refuses_overflowing_numbers(capsys):
    code, out, _ = run(capsys, "price", "--a", "100", "--b", "2", "--cost", "10")
    assert code == 0 and "best price: 30" in out and "in 1 step\n" in out
    code, _, err = run(capsys, "price", "--a", "1e308", "--b", "1e-308", "--cost", "1")
    assert code == 2 and "overflow" in err and "inf" not in err.split(":")[0]


def test_plural():
    assert (plural(0, "step"), plural(1, "step"), plural(2, "step")) == ("0 steps", "1 step", "2 steps")


def test_the_demo_says_when_it_diverged(capsys):
    code, out, _ = run(capsys, "demo", "--lr", "50", "--epochs", "100")
    assert code == 1
    assert re.search(r"diverged: the loss went from 0\.8\d+ to [\d.e+]+ instead of falling", out)
    assert "smaller --lr" in out
    code, out, _ = run(capsys, "demo", "--epochs", "100")
    assert code == 0 and "diverged" not in out


def test_a_demo_with_an_absurd_rate_stops_at_the_first_non_finite_loss(capsys):
    code, out, _ = run(capsys, "demo", "--lr", "1e300", "--epochs", "50")
    assert code == 1 and "diverged" in out and "nan" not in out.split("diverged")[0]


@pytest.fixture
def ratings_csv(tmp_path):
    """A small user,item,rating file: 40 users × 30 items, ratings from a rank-2 model plus noise."""
    rng = np.random.default_rng(0)
    users, items = rng.normal(size=(40, 2)), rng.normal(size=(30, 2))
    lines = ["user,item,rating"]
    for u in range(40):
        for i in rng.choice(30, 12, replace=False):
            lines.append(f"u{u},m{i},{np.clip(np.round(3 + users[u] @ items[i]), 1, 5):.0f}")
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_recommend_train_that_diverges_says_lower_lr_and_keeps_the_old_model(capsys, tmp_path, ratings_csv):
    model = tmp_path / "model.npz"
    code, _, _ = run(capsys, "recommend", "train", "--data", str(ratings_csv), "--save", str(model), "--quiet")
    assert code == 0
    before = model.read_bytes()
    code, _, err = run(
        capsys, "recommend", "train", "--data", str(ratings_csv), "--lr", "500", "--save", str(model), "--quiet"
    )
    assert code == 1
    assert "diverged" in err and "lower --lr" in err and "nothing was saved" in err
    assert model.read_bytes() == before


def test_recommend_train_on_a_file_without_ratings_names_it(capsys, tmp_path):
    path = tmp_path / "noise.csv"
    path.write_bytes(b"\xff\xfe\x00garbage")
    code, out, err = run(capsys, "recommend", "train", "--data", str(path), "--save", str(tmp_path / "m.npz"))
    assert code == 2 and f"{path}: no ratings could be read" in err and "fitting" not in out


def test_ctrl_c_ends_a_command_with_a_sentence_and_exit_130(capsys, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_race", interrupted)
    code, _, err = run(capsys, "race", "booth", "--figure", "none")
    assert code == 130 and "gradlab race: interrupted" in err


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_progress_in_a_log_prints_rate_elapsed_and_time_left_every_ten_seconds(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(training.time, "perf_counter", clock)
    log = io.StringIO()  # not a terminal
    progress = training._Progress(total=100, epochs=2, enabled=True, unit="images", stream=log)
    for batch in range(1, 101):  # one batch of 128 images every 0.5 s: 50 s per epoch
        clock.now += 0.5
        progress.update(batch, batch * 128, loss=0.5, accuracy=0.9)
    lines = log.getvalue().splitlines()
    assert len(lines) == 4  # at 10, 20, 30 and 40 s (the epoch's end gets its own summary line)
    first = lines[0]
    assert "epoch 1/2" in first and "20/100" in first
    assert "256 images/s" in first  # 20 batches × 128 images in 10 s
    assert "0:10 elapsed" in first and "0:40 left" in first and "(run 1:30)" in first
    assert "\r" not in log.getvalue()


def test_progress_on_a_terminal_redraws_one_line():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    progress = training._Progress(total=3, epochs=1, enabled=True, stream=screen, interval=0.0)
    progress.pace.every = 0.0  # every update is due
    progress.update(1, 10, 1.0, None)
    progress.finish({"loss": 1.0, "seconds": 0.2})
    text = screen.getvalue()
    assert text.startswith("\repoch 1/1") and "examples/s" in text and text.endswith("\n")


def test_clock():
    assert (clock(5), clock(65), clock(3725), clock(-1)) == ("0:05", "1:05", "1:02:05", "0:00")


# A fuzz over the commands that compute (derive has its own, in test_derive_cli.py): hostile values in
# every position. Each case must end with exit 0, 1 or 2 and no traceback.
HOSTILE = ["0", "-1", "1", "nan", "inf", "-inf", "1e308", "-1e-308", "", "x", "2.5", "/no/such/dir/f.png", "none"]


@st.composite
def command_lines(draw):
    command = draw(st.sampled_from(["race", "price", "demo", "recommend top", "recommend similar"]))
    argv = command.split()
    options = {
        "race": ["--optimizers", "--lr", "--steps", "--start", "--figure"],
        "price": ["--demand", "--a", "--b", "--elasticity", "--cost", "--method"],
        "demo": ["--epochs", "--lr", "--seed"],
        "recommend top": ["--user", "-n", "--model"],
        "recommend similar": ["--item", "-n", "--model"],
    }[command]
    if command == "race":
        argv.append(draw(st.sampled_from(["rosenbrock", "saddle", "nope", ""])))
    for option in draw(st.lists(st.sampled_from(options), max_size=4, unique=True)):
        argv.append(option)
        argv += draw(st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=2 if option == "--start" else 1))
    if command in ("race", "demo"):  # keep each case short: the work bound is tested elsewhere
        argv += ["--steps", "20"] if command == "race" else ["--epochs", "20"]
    return argv


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 120)),
    derandomize=os.environ.get("FUZZ_DERANDOMIZE", "1") == "1",  # the same cases in CI; wider runs on request
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(argv=command_lines())
def test_fuzzed_command_lines_never_end_in_a_traceback(capsys, tmp_path_factory, monkeypatch, argv):
    monkeypatch.chdir(tmp_path_factory.getbasetemp())
    code, _, _ = run(capsys, *argv)
    assert code in (0, 1, 2)


def test_recommend_train_help_states_the_real_defaults():
    """The help text names each method's defaults without importing the recommender; this keeps them in step."""
    from gradlab.apps.recommender import DEFAULTS

    train = dict(subparsers(build_parser()))["recommend train"]
    helps = {action.dest: " ".join(action.help.split()) for action in train._actions}
    for dest, key in (("factors", "factors"), ("epochs", "epochs"), ("reg", "reg"), ("reg_bias", "reg_bias")):
        for method, values in DEFAULTS.items():
            if key in values:
                assert f"{method} {values[key]:g}" in helps[dest], (dest, method, helps[dest])
    assert f"default {DEFAULTS['sgd']['lr']:g}" in helps["lr"]


def test_small_matrix_commands_run_with_one_blas_thread(monkeypatch, capsys):
    """GAN, diffusion and policy-gradient training run 10-20x faster single-threaded; the MNIST command keeps
    BLAS's own choice."""
    from threadpoolctl import threadpool_info

    seen = {}

    def spy(parser, args):
        seen[args.command] = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
        return 0

    monkeypatch.setattr(cli, "_dispatch", spy)
    assert main(["gan", "ring"]) == 0 and main(["demo"]) == 0
    assert seen["gan"] and set(seen["gan"]) == {1} and set(seen["demo"]) == {1}
    before = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    main(["train", "mnist", "--epochs", "1"])
    assert seen["train"] == before


def test_pace_redraws_a_terminal_often_and_writes_a_log_seldom():
    """The one rule behind training's, downloads' and the synthetic writer's progress lines."""
    from gradlab.progress import Pace

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    now = [0.0]
    terminal, log = Pace(Terminal(), interval=10, redraw=0.1, clock=lambda: now[0]), Pace(io.StringIO(), 10)
    log.clock = terminal.clock
    log.restart()
    assert terminal.tty and not log.tty and Pace(None).tty is False
    now[0] = 0.05
    assert not terminal.due() and not log.due()
    now[0] = 0.2
    assert terminal.due() and not terminal.due() and not log.due()  # due once, then the wait starts again
    now[0] = 10.5
    assert log.due() and not log.due()
