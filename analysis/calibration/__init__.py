"""Calibrate customer behaviour from a real transaction log.

The statistics side of calibration, in small modules:

* :mod:`~analysis.calibration.transactions`: :func:`load_transactions` reads and validates a log
  into a :class:`TransactionLog`;
* :mod:`~analysis.calibration.summary`: :func:`rfm_summary` builds the per-customer
  :class:`RFMSummary` (BTYD frequency/recency/age, repeat spend, RFM scores and segments);
* :mod:`~analysis.calibration.bgnbd`: the BG/NBD model, :class:`BetaGeoModel`;
* :mod:`~analysis.calibration.pareto_nbd`: the Pareto/NBD alternative, :class:`ParetoNBDModel`;
* :mod:`~analysis.calibration.gamma_gamma`: the spend model, :class:`GammaGammaModel`;
* :mod:`~analysis.calibration.holdout`: :func:`holdout_validation` and :class:`HoldoutResult`;
* :mod:`~analysis.calibration.scores`: :func:`customer_scores`, P(alive), expected purchases and
  value per customer;
* :mod:`~analysis.calibration.generate`: :func:`simulate_bgnbd_log`, synthetic logs with known
  parameters.

Typical use::

    log = load_transactions("scenarios/data/cdnow.txt")
    summary = rfm_summary(log, calibration_end="1997-09-30", holdout_end="1998-06-30")
    purchases = BetaGeoModel().fit(summary)
    spend = GammaGammaModel().fit(summary)
    check = holdout_validation(log, summary, purchases)
"""

from analysis.calibration.bgnbd import (
    BGNBD_PARAMS,
    BetaGeoModel,
    MultistartResult,
    NotFittedError,
    bgnbd_expected_conditional,
    bgnbd_expected_transactions,
    bgnbd_log_likelihood,
    bgnbd_probability_alive,
    multistart,
)
from analysis.calibration.gamma_gamma import (
    GAMMA_GAMMA_PARAMS,
    GammaGammaModel,
    gamma_gamma_expected_spend,
    gamma_gamma_log_likelihood,
)
from analysis.calibration.generate import simulate_bgnbd_log
from analysis.calibration.holdout import HoldoutResult, holdout_validation
from analysis.calibration.scores import customer_scores
from analysis.calibration.pareto_nbd import (
    PARETO_NBD_PARAMS,
    ParetoNBDModel,
    pareto_nbd_expected_conditional,
    pareto_nbd_expected_transactions,
    pareto_nbd_log_likelihood,
    pareto_nbd_probability_alive,
)
from analysis.calibration.summary import SEGMENT_RULES, TIME_UNITS, RFMSummary, rfm_summary
from analysis.calibration.transactions import (
    TransactionLog,
    load_transactions,
    transactions_from_frame,
)

__all__ = [
    "BGNBD_PARAMS",
    "GAMMA_GAMMA_PARAMS",
    "PARETO_NBD_PARAMS",
    "SEGMENT_RULES",
    "TIME_UNITS",
    "BetaGeoModel",
    "GammaGammaModel",
    "HoldoutResult",
    "MultistartResult",
    "NotFittedError",
    "ParetoNBDModel",
    "RFMSummary",
    "TransactionLog",
    "bgnbd_expected_conditional",
    "bgnbd_expected_transactions",
    "bgnbd_log_likelihood",
    "bgnbd_probability_alive",
    "customer_scores",
    "gamma_gamma_expected_spend",
    "gamma_gamma_log_likelihood",
    "holdout_validation",
    "load_transactions",
    "multistart",
    "pareto_nbd_expected_conditional",
    "pareto_nbd_expected_transactions",
    "pareto_nbd_log_likelihood",
    "pareto_nbd_probability_alive",
    "rfm_summary",
    "simulate_bgnbd_log",
    "transactions_from_frame",
]
