"""The distributed recommender on Ray: DSGD's conflict-free blocks, both trainers against the serial
fit, a worker lost mid-epoch, the command line's flags. Ray starts once for the file, locally, 2 CPUs."""

import io
import sys

import numpy as np
import pytest

from gradlab.apps.recommender import fit_baseline, fit_sgd
from gradlab.apps.recommender.distributed import (
    ALGORITHMS,
    INSTALL,
    RayMissingError,
    WorkerLostError,
    train_distributed,
)
from gradlab.apps.recommender.distributed.blocks import Layout, assign_strata, dsgd_schedule, partition
from gradlab.apps.recommender.distributed.command import run_train_distributed
from gradlab.apps.recommender.model import FactorModel
from gradlab.apps.recommender_cli import wants_distributed
from gradlab.cli import build_parser, main
from reference_data import HINT, SHARED_DATA

DATA = SHARED_DATA / "ml-100k"


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray cluster for the whole file (starting one takes ~10 s): two CPUs, no dashboard."""
    ray = pytest.importorskip("ray", reason="Ray is the optional extra gradlab[distributed]")
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()
    monkeypatch.undo()


@pytest.fixture(scope="module")
def serial(split):
    return fit_sgd(split[0], progress=False).evaluate(split[1]).rmse


# --- the partition (no Ray) --------------------------------------------------------------------------------
def test_dsgd_blocks_of_a_sub_epoch_share_no_user_and_no_item(split):
    """In every sub-epoch the N blocks being updated touch disjoint users and disjoint items, and over an
    epoch every rating is in exactly one block (checked on the ratings themselves, not on the indices)."""
    train = split[0]
    u, i = np.unique(train.user, return_inverse=True)[1], np.unique(train.item, return_inverse=True)[1]
    for workers in (2, 3, 4):
        layout = Layout.cut(u, i, u.max() + 1, i.max() + 1, workers, workers, seed=workers)
        parts = [partition(u, i, train.rating, layout, w) for w in range(workers)]
        blocks = {}
        for w, part in enumerate(parts):
            users, items = layout.users_of(w)[part.users], np.empty(len(part.items), dtype=np.int64)
            for b in range(workers):
                lo, hi = part.offsets[b], part.offsets[b + 1]
                items[lo:hi] = layout.items_of(b)[part.items[lo:hi]]
                blocks[w, b] = users[lo:hi], items[lo:hi], part.ratings[lo:hi]
        for schedule in (dsgd_schedule(workers, np.random.default_rng(s)) for s in range(3)):
            assert all(sorted(row) == list(range(workers)) for row in schedule)
            seen = []
            for sub_epoch in schedule:
                running = [blocks[w, int(b)] for w, b in enumerate(sub_epoch)]
                seen += running
                for a in range(workers):
                    for c in range(a + 1, workers):
                        assert not set(running[a][0]) & set(running[c][0]), "two blocks share a user"
                        assert not set(running[a][1]) & set(running[c][1]), "two blocks share an item"
            triples = sorted(zip(*(np.concatenate(x) for x in zip(*seen))))
            assert triples == sorted(zip(u, i, train.rating.astype(np.float32))), "an epoch must visit each rating once"


def _one_block_worker(split, chunk, compact, monkeypatch, lr=0.01):
    """A BlockWorker (no Ray) on user stratum 0 of u1.base cut 2 × 2, its ratings' local indices uint16 (as
    partition() makes them) or int32 (the plain path), and CHUNK ratings a chunk."""
    from gradlab.apps.recommender.distributed import worker

    monkeypatch.setattr(worker, "CHUNK", chunk)
    train = split[0]
    u, i = np.unique(train.user, return_inverse=True)[1], np.unique(train.item, return_inverse=True)[1]
    layout = Layout.cut(u, i, u.max() + 1, i.max() + 1, 2, 2, seed=0)
    part = partition(u, i, train.rating, layout, 0, seed=0)
    assert part.users.dtype == part.items.dtype == np.uint16  # 943 users, 1,650 items: they fit in 16 bits
    if not compact:
        part = part._replace(users=part.users.astype(np.int32), items=part.items.astype(np.int32))
    hyper = {"lr": lr, "reg": 0.02, "reg_bias": 0.02, "init_std": 0.1, "factors": 8, "dtype": "float32"}
    bw = worker.BlockWorker(0, part, len(layout.users_of(0)), 3.5, hyper, seed=0)
    q = np.random.default_rng(1).normal(0, 0.1, (len(layout.items_of(1)), 8)).astype(np.float32)
    return bw, q, np.zeros(len(q))


def test_compact_local_indices_give_the_fit_of_int32_ones(split, monkeypatch):
    """partition() stores local indices as uint16 when a stratum has at most 65,536 rows (10 bytes a rating
    in the object store instead of 12): the compiled pass gives bit for bit the plain int32 path's result."""
    results = []
    for compact in (True, False):
        bw, q, item_bias = _one_block_worker(split, 2**20, compact, monkeypatch)
        squared = [bw.run_block(epoch, 1, q, item_bias) for epoch in (1, 2)]
        results.append((squared, bw.p, bw.user_bias, q, item_bias))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_a_block_run_chunk_by_chunk_visits_each_rating_once(split, monkeypatch):
    """With lr = 0 a block's pass returns Σ e² over the ratings it visited: chunk by chunk (7 ratings a chunk,
    the last one short) it is the sum over the block's ratings, each once; and the order is fresh per epoch."""
    bw, q, item_bias = _one_block_worker(split, 7, True, monkeypatch, lr=0.0)
    part, (lo, hi) = bw.part, bw.part.offsets[1:3]
    users, items = part.users[lo:hi].astype(np.int64), part.items[lo:hi].astype(np.int64)
    errors = part.ratings[lo:hi] - (3.5 + (bw.p[users] * q[items]).sum(axis=1, dtype=np.float64))
    assert (hi - lo) % 7 and bw.run_block(1, 1, q, item_bias) == pytest.approx(np.sum(errors**2), rel=1e-6)
    (one, q_one, bias_one), (two, q_two, bias_two) = (_one_block_worker(split, 7, True, monkeypatch) for _ in "12")
    assert one.run_block(1, 1, q_one, bias_one) != two.run_block(2, 1, q_two, bias_two)  # same start, other order


def test_strata_are_balanced_by_ratings_and_never_empty():
    """Each stratum holds total/parts ratings within one row's count, even with a row heavier than a stratum."""
    rng = np.random.default_rng(0)
    counts = rng.zipf(1.5, 5000).clip(max=2000)
    for parts in (2, 3, 8):
        held = np.bincount(assign_strata(counts, parts, rng), weights=counts, minlength=parts)
        assert np.all(np.abs(held - counts.sum() / parts) <= counts.max())
    heavy = np.array([1000, 1, 1, 1])
    assert set(assign_strata(heavy, 3, rng)) == {0, 1, 2}
    with pytest.raises(ValueError, match="fewer rows than workers"):
        assign_strata(np.array([5, 5]), 3, rng)


def test_bad_options_are_refused_before_any_work(split):
    for options, field in (({"workers": 0}, "workers"), ({"algorithm": "allreduce"}, "algorithm")):
        with pytest.raises(ValueError, match=field):
            train_distributed(split[0], **options)
    with pytest.raises(ValueError, match="staleness is for the parameter server"):
        train_distributed(split[0], 2, "dsgd", staleness=1)


def test_without_ray_the_message_says_how_to_install_it(split, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if it were not installed
    with pytest.raises(RayMissingError, match=INSTALL.replace("[", r"\[").replace("]", r"\]")):
        train_distributed(split[0], 2)


# --- training on Ray (four fits: each starts its own worker processes, ~2 s apiece on 2 busy cores) --------
def _args(argv):
    """`gradlab recommend train` arguments, parsed by the real command line."""
    return build_parser().parse_args(["recommend", "train", *argv])


@pytest.fixture(scope="module")
def dsgd_fit(ray_session, split, tmp_path_factory):
    """`gradlab recommend train --workers 2` with the serial trainer's defaults (k = 100, 30 epochs) on u1."""
    path = tmp_path_factory.mktemp("dsgd") / "model.npz"
    out = io.StringIO()
    args = _args(["--workers", "2", "--fold", "1"])
    code = run_train_distributed(args, split[0], split[1], None, "u1.base", path, out)
    assert code == 0
    return FactorModel.load(path), out.getvalue()


def test_dsgd_reaches_the_serial_rmse_and_saves_where_it_ran(dsgd_fit, split, serial):
    """Same model, update and hyper-parameters as fit_sgd: test RMSE within 0.002 of the serial fit's, far
    below the biases alone (item rows lost between workers would show here); the file names the cluster."""
    model, printed = dsgd_fit
    found = model.evaluate(split[1]).rmse
    assert found <= serial + 0.002, f"DSGD test RMSE {found:.4f}, serial {serial:.4f}"
    assert found < fit_baseline(split[0], progress=False).evaluate(split[1]).rmse - 0.01
    assert model.method == "dsgd" and model.hyper["workers"] == 2 and model.hyper["address"]
    epochs = [line for line in printed.splitlines() if line.startswith("dsgd epoch")]
    assert len(epochs) == 30 and epochs[-1].startswith("dsgd epoch 30/30  train RMSE")
    assert "by dsgd on 2 workers" in printed and "test on u1.test: RMSE" in printed
    assert np.all(np.diff(model.history) < 0), "the training RMSE must fall every epoch"


def test_a_worker_lost_mid_epoch_restarts_the_fit_to_the_same_model(dsgd_fit, split):
    """Worker 1's process exits mid-way through epoch 2: the fit starts again on fresh workers, giving
    exactly the uninterrupted fit (DSGD's blocks never conflict, so timing cannot change the fit), and its
    history is the second fit's alone; with no retries left, an error and no model."""
    whole = dsgd_fit[0]
    out = io.StringIO()
    recovered = train_distributed(split[0], 2, crash=(1, 2), out=out)
    assert "a worker died in epoch 2: starting the fit again" in out.getvalue() and recovered.hyper["restarts"] == 1
    assert recovered.history == whole.history and len(recovered.hyper["epoch_seconds"]) == 30
    assert np.array_equal(recovered.user_factors, whole.user_factors)
    assert np.array_equal(recovered.item_factors, whole.item_factors)
    with pytest.raises(WorkerLostError, match="died in epoch 2.*no model is returned"):
        train_distributed(split[0], 2, crash=(0, 2), retries=0, progress=False, epochs=2, factors=10)


def test_parameter_server_reaches_the_serial_rmse_despite_a_lost_worker(ray_session, split, serial):
    """ps with staleness bound 2, item rows on 2 servers, worker 1 lost in epoch 2 (worker 0 then waits on its
    clock: the loss must still be seen at once): the fit starts again on fresh workers (a restarted worker
    with fresh random users would leave half the users untrained), and the test RMSE is within 0.002 of
    the serial fit's."""
    train, test = split
    model = train_distributed(train, 2, "ps", staleness=2, crash=(1, 2), progress=False)
    assert model.hyper["restarts"] == 1 and model.hyper["staleness"] == 2 and model.hyper["servers"] == 2
    found = model.evaluate(test).rmse
    assert found <= serial + 0.002, f"parameter-server test RMSE {found:.4f}, serial {serial:.4f}"


def test_cli_flags_are_read_only_when_given():
    assert wants_distributed(_args(["--workers", "2"])) and wants_distributed(_args(["--algorithm", "ps"]))
    assert not wants_distributed(_args([]))


@pytest.mark.parametrize(
    "argv, problem",
    [
        (["--address", "ray://nowhere:10001"], "go with --workers"),
        (["--workers", "2", "--staleness", "1"], "use it with --algorithm ps"),
        (["--workers", "2", "--model", "als"], "runs on one machine"),
    ],
)
def test_cli_refuses_flags_that_do_not_go_together(split, tmp_path, capsys, argv, problem):
    code = run_train_distributed(_args(argv), split[0], None, None, "{n}", tmp_path / "m.npz", io.StringIO())
    assert code == 2 and problem in capsys.readouterr().err and not (tmp_path / "m.npz").exists()


def test_the_command_trains_on_ray_and_the_parser_offers_every_algorithm(ray_session, tmp_path, capsys):
    """`gradlab recommend train --workers 2 --algorithm ps` through gradlab.cli.main, as a user types it (the
    Ray already started in this process is joined); the flag's choices are the trainer's algorithms."""
    if not (DATA / "u1.base").is_file():
        pytest.skip(HINT)
    path = tmp_path / "ps.npz"
    argv = ["recommend", "train", "--data", str(DATA), "--workers", "2", "--algorithm", "ps", "--staleness", "1"]
    assert main([*argv, "--epochs", "3", "--factors", "10", "--save", str(path), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "fitting sgd by ps with staleness bound 1 on 2 workers" in printed and "test on u1.test: RMSE" in printed
    model = FactorModel.load(path)
    assert model.method == "ps" and model.hyper["workers"] == 2 and model.hyper["staleness"] == 1
    for algorithm in ALGORITHMS:
        assert _args(["--workers", "2", "--algorithm", algorithm]).algorithm == algorithm
    with pytest.raises(SystemExit):
        _args(["--workers", "2", "--algorithm", "gossip"])
    assert "invalid choice: 'gossip'" in capsys.readouterr().err


def test_an_address_nobody_answers_on_fails_at_once_with_a_sentence():
    """Found by a new-user trial: `--address nohost:6379` made Ray retry for minutes without a word."""
    import socket

    from gradlab.apps.recommender.distributed.cluster import _check_reachable

    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    _check_reachable(f"127.0.0.1:{port}")  # someone answers: no complaint
    _check_reachable(f"ray://127.0.0.1:{port}")
    listening.close()
    for address in (f"127.0.0.1:{port}", f"ray://127.0.0.1:{port}", "no-such-host.invalid:6379"):
        with pytest.raises(ConnectionError, match=r"nothing answers at .*ray start --head"):
            _check_reachable(address, seconds=2)
    _check_reachable("auto")  # no port: left to Ray


def test_more_local_workers_than_cores_are_started_with_a_note_and_far_more_refused(monkeypatch, capsys):
    """Up to 4 a core share the cores (with a note); more are refused before Ray starts (found by a new-user
    trial: --workers 99 on 2 cores ran, at 200 s an epoch, with a process of ~110 MB a worker)."""
    from gradlab.apps.recommender.distributed import cluster

    started = {}

    class FakeRay:
        def is_initialized(self):
            return False

        def init(self, **options):
            started.update(options)

        def get_runtime_context(self):
            return type("Context", (), {"get_node_id": lambda self: "node"})()

        def cluster_resources(self):
            return {"CPU": started["num_cpus"]}

        def shutdown(self):
            started["shut"] = True

    monkeypatch.setattr(cluster, "require_ray", FakeRay)
    monkeypatch.setattr(cluster.os, "cpu_count", lambda: 2)
    with cluster.Cluster(None, 8) as found:
        assert found.cpus == 8 and started["num_cpus"] == 8
    assert started["shut"] and "note: 8 workers on this machine's 2 cores" in capsys.readouterr().err
    with cluster.Cluster(None, 2):
        pass
    assert "note:" not in capsys.readouterr().err
    started.clear()
    with pytest.raises(ValueError, match=r"--workers 9: a local cluster runs at most 8 workers.*use --workers 2"):
        cluster.Cluster(None, 9).__enter__()
    assert not started, "Ray must not start for a refused worker count"
