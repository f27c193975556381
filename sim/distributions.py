"""Drawing customer traits from the scenario's distributions.

Core function: :func:`draw`, which turns a validated distribution config into ``n`` values from
an explicit ``numpy.random.Generator``.
"""

from __future__ import annotations

import numpy as np

from scenarios.schema import BetaDist, ConstantDist, GammaDist, GammaGammaDist, LogNormalDist

__all__ = ["draw", "order_value_shape"]


def draw(dist, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` customer values (float64) from ``dist``."""
    if isinstance(dist, ConstantDist):
        return np.full(n, dist.value, dtype=np.float64)
    if isinstance(dist, GammaDist):
        return rng.gamma(dist.shape, dist.mean / dist.shape, size=n)
    if isinstance(dist, LogNormalDist):
        mu = np.log(dist.mean) - 0.5 * dist.sigma**2
        return rng.lognormal(mu, dist.sigma, size=n)
    if isinstance(dist, BetaDist):
        return rng.beta(dist.a, dist.b, size=n)
    if isinstance(dist, GammaGammaDist):
        nu = rng.gamma(dist.q, 1.0 / dist.gamma, size=n)
        return dist.p / nu
    raise TypeError(f"unknown distribution {dist!r}")


def order_value_shape(customers) -> float | None:
    """Gamma shape of order-to-order noise (None: every order is the customer's mean)."""
    if customers.order_value_shape is not None:
        return customers.order_value_shape
    if isinstance(customers.basket_value, GammaGammaDist):
        return customers.basket_value.p
    return None
