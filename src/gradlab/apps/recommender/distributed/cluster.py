"""Joining or starting a Ray cluster for one fit, and leaving it as it was found.

    with Cluster(address=None, workers=2) as cluster:   # None: a local cluster started for this fit
        ...                                             # cluster.address, cluster.cpus, cluster.started
Ray is the optional extra gradlab[distributed]: without it, require_ray() says how to install it.
"""

from __future__ import annotations

import os
import socket
import sys

INSTALL = "pip install 'gradlab[distributed]'"
# More workers than cores only share the cores (a way to study staleness); far more only fill the memory
# (a worker process is ~110 MB before its data) and flood Ray's scheduler (99 on 2 cores: 200 s an epoch).
LOCAL_WORKERS_A_CORE = 4


class RayMissingError(ImportError):
    """Ray is not installed: the distributed trainers need the optional extra."""


class WorkerLostError(RuntimeError):
    """A worker process died and the fit could not go on: no model is returned, never a half-trained one."""


def require_ray():
    """The ray module, or RayMissingError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise RayMissingError(
            f"the distributed trainers (--workers) need Ray, an optional extra: {INSTALL}; "
            "without --workers the one-machine trainer needs nothing more"
        ) from None
    return ray


class Cluster:
    """A Ray connection for the length of a `with` block.

    address None starts a local cluster with max(workers, cores) CPU slots (each worker takes one slot;
    more workers than cores share them) and shuts it down at the end; an address ("ray://host:10001",
    "auto", "host:6379") joins that cluster and leaves it running. A Ray already initialised in this
    process (a test session, a notebook) is used as it is and left running.
    """

    def __init__(self, address: str | None, workers: int):
        self.requested, self.workers = address, workers
        self.started = False
        self.address = address or "local"

    def __enter__(self) -> Cluster:
        ray = require_ray()
        # a cluster started here only listens on this machine: no token to write or to share
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        if not sys.stdout.isatty():  # Ray colours its own messages; in a log file the colour codes are noise
            os.environ.setdefault("RAY_COLOR_PREFIX", "0")
        if not ray.is_initialized():
            options = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
            if self.requested is None:
                cores = os.cpu_count() or 1
                if self.workers > LOCAL_WORKERS_A_CORE * cores:
                    raise ValueError(
                        f"--workers {self.workers}: a local cluster runs at most {LOCAL_WORKERS_A_CORE * cores} "
                        f"workers on this machine's {cores} cores ({LOCAL_WORKERS_A_CORE} a core: each worker is a "
                        f"process of ~110 MB with its own share of a core); use --workers {cores}, or join a "
                        "cluster with more CPUs (--address)"
                    )
                if self.workers > cores:
                    print(
                        f"note: {self.workers} workers on this machine's {cores} cores share them: each runs "
                        f"slower, and starting them takes a while; --workers {cores} is usually fastest here",
                        file=sys.stderr,
                    )
                ray.init(num_cpus=max(self.workers, cores), **options)
            else:
                _check_reachable(self.requested)
                try:
                    ray.init(address=self.requested, **options)
                except (ConnectionError, ValueError, RuntimeError) as error:
                    raise ConnectionError(
                        f"--address {self.requested}: could not join the Ray cluster ({error}); start one with "
                        "`ray start --head` and pass its address, or leave --address out for a local cluster"
                    ) from None
            self.started = True
        context = ray.get_runtime_context()
        if self.requested is None and not self.started:
            self.address = "existing Ray session"
        elif self.requested is not None:
            self.address = self.requested
        self.node = context.get_node_id()
        self.cpus = int(ray.cluster_resources().get("CPU", 0))
        if self.cpus < self.workers:
            self.__exit__(None, None, None)
            raise ValueError(
                f"--workers {self.workers}: the Ray cluster ({self.address}) has {self.cpus} CPUs and each worker "
                f"takes one; ask for at most {self.cpus} workers, or add nodes to the cluster"
            )
        return self

    def __exit__(self, *exc) -> None:
        if self.started:
            require_ray().shutdown()
            self.started = False


def _check_reachable(address: str, seconds: float = 5.0) -> None:
    """Fail fast on a host:port nobody answers on: joining one, Ray retries for minutes without a word."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # "auto", or an address without a port: Ray resolves it
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except OSError as error:
        raise ConnectionError(
            f"--address {address}: nothing answers at {host}:{port} ({error.strerror or error}); start a cluster "
            "with `ray start --head` and pass the address it prints, or leave --address out for a local cluster"
        ) from None


def kill_all(actors) -> None:
    """End the fit's actors (on success, on Ctrl-C, on a failure), never anyone else's."""
    ray = require_ray()
    for actor in actors:
        try:
            ray.kill(actor, no_restart=True)
        except Exception:  # an actor already gone is what we wanted
            pass
