"""Markov-chain customer value (Pfeifer and Carraway, 2000).

A customer base is described by a row-stochastic transition matrix ``P`` over lifecycle stages
(``P[i, j]`` is the probability of moving from stage ``i`` to stage ``j`` in one period) and a
reward vector ``R`` (expected margin earned per period in each stage). Core functions:
:func:`expected_occupancy` (expected share of customers in each stage over time) and
:func:`discounted_value` (expected discounted value of a customer by starting stage, for a
finite or infinite horizon).

Timing convention used throughout: a customer in stage ``i`` at the start of period ``t``
earns ``R[i]`` at that moment, then moves according to ``P``. Rewards at period ``t``
(``t = 0, 1, ...``) are discounted by ``discount ** t``, so the first period is undiscounted.
``discount`` is a per-period factor (``1 / (1 + r)`` for an interest rate ``r``), not a rate.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from scenarios.errors import ConfigError

__all__ = ["expected_occupancy", "discounted_value"]

_ROW_SUM_TOL = 1e-9


def _transition_matrix(P: Any) -> np.ndarray:
    try:
        mat = np.asarray(P, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"P must be a square matrix of probabilities; got {P!r:.80}") from exc
    if mat.ndim != 2 or mat.shape[0] != mat.shape[1] or mat.shape[0] == 0:
        raise ConfigError(f"P must be a non-empty square matrix; got shape {mat.shape}")
    if not np.all(np.isfinite(mat)):
        raise ConfigError("P must be finite; got nan or inf entries")
    if np.any((mat < 0.0) | (mat > 1.0)):
        raise ConfigError(
            f"P entries must be in [0, 1]; got min {float(mat.min())!r}, max {float(mat.max())!r}"
        )
    row_err = np.abs(mat.sum(axis=1) - 1.0)
    if np.any(row_err > _ROW_SUM_TOL):
        row = int(np.argmax(row_err))
        raise ConfigError(
            f"P rows must sum to 1 within {_ROW_SUM_TOL:g}; row {row} sums to "
            f"{float(mat[row].sum())!r}"
        )
    return mat


def _horizon(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ConfigError(f"horizon must be an integer >= 0; got {value!r}")
    return int(value)


def _start_distribution(start: Any, n_states: int) -> np.ndarray:
    if isinstance(start, (int, np.integer)) and not isinstance(start, bool):
        if not 0 <= start < n_states:
            raise ConfigError(f"start must be a stage index in [0, {n_states - 1}]; got {start!r}")
        dist = np.zeros(n_states)
        dist[int(start)] = 1.0
        return dist
    try:
        dist = np.asarray(start, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"start must be a stage index or a share vector; got {start!r:.80}"
        ) from exc
    if dist.shape != (n_states,):
        raise ConfigError(f"start must have shape ({n_states},) to match P; got {dist.shape}")
    if not np.all(np.isfinite(dist)) or np.any(dist < 0.0):
        raise ConfigError(f"start shares must be finite and >= 0; got {dist.tolist()}")
    if abs(dist.sum() - 1.0) > _ROW_SUM_TOL:
        raise ConfigError(
            f"start shares must sum to 1 within {_ROW_SUM_TOL:g}; got {float(dist.sum())!r}"
        )
    return dist


def expected_occupancy(P: Any, start: Any, horizon: int) -> np.ndarray:
    r"""Expected share of customers in each stage at periods ``0..horizon``.

    Parameters
    ----------
    P : array_like, shape (S, S)
        Row-stochastic transition matrix: entries in [0, 1], rows summing to 1 within 1e-9.
    start : int or array_like, shape (S,)
        Starting stage index, or the starting share of customers in each stage (non-negative,
        summing to 1).
    horizon : int
        Number of transitions, >= 0.

    Returns
    -------
    numpy.ndarray, shape (horizon + 1, S)
        Row ``t`` is :math:`\pi_t = \pi_0 P^t`; every row sums to 1.

    Raises
    ------
    ConfigError
        If ``P``, ``start`` or ``horizon`` is invalid.

    References
    ----------
    .. [1] Pfeifer, P. E. and Carraway, R. L. (2000). Modeling customer relationships as Markov
       chains. *Journal of Interactive Marketing* 14(2), 43-55.

    Examples
    --------
    >>> P = [[0.9, 0.1], [0.0, 1.0]]
    >>> expected_occupancy(P, 0, 2).round(3).tolist()
    [[1.0, 0.0], [0.9, 0.1], [0.81, 0.19]]
    """
    mat = _transition_matrix(P)
    dist = _start_distribution(start, mat.shape[0])
    steps = _horizon(horizon)
    out = np.empty((steps + 1, mat.shape[0]))
    out[0] = dist
    for t in range(1, steps + 1):
        out[t] = out[t - 1] @ mat
    return out


def discounted_value(P: Any, R: Any, discount: float, horizon: int | None = None) -> np.ndarray:
    r"""Expected discounted value of a customer by starting stage.

    Parameters
    ----------
    P : array_like, shape (S, S)
        Row-stochastic transition matrix (entries in [0, 1], rows summing to 1 within 1e-9).
    R : array_like, shape (S,) or (S, K)
        Reward earned at the start of each period in each stage (finite); several reward
        columns (e.g. margin and cost) are valued at once.
    discount : float
        Per-period discount factor :math:`d`: in [0, 1) for an infinite horizon, in [0, 1] for
        a finite one.
    horizon : int or None
        Number of periods ``H >= 0`` of rewards; ``None`` for an infinite horizon.

    Returns
    -------
    numpy.ndarray, shape (S,) or (S, K)
        Element ``i`` is the expected discounted reward of a customer starting in stage ``i``.

    Raises
    ------
    ConfigError
        Invalid ``P``, ``R``, ``discount`` or ``horizon`` (including ``discount == 1`` with an
        infinite horizon).

    Notes
    -----
    Rewards are earned at the start of each period (module docstring), so

    .. math::

        V_H = \sum_{t=0}^{H-1} (dP)^t R, \qquad
        V_\infty = \sum_{t=0}^{\infty} (dP)^t R = (I - dP)^{-1} R.

    The series converges for :math:`d < 1` because the spectral radius of :math:`dP` is
    :math:`d`; the infinite-horizon value is obtained with ``numpy.linalg.solve`` rather than an
    explicit inverse. ``H = 0`` gives zeros. A customer's lifetime value for a starting mix
    :math:`\pi_0` is :math:`\pi_0 V`. Pfeifer and Carraway write the sum with
    :math:`(1 + r)^{-1}`; here :math:`d = (1 + r)^{-1}` is passed directly.

    References
    ----------
    .. [1] Pfeifer, P. E. and Carraway, R. L. (2000). Modeling customer relationships as Markov
       chains. *Journal of Interactive Marketing* 14(2), 43-55.

    Examples
    --------
    >>> P = [[0.8, 0.2], [0.0, 1.0]]        # active -> lapsed (absorbing)
    >>> discounted_value(P, [10.0, 0.0], 0.9).round(4).tolist()
    [35.7143, 0.0]
    >>> discounted_value(P, [10.0, 0.0], 1.0, horizon=2).tolist()
    [18.0, 0.0]
    """
    mat = _transition_matrix(P)
    n_states = mat.shape[0]
    try:
        rewards = np.asarray(R, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"R must be an array of rewards; got {R!r:.80}") from exc
    if rewards.ndim not in (1, 2) or rewards.shape[0] != n_states:
        raise ConfigError(
            f"R must have shape ({n_states},) or ({n_states}, K) to match P; got {rewards.shape}"
        )
    if not np.all(np.isfinite(rewards)):
        raise ConfigError("R must be finite; got nan or inf entries")
    if isinstance(discount, bool) or not isinstance(discount, (int, float, np.floating)):
        raise ConfigError(f"discount must be a real number in [0, 1]; got {discount!r}")
    d = float(discount)
    if horizon is None:
        if not (math.isfinite(d) and 0.0 <= d < 1.0):
            raise ConfigError(
                "discount must be in [0, 1) for an infinite horizon (horizon=None); "
                f"got {discount!r}"
            )
        return np.linalg.solve(np.eye(n_states) - d * mat, rewards)
    steps = _horizon(horizon)
    if not (math.isfinite(d) and 0.0 <= d <= 1.0):
        raise ConfigError(f"discount must be in [0, 1] for a finite horizon; got {discount!r}")
    # Horner form of sum_{t<H} (dP)^t R: V_k = R + dP V_{k-1}, V_0 = 0, iterated H times
    value = np.zeros_like(rewards)
    for _ in range(steps):
        value = rewards + d * (mat @ value)
    return value
