"""The interactive lab: `gradlab lab` serves a page on 127.0.0.1 that works fully offline.

Five views, every number computed by gradlab: derivatives (f, f', the tangent, finite
differences), gradient descent on a landscape, the optimizer race, backprop flow (a network
training live on a toy data set) and the computation graph of a typed formula.

    add_lab_command(subparsers)   adds the `lab` sub-command (--host, --port, --open, --workers)
    run(args) -> int              serves until Ctrl-C
    create_app()                  the ASGI app (FastAPI), e.g. for tests
"""

from __future__ import annotations

import argparse
import sys
import threading
import webbrowser

from .. import argtypes
from ..netcheck import port_problem

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "DEFAULT_WORKERS", "add_lab_command", "create_app", "main", "run"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_WORKERS = 2  # worker processes for heavy work (measured: benchmarks/lab_concurrency.py)


def create_app(*args, **kwargs):
    """The lab's FastAPI app (imported lazily: the rest of gradlab does not need the web stack)."""
    from .app import create_app as make

    return make(*args, **kwargs)


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the number of workers is a whole number, got {text!r}") from None
    if not 0 <= value <= 64:
        raise argparse.ArgumentTypeError(f"the number of workers lies between 0 and 64, got {value}")
    return value


def add_lab_command(subparsers) -> argparse.ArgumentParser:
    """Add `lab` to an argparse sub-parser set (the `gradlab` command's `commands`)."""
    lab = subparsers.add_parser(
        "lab",
        help=f"serve the interactive lab at http://{DEFAULT_HOST}:{DEFAULT_PORT} for your browser "
        "(works offline; --open also opens a browser)",
        description="Serve the interactive lab: derivatives, gradient descent, the optimizer race, "
        "backprop flow and computation graphs, all computed by gradlab. Stop with Ctrl-C.",
    )
    lab.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST}: this machine only)"
    )
    lab.add_argument("--port", type=argtypes.port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    lab.add_argument("--open", action="store_true", help="open the lab in the default web browser")
    lab.add_argument(
        "--workers",
        type=_workers,
        default=DEFAULT_WORKERS,
        help=f"worker processes for optimizer runs and training, so many users can share the lab "
        f"(default {DEFAULT_WORKERS}; 0: everything in the server's process)",
    )
    return lab


def _allowed_hosts(host: str):
    from .app import LOOPBACK_HOSTS

    if host in ("0.0.0.0", "::", ""):
        return None  # reachable under any name: the Host check cannot know them
    return (*LOOPBACK_HOSTS, host)


def run(args) -> int:
    """Serve the lab on args.host:args.port until Ctrl-C; with args.open, open it in the browser."""
    try:
        import uvicorn

        from .app import create_app as make
    except ImportError as error:
        print(
            f"gradlab lab needs the web stack ({error.name} is missing): pip install fastapi uvicorn plotly",
            file=sys.stderr,
        )
        return 1
    host, port = args.host, args.port
    try:
        app = make(allowed_hosts=_allowed_hosts(host), workers=getattr(args, "workers", DEFAULT_WORKERS))
    except RuntimeError as error:
        print(f"gradlab lab: {error}", file=sys.stderr)
        return 1
    problem = port_problem(host, port)
    if problem is not None:
        print(
            f"gradlab lab: cannot listen on {host}:{port} ({problem}); check --host, or try another --port",
            file=sys.stderr,
        )
        return 1
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=2,
    )

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):  # Ctrl-C: let open training streams finish first
            app.state.closing.set()
            super().handle_exit(sig, frame)

    server = Server(config)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else shown}:{port}/"
    hint = "" if getattr(args, "open", False) else "; open that address in a web browser"
    print(f"gradlab lab: serving on {url}  (Ctrl-C to stop{hint})")
    if host not in ("127.0.0.1", "localhost", "::1"):
        print("gradlab lab: note: other machines on your network can reach this address", file=sys.stderr)
    if getattr(args, "open", False):

        def open_when_ready():
            while not server.started and not server.should_exit:
                threading.Event().wait(0.05)
            if server.started:
                webbrowser.open(url)

        threading.Thread(target=open_when_ready, daemon=True).start()
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    print("gradlab lab: stopped")
    return 0


def main(argv=None) -> int:
    """`python -m gradlab.lab [--host H] [--port P] [--open]`."""
    parser = argparse.ArgumentParser(prog="python -m gradlab.lab")
    commands = parser.add_subparsers(dest="command")
    add_lab_command(commands)
    args = parser.parse_args(["lab", *(sys.argv[1:] if argv is None else argv)])
    return run(args)
