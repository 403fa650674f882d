"""The command line and the demo it runs."""

import io
import subprocess
import sys

import pytest

import gradlab
from gradlab.cli import main
from gradlab.demo import run, two_moons


def test_version_flag():
    out = subprocess.run([sys.executable, "-m", "gradlab.cli", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"gradlab {gradlab.__version__}"


def test_demo_learns_the_two_moons():
    out = io.StringIO()
    accuracy = run(epochs=150, out=out).accuracy
    text = out.getvalue()
    assert accuracy >= 0.95
    assert "150/150" in text and "decision regions" in text
    losses = [float(line.split("loss ")[1].split()[0]) for line in text.splitlines() if "loss " in line]
    assert losses[-1] < losses[0] / 3


def test_two_moons_is_balanced_and_seeded():
    x1, y1 = two_moons(seed=3)
    x2, _ = two_moons(seed=3)
    assert x1.shape == (400, 2) and y1.sum() == 200
    assert (x1 == x2).all()


def test_bad_arguments_are_refused_with_a_message(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--epochs", "0"])
    assert "positive whole number" in capsys.readouterr().err
