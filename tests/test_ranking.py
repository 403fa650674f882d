"""The ranking models (BPR, weighted MF, EASE, popularity), the top-N metrics, the temporal split, saving, CLI."""

import io

import numpy as np
import pytest

import gradlab as gl
from gradlab.apps.recommender import fit_sgd, precision_recall_at_k
from gradlab.apps.recommender.bpr import _bpr_step
from gradlab.apps.recommender.ease import ease_weights
from gradlab.apps.recommender.evaluation import temporal_split
from gradlab.apps.recommender.ranking import RankingModel, fit_ranking, load_model
from gradlab.apps.recommender.ranking_metrics import top_n_scores
from gradlab.apps.recommender.wmf import _cg_rows, wmf_loss
from gradlab.cli import main
from gradlab.data.movielens import IdMap, Ratings, load_titles
from gradlab.npzfile import ModelFileError, read_npz, write_npz
from reference_data import SHARED_DATA

DATA = SHARED_DATA / "ml-100k"
STAR_WARS, EMPIRE, JEDI = 50, 172, 181
QUICK = {"ease": {}, "wmf": {"factors": 16}, "bpr": {"factors": 16, "epochs": 20}, "popularity": {}}


@pytest.fixture(scope="module")
def models(split):
    titles = load_titles(DATA)
    return {m: fit_ranking(split[0], m, titles=titles, progress=False, **o) for m, o in QUICK.items()}


# --- the maths, checked by the engine ------------------------------------------------------------------
def test_bpr_step_is_the_engine_gradient():
    """One BPR step is θ ← θ - lr ∂L/∂θ for L = -log σ(x̂_ui - x̂_uj) + (λ/2)‖θ‖², as gl.grad finds it."""
    rng = np.random.default_rng(0)
    k, lr, lam = 5, 0.05, 0.03
    p, q, bias = rng.normal(0, 0.5, (2, k)), rng.normal(0, 0.5, (4, k)), rng.normal(0, 0.3, 4)
    u, i, j = 1, 2, 0

    def loss(p_u, q_i, q_j, b_i, b_j):
        x = b_i - b_j + (p_u * (q_i - q_j)).sum()
        penalty = (p_u * p_u).sum() + (q_i * q_i).sum() + (q_j * q_j).sum() + b_i * b_i + b_j * b_j
        return -gl.log(gl.sigmoid(x)) + lam / 2 * penalty

    before = (p[u].copy(), q[i].copy(), q[j].copy(), bias[i], bias[j])
    grads = gl.grad(loss, argnums=(0, 1, 2, 3, 4))(*before)
    x = bias[i] - bias[j] + p[u] @ (q[i] - q[j])
    z = 1 / (1 + np.exp(x))
    np.testing.assert_allclose(grads[0], -z * (q[i] - q[j]) + lam * p[u], rtol=1e-12)  # the docstring's formula
    log_sigma = _bpr_step(u, i, j, p, q, bias, lr, lam)
    assert log_sigma == pytest.approx(-np.log1p(np.exp(-x)), rel=1e-12)
    for new, old, g in zip((p[u], q[i], q[j], bias[i], bias[j]), before, grads):
        np.testing.assert_allclose(new, old - lr * np.asarray(g), rtol=1e-12, atol=1e-14)


def test_wmf_row_solve_zeroes_the_engine_gradient():
    """With k conjugate-gradient steps the row update solves (YᵀY + Yᵀ(C_u - I)Y + λI) x = Yᵀ C_u p(u) exactly:
    the gradient of Σ_i c_ui (p_ui - x·y_i)² + λ‖x‖² over every item i vanishes there."""
    rng = np.random.default_rng(1)
    k, n_items, alpha, lam = 4, 9, 5.0, 0.7
    y = rng.normal(0, 0.5, (n_items, k))
    seen = np.array([1, 4, 5, 8])
    x = rng.normal(0, 0.1, (1, k))
    _cg_rows(np.array([0, len(seen)]), seen, 1.0 + alpha, y, y.T @ y, lam, x, k)
    pref = np.zeros(n_items)
    pref[seen] = 1.0
    conf = 1 + alpha * pref

    def loss(x_u):
        e = pref - y @ x_u
        return (conf * e * e).sum() + lam * (x_u * x_u).sum()

    assert np.abs(gl.grad(loss)(x[0])).max() < 1e-10
    x_few = np.zeros((1, k))  # one CG step from 0 already lowers the loss: the default 3 steps are a good start
    _cg_rows(np.array([0, len(seen)]), seen, 1.0 + alpha, y, y.T @ y, lam, x_few, 1)
    assert loss(x[0]) <= loss(x_few[0]) < loss(np.zeros(k))


def test_wmf_loss_without_the_dense_matrix_is_the_dense_loss():
    rng = np.random.default_rng(2)
    x, y, alpha, lam = rng.normal(size=(3, 2)), rng.normal(size=(4, 2)), 3.0, 0.5
    indptr, cols = np.array([0, 2, 2, 3]), np.array([0, 3, 1])
    pref = np.zeros((3, 4))
    pref[[0, 0, 2], [0, 3, 1]] = 1.0
    dense = ((1 + alpha * pref) * (pref - x @ y.T) ** 2).sum() + lam * ((x**2).sum() + (y**2).sum())
    assert wmf_loss((indptr, cols), x, y, alpha, lam) == pytest.approx(dense, rel=1e-12)


def test_ease_closed_form_zeroes_the_engine_gradient_off_the_diagonal():
    """B = I - P diag(1/diag P) with P = (XᵀX + λI)⁻¹ minimises ‖X - XB‖² + λ‖B‖² with diag(B) = 0: the gradient
    is zero off the diagonal, and on it equals -2γ, the multipliers, with γ_j = 1/P_jj - λ."""
    rng = np.random.default_rng(3)
    x = (rng.random((12, 6)) < 0.4).astype(float)
    lam = 2.0
    rows, cols = np.nonzero(x)
    indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=12))]
    b = ease_weights(indptr, cols, 6, lam)
    assert np.all(np.diag(b) == 0)

    def loss(b):
        e = x - x @ b
        return (e * e).sum() + lam * (b * b).sum()

    g = np.asarray(gl.grad(loss)(b))
    off = ~np.eye(6, dtype=bool)
    assert np.abs(g[off]).max() < 1e-9
    p = np.linalg.inv(x.T @ x + lam * np.eye(6))
    np.testing.assert_allclose(np.diag(g), -2 * (1 / np.diag(p) - lam), rtol=1e-9)


# --- the metrics and the split -------------------------------------------------------------------------
class _Fixed:
    """A model with fixed scores, to check the metrics by hand."""

    def __init__(self, scores, rated):
        self.users, self.items = IdMap(np.arange(len(scores))), IdMap(np.arange(scores.shape[1]))
        self.rated_indptr = np.r_[0, np.cumsum([len(r) for r in rated])]
        self.rated_items = np.array([i for r in rated for i in r], dtype=np.int64)
        self.scores = scores

    def scores_for_users(self, users):
        return self.scores[users].copy()


def test_top_n_metrics_by_hand():
    # user 0 ranks items 5, 4, 3 (2 rated in training, left out); relevant: 4 and an item unseen in training (99)
    # user 1 ranks 0, 1; relevant: 1 and 2 (3 rated below 4: not relevant; user 2 has nothing relevant: left out)
    scores = np.array([[0, 1, 9, 3, 4, 5], [6, 5, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=float)
    model = _Fixed(scores, [[2], [], []])
    test = Ratings(np.array([0, 0, 1, 1, 1, 2]), np.array([4, 99, 1, 2, 3, 0]), np.array([5, 4, 4, 5, 3, 2.0]))
    s = top_n_scores(model, test, k=2)
    assert s.users == 2
    assert s.precision == pytest.approx((1 / 2 + 1 / 2) / 2)
    assert s.recall == pytest.approx((1 / 2 + 1 / 2) / 2)
    d2 = 1 / np.log2(3)
    assert s.ndcg == pytest.approx((d2 / (1 + d2) + d2 / (1 + d2)) / 2)  # both hits at rank 2 of 2
    assert s.map == pytest.approx(((1 / 2) / 2 + (1 / 2) / 2) / 2)  # AP = precision@2 at the hit / min(k, |R|)
    assert s.coverage == pytest.approx(4 / 6)  # items 5, 4 (user 0) and 0, 1 (user 1)


def test_precision_and_recall_agree_with_a_plain_loop_over_users(split):
    """top_n_scores (batched, vectorised; precision_recall_at_k reports two of its numbers) against the
    protocol spelt out one user at a time: rank the user's unrated items, count the liked ones in the top 10."""
    model = fit_sgd(split[0], factors=10, epochs=3, progress=False)
    test, k = split[1], 10
    relevant = {}
    for user, item, rating in zip(test.user, test.item, test.rating):
        if rating >= 4 and model.users.index(np.array([user]))[0] >= 0:
            relevant.setdefault(int(user), set()).add(int(item))
    precisions, recalls = [], []
    for user, liked in relevant.items():
        u = int(model.users.index(np.array([user]))[0])
        scores = model._scores_for(u)
        scores[model.rated_items[model.rated_indptr[u] : model.rated_indptr[u + 1]]] = -np.inf
        top = set(model.items.ids[np.argsort(-scores, kind="stable")[:k]].tolist())
        precisions.append(len(top & liked) / k)
        recalls.append(len(top & liked) / len(liked))
    new, old = top_n_scores(model, test, k), precision_recall_at_k(model, test, k)
    plain = np.mean(precisions), np.mean(recalls), len(relevant)
    assert (new.precision, new.recall, new.users) == pytest.approx(plain)
    assert (old.precision, old.recall, old.users, old.k) == (new.precision, new.recall, new.users, k)


def test_temporal_split_holds_out_each_users_latest_ratings():
    user = np.array([1] * 5 + [2] * 3 + [3] * 2)
    stamp = np.array([50, 10, 40, 20, 40, 1, 2, 3, 7, 8])
    ratings = Ratings(user, np.arange(10), np.full(10, 4.0), stamp)
    train, test = temporal_split(ratings, n_test=2)
    # user 1: 50, then the later line of the two 40s; user 2: its last two; user 3 has only 2: all stay in train
    assert sorted(test.item.tolist()) == [0, 4, 6, 7]
    assert sorted(train.item.tolist()) == [1, 2, 3, 5, 8, 9]
    assert test.timestamp is not None and len(train) + len(test) == len(ratings)
    with pytest.raises(ValueError, match="timestamps"):
        temporal_split(Ratings(user, np.arange(10), np.full(10, 4.0)))


# --- learning ------------------------------------------------------------------------------------------
def test_every_ranking_model_beats_popularity_and_the_rating_model(models, split):
    """On u1 (small factor counts, few epochs), each model's top-10 lists beat the most-seen films'."""
    popular = top_n_scores(models["popularity"], split[1])
    assert 0.18 < popular.precision < 0.25  # u1's popularity: 0.213
    rating = precision_recall_at_k(fit_sgd(split[0], factors=10, epochs=5, progress=False), split[1])
    for method in ("ease", "wmf", "bpr"):
        scores = top_n_scores(models[method], split[1])
        assert scores.precision > popular.precision + 0.03, (method, scores, popular)
        assert scores.ndcg > popular.ndcg + 0.03 and scores.map > popular.map, (method, scores, popular)
        assert scores.coverage > popular.coverage  # personal lists reach beyond the same few films
        assert scores.precision > rating.precision
    assert top_n_scores(models["ease"], split[1]).precision > 0.35  # u1's EASE: 0.377


def test_bpr_and_wmf_improve_their_objective(models):
    bpr, wmf = models["bpr"].history, fit_ranking(_small(), "wmf", factors=3, epochs=6, out=io.StringIO())
    assert bpr[-1] > bpr[0] and all(value < 0 for value in bpr)  # mean log σ(x̂_uij) rises towards 0
    assert all(later <= earlier * (1 + 1e-6) for earlier, later in zip(wmf.history, wmf.history[1:]))


def _small() -> Ratings:
    rng = np.random.default_rng(5)
    user, item = rng.integers(0, 30, 300), rng.integers(0, 20, 300)
    return Ratings(user, item, np.full(300, 4.0))


def test_recommendations_cold_start_and_similar(models):
    ease = models["ease"]
    top = ease.recommend(196, n=5)
    assert len(top) == 5 and not {r.item for r in top} & set(ease.rated_by(196).tolist())
    assert [r.score for r in top] == sorted((r.score for r in top), reverse=True)
    cold = ease.recommend(999_999, n=3)  # an unknown user gets the most-seen films
    assert [r.item for r in cold] == [int(ease.items.ids[j]) for j in np.argsort(-ease.popularity, kind="stable")[:3]]
    for method in ("ease", "wmf"):
        near = {r.item for r in models[method].similar(STAR_WARS, n=10)}
        assert near & {EMPIRE, JEDI}, (method, near)
    with pytest.raises(ValueError, match="no item vectors"):
        models["popularity"].similar(STAR_WARS)
    with pytest.raises(KeyError, match="not in the training data"):
        ease.similar(999_999)


def test_bad_hyper_parameters_are_refused():
    small = _small()
    with pytest.raises(ValueError, match="method must be one of"):
        fit_ranking(small, "svd")
    with pytest.raises(ValueError, match="EASE needs reg > 0"):
        fit_ranking(small, "ease", reg=0.0)
    with pytest.raises(ValueError, match="cg_steps must be"):
        fit_ranking(small, "wmf", cg_steps=0, progress=False)
    with pytest.raises(ValueError, match="alpha must be"):
        fit_ranking(small, "wmf", alpha=-1.0, progress=False)
    with pytest.raises(FloatingPointError, match="BPR diverged"):
        fit_ranking(small, "bpr", lr=1e30, reg=1.0, epochs=5, progress=False)


# --- saving --------------------------------------------------------------------------------------------
def test_save_and_load_give_the_same_lists(models, tmp_path):
    for method, model in models.items():
        path = model.save(tmp_path / f"{method}.npz")
        again = load_model(path)
        assert isinstance(again, RankingModel) and again.method == method and again.hyper == model.hyper
        assert again.recommend(196, 10) == model.recommend(196, 10)
        assert again.title(STAR_WARS) == "Star Wars (1977)"
    rating = fit_sgd(_small(), factors=2, epochs=1, progress=False)
    assert type(load_model(rating.save(tmp_path / "rating.npz"))).__name__ == "FactorModel"


def test_damaged_ranking_files_are_refused(models, tmp_path):
    path = models["ease"].save(tmp_path / "ease.npz")
    arrays = read_npz(path, text=("format", "info", "titles", "user_ids", "item_ids"))
    for name, value, message in (
        ("item_weights", arrays["item_weights"][:5], "item_weights has shape"),
        ("item_bias", np.full_like(arrays["item_bias"], np.nan), "item_bias holds NaN"),
        ("rated_items", arrays["rated_items"] + 10_000, "rated_items holds item indices outside"),
        ("info", np.array('{"method": "knn", "hyper": {}}'), "method 'knn'"),
    ):
        bad = tmp_path / f"bad_{name}.npz"
        write_npz(bad, {**arrays, name: value})
        with pytest.raises(ModelFileError, match=message):
            RankingModel.load(bad)
    with pytest.raises(FileNotFoundError, match="gradlab recommend train --model ease"):
        RankingModel.load(tmp_path / "none.npz")


# --- command line --------------------------------------------------------------------------------------
@pytest.fixture
def cli(capsys):
    """gradlab.cli.main(argv) -> (exit code, stdout, stderr), as a user at the shell sees it."""

    def call(argv):
        code = main(argv)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def test_cli_trains_a_ranking_model_that_top_and_similar_use_by_default(split, tmp_path, monkeypatch, cli):
    monkeypatch.setenv("HOME", str(tmp_path))  # the default model paths live under ~/.cache/gradlab
    code, _, err = cli(["recommend", "top", "--user", "196"])
    assert code == 2 and "train --model ease" in err  # no ranking model yet: says how to make one
    code, text, err = cli(["recommend", "train", "--data", str(DATA), "--model", "ease"])
    assert code == 0, err
    assert "test on u1.test (relevant: rated >= 4): precision@10 0.3" in text and "popularity, for comparison" in text
    assert (tmp_path / ".cache" / "gradlab" / "ranking.npz").is_file()
    code, text, _ = cli(["recommend", "top", "--user", "196", "-n", "4"])
    assert code == 0 and "by the ease ranking model" in text and text.count(" score ") == 4
    code, text, _ = cli(["recommend", "similar", "--item", str(STAR_WARS), "-n", "5"])
    assert code == 0 and "EASE's item weights" in text and "Empire Strikes Back" in text
    code, text, _ = cli(["recommend", "top", "--user", "123456", "-n", "2"])
    assert code == 0 and "cold start" in text and "most-seen" in text
    code, _, err = cli(["recommend", "top", "--user", "196", "--rating"])  # the rating model is asked for: none yet
    assert code == 2 and "recommender.npz" in err
    code, _, _ = cli(["recommend", "train", "--data", str(DATA), "--factors", "5", "--epochs", "2"])  # sgd, as before
    code, text, _ = cli(["recommend", "top", "--user", "196", "-n", "3", "--rating"])
    assert code == 0 and "by the sgd rating model" in text and text.count("predicted") == 3


def test_cli_wmf_bpr_popularity_and_refused_flags(split, tmp_path, cli):
    for method, flags in (("wmf", ["--alpha", "5", "--factors", "8"]), ("bpr", ["--factors", "8", "--epochs", "3"])):
        path = tmp_path / f"{method}.npz"
        code, text, err = cli(
            ["recommend", "train", "--data", str(DATA), "--model", method, *flags, "--save", str(path)]
        )
        assert code == 0 and f"{method} epoch" in text and "NDCG@10" in text, err
        code, text, _ = cli(["recommend", "top", "--user", "1", "-n", "3", "--model", str(path)])
        assert code == 0 and f"{method} ranking model" in text and text.count(" score ") == 3
    code, text, _ = cli(["recommend", "train", "--data", str(DATA), "--model", "popularity", "--save", str(path)])
    assert code == 0 and "popularity, for comparison" not in text
    code, _, err = cli(["recommend", "similar", "--item", "50", "--model", str(path)])
    assert code == 2 and "no item vectors" in err
    code, _, err = cli(["recommend", "train", "--model", "ease", "--lr", "0.1", "--data", str(DATA)])
    assert code == 2 and "--model ease does not take --lr (it takes --reg)" in err


def test_cli_help_says_which_model_top_and_similar_use_and_why(capsys):
    for action, reason in (("top", "precision@10 0.29"), ("similar", "best neighbours")):
        with pytest.raises(SystemExit):
            main(["recommend", action, "--help"])
        help_text = " ".join(capsys.readouterr().out.split())
        assert "ranking model" in help_text and "EASE" in help_text and reason in help_text, help_text
        assert "--rating" in help_text
