"""Reading an experiment more than once: group-sequential boundaries and always-valid tests.

Core functions (pure, over numbers):

- :func:`crossing_probabilities`: for two-sided boundaries ``c_1..c_K`` on the z-statistic at
  information fractions ``t_1..t_K``, the probability of first crossing at each look under the
  null, by recursive numerical integration of the score's density over the continuation region
  (Armitage, McPherson & Rowe 1969; Jennison & Turnbull 2000, ch. 19). Exact up to quadrature
  error (about 1e-9 with the default grid), no Monte Carlo.
- :func:`pocock_boundaries`, :func:`obrien_fleming_boundaries`: the classical constant and
  ``C * sqrt(K / k)`` boundaries for equally spaced looks, the constant solved for the overall
  two-sided ``alpha``.
- :func:`spending_boundaries`: Lan-DeMets alpha spending at any information fractions, with the
  O'Brien-Fleming-type ``2 - 2 Phi(z_{alpha/2} / sqrt(t))`` or Pocock-type
  ``alpha log(1 + (e - 1) t)`` spending function.
- :func:`msprt`: the mixture sequential probability ratio test for a difference in means
  (normal mixing distribution), always valid under continuous monitoring: reject as soon as the
  likelihood ratio reaches ``1 / alpha``.

References
----------
Armitage, P., McPherson, C. K. and Rowe, B. C. (1969). Repeated significance tests on accumulating
data. JRSS A 132, 235-244.
Jennison, C. and Turnbull, B. W. (2000). Group Sequential Methods with Applications to Clinical
Trials. Chapman & Hall/CRC (Table 2.1: Pocock constants; Table 2.3: O'Brien-Fleming constants).
Lan, K. K. G. and DeMets, D. L. (1983). Discrete sequential boundaries for clinical trials.
Biometrika 70, 659-663.
Johari, R., Koomen, P., Pekelis, L. and Walsh, D. (2022). Always valid inference: continuous
monitoring of A/B tests. Operations Research 70(3), 1806-1821.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

from scenarios.errors import ConfigError

__all__ = [
    "Boundaries", "crossing_probabilities", "pocock_boundaries", "obrien_fleming_boundaries",
    "spending_boundaries", "SPENDING", "msprt",
]  # fmt: skip

_GRID = 401  # points of the density grid per look (odd, for Simpson's rule); error below 1e-9


@dataclass(frozen=True)
class Boundaries:
    """Two-sided z boundaries at each look and the null probability of first crossing there."""

    method: str
    alpha: float
    fractions: tuple[float, ...]
    z: tuple[float, ...]
    crossing: tuple[float, ...]

    @property
    def nominal_p(self) -> tuple[float, ...]:
        """The two-sided p-value each look's boundary corresponds to (reject at look k if p < it)."""
        return tuple(float(2 * special.ndtr(-c)) for c in self.z)

    def to_dict(self) -> dict:
        """Plain dict for JSON."""
        return {"method": self.method, "alpha": self.alpha, "fractions": list(self.fractions), "z": list(self.z),
                "nominal_p": list(self.nominal_p), "crossing": list(self.crossing)}


def _fractions(fractions) -> np.ndarray:
    t = np.asarray(fractions, dtype=float)
    if t.ndim != 1 or t.size < 1 or not np.all(np.isfinite(t)):
        raise ConfigError(f"fractions must be a non-empty list of numbers; got {fractions!r}")
    if np.any(t <= 0) or np.any(t > 1) or np.any(np.diff(t) <= 0):
        raise ConfigError(f"fractions must increase strictly within (0, 1]; got {t.tolist()}")
    return t


def _simpson(n: int) -> np.ndarray:
    w = np.ones(n)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return w / 3.0


class _Continuation:
    """The score's sub-density over the continuation region, carried from look to look."""

    def __init__(self) -> None:
        self.t = 0.0
        self.grid: np.ndarray | None = None
        self.mass: np.ndarray | None = None  # density times quadrature weight at each grid point

    def crossing(self, c: float, t: float) -> float:
        """Probability of first crossing ``|Z| >= c`` at information fraction ``t`` (after the looks so far)."""
        b = c * math.sqrt(t)
        if self.grid is None:
            return float(2 * special.ndtr(-c))
        sd = math.sqrt(t - self.t)
        return float(np.sum(self.mass * (special.ndtr((self.grid - b) / sd) + special.ndtr((-b - self.grid) / sd))))

    def advance(self, c: float, t: float) -> None:
        """Go past a look with boundary ``c`` at fraction ``t``: keep the density of those not stopped."""
        b = c * math.sqrt(t)
        new = np.linspace(-b, b, _GRID)
        if self.grid is None:
            dens = stats.norm.pdf(new, scale=math.sqrt(t))
        else:
            sd = math.sqrt(t - self.t)
            dens = (stats.norm.pdf((new[:, None] - self.grid[None, :]) / sd) / sd) @ self.mass
        self.grid, self.t = new, t
        self.mass = dens * _simpson(_GRID) * (new[1] - new[0])


def crossing_probabilities(z_bounds, fractions) -> np.ndarray:
    """Null probability of first crossing ``|Z_k| >= c_k`` at each look (see the module docstring).

    Examples
    --------
    >>> round(float(crossing_probabilities([1.959964], [1.0])[0]), 6)
    0.05
    """
    t = _fractions(fractions)
    c = np.asarray(z_bounds, dtype=float)
    if c.shape != t.shape or np.any(~np.isfinite(c)) or np.any(c <= 0):
        raise ConfigError(f"z_bounds must be one positive number per look; got {np.asarray(z_bounds).tolist()}")
    out = np.empty(t.size)
    region = _Continuation()
    for k in range(t.size):
        out[k] = region.crossing(c[k], t[k])
        if k < t.size - 1:
            region.advance(c[k], t[k])
    return out


def _boundaries(method: str, alpha: float, t: np.ndarray, z: np.ndarray) -> Boundaries:
    crossing = crossing_probabilities(z, t)
    return Boundaries(method, alpha, tuple(map(float, t)), tuple(map(float, z)), tuple(map(float, crossing)))


def _solve_constant(shape: np.ndarray, t: np.ndarray, alpha: float) -> float:
    def excess(C):
        return float(crossing_probabilities(C * shape, t).sum()) - alpha

    return float(optimize.brentq(excess, 0.5, 10.0, xtol=1e-10))


def _check_alpha(alpha: float) -> float:
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise ConfigError(f"alpha must be in (0, 1); got {alpha!r}")
    return float(alpha)


def _equal(looks: int) -> np.ndarray:
    if not isinstance(looks, (int, np.integer)) or not 1 <= looks <= 50:
        raise ConfigError(f"looks must be a whole number from 1 to 50; got {looks!r}")
    return np.arange(1, looks + 1) / looks


def pocock_boundaries(looks: int, alpha: float = 0.05) -> Boundaries:
    """Pocock's constant boundary for ``looks`` equally spaced looks at overall two-sided ``alpha``.

    Examples
    --------
    >>> round(pocock_boundaries(5).z[0], 3)
    2.413
    """
    alpha = _check_alpha(alpha)
    t = _equal(looks)
    C = _solve_constant(np.ones(t.size), t, alpha)
    z = np.full(t.size, C)
    return _boundaries("pocock", alpha, t, z)


def obrien_fleming_boundaries(looks: int, alpha: float = 0.05) -> Boundaries:
    """O'Brien-Fleming boundaries ``C sqrt(K / k)`` for equally spaced looks at overall two-sided ``alpha``.

    Examples
    --------
    >>> round(obrien_fleming_boundaries(4).z[-1], 3)
    2.024
    """
    alpha = _check_alpha(alpha)
    t = _equal(looks)
    shape = np.sqrt(1.0 / t)
    C = _solve_constant(shape, t, alpha)
    z = C * shape
    return _boundaries("obrien_fleming", alpha, t, z)


def _spend_obf(t: np.ndarray, alpha: float) -> np.ndarray:
    return 2.0 - 2.0 * special.ndtr(special.ndtri(1 - alpha / 2) / np.sqrt(t))


def _spend_pocock(t: np.ndarray, alpha: float) -> np.ndarray:
    return alpha * np.log1p((math.e - 1.0) * t)


#: Lan-DeMets spending functions: cumulative alpha spent by information fraction t
SPENDING = {"obrien_fleming": _spend_obf, "pocock": _spend_pocock}


def spending_boundaries(fractions, alpha: float = 0.05, spending: str = "obrien_fleming") -> Boundaries:
    """Lan-DeMets boundaries at ``fractions``: look k spends ``f(t_k) - f(t_{k-1})`` of the alpha.

    ``spending`` is ``"obrien_fleming"`` (little alpha early) or ``"pocock"`` (about even).
    The last look spends what is left when ``fractions[-1] == 1``.
    """
    alpha = _check_alpha(alpha)
    t = _fractions(fractions)
    if spending not in SPENDING:
        raise ConfigError(f"spending must be one of {', '.join(SPENDING)}; got {spending!r}")
    cumulative = SPENDING[spending](t, alpha)
    spend = np.diff(np.r_[0.0, cumulative])
    z: list[float] = []
    region = _Continuation()
    for k in range(t.size):
        if spend[k] <= 1e-15:
            c = 40.0  # nothing spent here: a boundary never crossed
        else:
            c = float(optimize.brentq(lambda x, k=k: region.crossing(x, t[k]) - spend[k], 0.1, 40.0, xtol=1e-10))
        z.append(c)
        if k < t.size - 1:
            region.advance(c, t[k])
    return _boundaries(f"lan_demets_{spending}", alpha, t, np.array(z))


def msprt(diff: np.ndarray, var: np.ndarray, *, tau2: float, alpha: float = 0.05) -> np.ndarray:
    """Always-valid rejections of a zero difference in means, look by look (mixture SPRT).

    ``diff[k]`` is the estimated difference at look k and ``var[k]`` its variance (e.g.
    ``s_c^2 / n_c + s_t^2 / n_t``); the mixing distribution of the true difference is
    ``N(0, tau2)``. The likelihood ratio of the normal model against the null is
    ``sqrt(V / (V + tau2)) exp(tau2 diff^2 / (2 V (V + tau2)))`` with ``V = var[k]``; the test
    rejects from the first look at which it reaches ``1 / alpha`` (the type I error stays at most
    ``alpha`` however often, or whenever, the data are looked at: Johari et al. 2022). Returns a
    boolean array: rejected by look k.

    Examples
    --------
    >>> msprt(np.array([0.0, 5.0]), np.array([1.0, 1.0]), tau2=1.0).tolist()
    [False, True]
    """
    alpha = _check_alpha(alpha)
    d = np.asarray(diff, dtype=float)
    v = np.asarray(var, dtype=float)
    if d.shape != v.shape or np.any(~np.isfinite(d)) or np.any(~(v > 0)):
        raise ConfigError("diff and var must be finite arrays of one shape, with var > 0")
    if not tau2 > 0:
        raise ConfigError(f"tau2 must be > 0; got {tau2!r}")
    log_lr = 0.5 * np.log(v / (v + tau2)) + tau2 * d**2 / (2.0 * v * (v + tau2))
    return np.maximum.accumulate(log_lr >= math.log(1.0 / alpha))
