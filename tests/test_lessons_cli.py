"""`gradlab lessons`: copies the notebooks into the learner's folder without overwriting their work, and starts
JupyterLab on 127.0.0.1 only, on the port asked for."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import gradlab.lessons_cli as lessons_cli
from gradlab.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p.name for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def launched(monkeypatch):
    calls = []

    def fake_launch(argv):
        calls.append(argv)
        return 0

    monkeypatch.setattr(lessons_cli, "launch", fake_launch)
    return calls


def test_lessons_are_copied_and_jupyterlab_listens_on_this_machine_only(tmp_path, launched, capsys):
    folder = tmp_path / "my lessons"
    port = free_port()
    assert main(["lessons", "--dir", str(folder), "--port", str(port), "--no-browser"]) == 0
    assert sorted(p.name for p in folder.glob("*.ipynb")) == SHIPPED
    assert not (folder / "solutions").exists()
    for name in SHIPPED:
        assert (folder / name).read_bytes() == (ROOT / "lessons" / name).read_bytes()
    [argv] = launched
    assert "--ServerApp.ip=127.0.0.1" in argv and not any("0.0.0.0" in a for a in argv)
    assert f"--ServerApp.port={port}" in argv and "--ServerApp.port_retries=0" in argv
    assert f"--ServerApp.root_dir={folder}" in argv and "--no-browser" in argv
    out = capsys.readouterr().out
    assert f"copied into {folder}: 00_tour" in out and f"http://127.0.0.1:{port}/lab" in out


def test_by_default_the_browser_opens_on_port_8888_in_the_home_folder(tmp_path, launched, monkeypatch):
    args = build_parser().parse_args(["lessons"])
    assert (args.port, args.no_browser, args.dir) == (8888, False, "~/gradlab-lessons")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(lessons_cli, "_busy", lambda port: None)
    assert main(["lessons"]) == 0
    [argv] = launched
    assert "--no-browser" not in argv and "--ServerApp.port=8888" in argv
    assert f"--ServerApp.root_dir={tmp_path / 'gradlab-lessons'}" in argv
    assert sorted(p.name for p in (tmp_path / "gradlab-lessons").glob("*.ipynb")) == SHIPPED


def test_an_edited_notebook_is_kept_and_an_untouched_one_follows_the_lesson(tmp_path, launched, monkeypatch, capsys):
    source, folder = tmp_path / "shipped", tmp_path / "mine"
    source.mkdir()
    for name in ("00_a.ipynb", "01_b.ipynb", "02_c.ipynb"):
        (source / name).write_text(f"lesson {name} v1")
    monkeypatch.setattr(lessons_cli, "lessons_source", lambda: source)
    argv = ["lessons", "--dir", str(folder), "--port", str(free_port()), "--no-browser"]
    assert main(argv) == 0
    (folder / "01_b.ipynb").write_text("my answers")  # the learner's work
    (source / "00_a.ipynb").write_text("lesson 00_a v2")  # gradlab updated two lessons
    (source / "01_b.ipynb").write_text("lesson 01_b v2")
    (folder / "02_c.ipynb").unlink()  # the learner wants a fresh copy
    capsys.readouterr()
    assert main(argv) == 0
    assert (folder / "01_b.ipynb").read_text() == "my answers"
    assert (folder / "00_a.ipynb").read_text() == "lesson 00_a v2"
    assert (folder / "02_c.ipynb").read_text() == "lesson 02_c.ipynb v1"
    out = capsys.readouterr().out
    assert "kept your own copy of: 01_b" in out
    assert "updated (you had not changed them): 00_a" in out and f"copied into {folder}: 02_c" in out
    assert len(launched) == 2


def test_a_busy_port_is_named_before_anything_starts(tmp_path, launched, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["lessons", "--dir", str(tmp_path), "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"port {port} on 127.0.0.1 is busy" in err and f"--port {port + 1}" in err
    assert launched == [] and not list(tmp_path.glob("*.ipynb"))


def test_missing_jupyterlab_says_how_to_install_it(tmp_path, launched, monkeypatch, capsys):
    real = lessons_cli.importlib.util.find_spec
    monkeypatch.setattr(
        lessons_cli.importlib.util, "find_spec", lambda name, *a: None if name == "jupyterlab" else real(name, *a)
    )
    assert main(["lessons", "--dir", str(tmp_path)]) == 1
    assert "needs JupyterLab, which is not installed: pip install jupyterlab" in capsys.readouterr().err
    assert launched == []


def test_a_file_in_place_of_the_folder_is_refused(tmp_path, launched, capsys):
    (tmp_path / "notes").write_text("")
    assert main(["lessons", "--dir", str(tmp_path / "notes"), "--port", str(free_port())]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err and launched == []


def test_a_bad_port_is_refused_with_the_usage(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["lessons", "--port", "70000"])
    assert stop.value.code == 2 and "a port lies between 1 and 65535, got 70000" in capsys.readouterr().err


def test_jupyterlab_really_starts_and_serves_the_lessons(tmp_path):
    pytest.importorskip("jupyterlab")
    port, token = free_port(), "lessons-test-token"
    home = tmp_path / "jupyter"
    env = dict(
        os.environ,
        JUPYTER_TOKEN=token,
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
    )
    command = [sys.executable, "-c", "from gradlab.cli import main; raise SystemExit(main())", "lessons"]
    command += ["--dir", str(tmp_path / "lessons"), "--port", str(port), "--no-browser"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"{base}/lab?token={token}", timeout=5) as page:
                    status, final = page.status, page.url
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        assert server.poll() is None, f"JupyterLab stopped:\n{server.stdout.read()}"
        assert status == 200 and "/login" not in final
        with urllib.request.urlopen(f"{base}/api/contents?token={token}", timeout=10) as listing:
            names = sorted(item["name"] for item in json.load(listing)["content"] if item["name"].endswith(".ipynb"))
        assert names == SHIPPED
    finally:
        server.terminate()  # SIGTERM: how a service manager stops it (Ctrl-C at a terminal stops it without asking)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            pytest.fail(f"JupyterLab did not stop within 30 s of SIGTERM:\n{server.communicate()[0]}")
