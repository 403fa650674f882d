"""The recommender trained over a Ray cluster: the same biased matrix factorisation and per-rating SGD
update as fit_sgd, spread over N workers in one of two ways.

    model = train_distributed(train, workers=2, algorithm="dsgd")        # a local Ray cluster for the fit
    model = train_distributed(train, 4, "ps", address="ray://head:10001", staleness=2)

    blocks.py            the N×N partition of the ratings and DSGD's conflict-free schedule (pure NumPy)
    worker.py            what a worker holds (its users' ratings and factors), the compiled pass over a block,
                         starting the workers and gathering their users at the end
    dsgd.py              DSGD: item strata passed worker to worker, N disjoint blocks at a time
    parameter_server.py  item rows on server actors, pulled and pushed asynchronously, bounded staleness
    cluster.py           joining or starting Ray; the message when Ray is not installed
    train.py             train_distributed: indexing, shipping the ratings once, epochs, restarts, the model
    command.py           run_train_distributed, what `gradlab recommend train --workers N` runs

Ray is the optional extra gradlab[distributed]; importing this package does not need it, training does.
"""

from .cluster import INSTALL, RayMissingError, WorkerLostError
from .train import ALGORITHMS, train_distributed

__all__ = ["ALGORITHMS", "INSTALL", "RayMissingError", "WorkerLostError", "train_distributed"]
