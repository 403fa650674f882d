"""A movie recommender by matrix factorisation: the same model fitted by gradient steps and in closed form.

The model predicts user u's rating of item i as

    r̂_ui = μ + b_u + b_i + p_u·q_i

μ the global mean rating, b_u and b_i how far user u rates above the mean and how far item i is rated
above it, and p_u, q_i ∈ R^k the latent factors of the user and the item (their dot product is the
part of the taste the biases cannot explain). The fit minimises, over the training ratings,

    Σ (r_ui - r̂_ui)² + λ (‖p_u‖² + ‖q_i‖²) + λ_b (b_u² + b_i²)

Two ways down the same hill:

    fit_sgd   per-rating stochastic gradient steps in shuffled order (Funk's algorithm, as in Surprise's SVD):
              with e = r_ui - r̂_ui, each rating moves its four parameters against the gradient of its term,
                  b_u += lr (e - λ_b b_u)          b_i += lr (e - λ_b b_i)
                  p_u += lr (e q_i - λ p_u)        q_i += lr (e p_u - λ q_i)
              (∂/∂p_u of (r - r̂)² + λ‖p_u‖² is -2 e q_i + 2 λ p_u: the factor 2 is folded into lr)
    fit_als   alternating least squares: with the items fixed the loss is a least-squares problem in each
              user's (b_u, p_u) alone, solved exactly, and then the same for each item:
                  [b_u; p_u] = (XᵀX + diag(λ_b, λ, …, λ))⁻¹ Xᵀ (r_u - μ - b_I),   X = [1, q_i] over the items u rated

and fit_baseline, the biases alone (μ + b_u + b_i), the yardstick any factor model must beat. fit_svdpp adds
SVD++'s implicit-feedback term (the films a user chose to rate say something about them), and fit_blend mixes it
with an item-kNN model: the lowest RMSE here (benchmarks/recommender.py).

A rating model ranks badly (it puts films with a few high ratings first), so top-N lists come from ranking
models trained on which films a user picked (ranking.py): EASE (closed form), weighted MF for implicit feedback
(ALS), BPR (SGD on seen/unseen pairs), and popularity, the baseline every one must beat (benchmarks/ranking.py).
Past one machine, distributed/ trains the same SGD model on Ray (DSGD and a parameter server).

Unknown users and items (cold start) have no bias and no factors: their terms are 0, so the prediction
falls back to μ + b_i, μ + b_u or μ. Predictions are clipped to the training data's rating scale.

    model = fit_sgd(train)                         # train: gradlab.data.movielens.Ratings
    model.predict(196, 242); model.evaluate(test)  # RMSE and MAE
    model.recommend(196, n=10); model.similar(50)  # top-N unrated items; nearest items by cosine of q
    model.save("model.npz"); FactorModel.load("model.npz")

Where each part lives:

    model.py       FactorModel (predict, evaluate, recommend, similar, save, load), Recommendation
    modelfile.py   the checks a saved model passes before it is loaded
    sgd.py         fit_sgd
    als.py         fit_als
    baseline.py    fit_baseline
    svdpp.py       fit_svdpp (SVD++, Koren 2008)
    blend.py       fit_item_knn, fit_blend (SVD++ mixed with item kNN on baseline residuals)
    methods.py     fit: a rating model by name
    hyper.py       DEFAULTS, each method's hyper-parameters
    training.py    what the fitters share (ratings as indices, CSR grouping, progress, the model at the end)
    kernels.py     the compiled (Numba) inner loops
    metrics.py     rmse, mae, Scores, precision_recall_at_k, RankingScores
    evaluation.py  cross_validate on the official folds, FoldResult, temporal_split
    ranking.py     RankingModel, fit_ranking (ease.py, wmf.py, bpr.py, popularity), load_model (either kind)
    ranking_metrics.py  top_n_scores: precision, recall, NDCG, MAP at k and catalogue coverage
    distributed/   train_distributed on Ray: dsgd.py, parameter_server.py, blocks.py (the N×N partition)
"""

from .als import fit_als
from .baseline import fit_baseline
from .blend import fit_blend
from .evaluation import FoldResult, cross_validate, temporal_split
from .hyper import DEFAULTS
from .kernels import FAST as FAST
from .kernels import _cholesky_solve as _cholesky_solve  # the kernels, for tests and the benchmark's warm-up
from .kernels import _predict_kernel as _predict_kernel
from .kernels import _ridge_rows as _ridge_rows
from .kernels import _sgd_epoch as _sgd_epoch
from .methods import fit
from .metrics import RankingScores, Scores, mae, precision_recall_at_k, rmse
from .model import FactorModel, Recommendation
from .modelfile import FORMAT as FORMAT
from .ranking import RANKING_DEFAULTS, RankingModel, fit_ranking, load_model
from .ranking_metrics import TopNScores, top_n_scores
from .sgd import fit_sgd
from .svdpp import fit_svdpp

__all__ = [
    "DEFAULTS",
    "RANKING_DEFAULTS",
    "FactorModel",
    "FoldResult",
    "RankingModel",
    "RankingScores",
    "Recommendation",
    "Scores",
    "TopNScores",
    "cross_validate",
    "fit",
    "fit_als",
    "fit_baseline",
    "fit_blend",
    "fit_ranking",
    "fit_sgd",
    "fit_svdpp",
    "load_model",
    "mae",
    "precision_recall_at_k",
    "rmse",
    "temporal_split",
    "top_n_scores",
]
