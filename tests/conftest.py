"""Shared fixtures: MovieLens 100K's split 1 for the recommender tests, and the lab's browser tests
(tests/test_lab_browser.py).

The lab's server runs in a background thread on a free 127.0.0.1 port for the whole session, and
pytest-playwright drives the system's Chromium (Debian's `chromium` package), never a browser
downloaded by `playwright install`.
"""

from __future__ import annotations

import shutil
import socket
import threading
from pathlib import Path

import pytest

from reference_data import HINT, SHARED_DATA

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """pytest-playwright: launch the system's Chromium; keep WebGL (the 3-D surface needs it)."""
    return {
        "executable_path": str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium"),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A desktop-sized window, so the screenshots show the layout a teacher would see."""
    return {**browser_context_args, "viewport": {"width": 1440, "height": 1000}}


@pytest.fixture(scope="session")
def lab_url():
    """Base URL of the lab, served by uvicorn in a background thread for the whole session."""
    uvicorn = pytest.importorskip("uvicorn")
    from gradlab.lab import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    class Server(uvicorn.Server):
        """uvicorn's server, telling when it listens."""

        def __init__(self, config):
            super().__init__(config)
            self.ready = threading.Event()

        async def startup(self, sockets=None):
            await super().startup(sockets=sockets)
            self.ready.set()

    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
    server = Server(config)
    thread = threading.Thread(target=server.run, name="lab-server", daemon=True)
    thread.start()
    if not server.ready.wait(timeout=30) or not server.started:
        pytest.fail(f"the lab's server did not start on 127.0.0.1:{port}")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """artifacts/ at the repository's root (git-ignored): the views' screenshots go there."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def split():
    """MovieLens 100K's split 1 as (train, test) Ratings (u1.base, u1.test), loaded once per test file;
    the test is skipped, with a hint, where the shared reference data is absent."""
    from gradlab.data.movielens import load_split

    folder = SHARED_DATA / "ml-100k"
    if not (folder / "u1.base").is_file() or not (folder / "u1.test").is_file():
        pytest.skip(f"MovieLens 100K is not at {folder} (the shared reference data folder): {HINT}")
    return load_split(folder, 1)
