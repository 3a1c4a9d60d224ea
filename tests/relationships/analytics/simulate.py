"""Test tools for the purchase and spend models: draw customers from each model's story,
and the expected purchases of a new customer ([FHL05] eq. 7) that checks the draw."""

from __future__ import annotations

import numpy as np
from scipy import special

from relationships.analytics.clv import BgNbdParams, GammaGammaParams


def bgnbd_expected_purchases_new(params: BgNbdParams, *, t) -> np.ndarray:
    """E[X(t)] for a customer just acquired, [FHL05] eq. (7).

    E[X(t)] = (a + b - 1) / (a - 1) [1 - (alpha / (alpha + t))^r 2F1(r, b; a + b - 1; t / (alpha + t))],
    computed through the same Euler transformation as ``bgnbd_expected_purchases``.
    """
    t = np.asarray(t, dtype=float)
    r, alpha, b = params.r, params.alpha, params.b
    a = params.a + 1e-9 if abs(params.a - 1.0) < 1e-9 else params.a
    hyp = special.hyp2f1(a + b - 1 - r, a - 1, a + b - 1, t / (alpha + t))
    return (a + b - 1) / (a - 1) * (1.0 - (alpha / (alpha + t)) ** (a - 1) * hyp)


def simulate_bgnbd(
    params: BgNbdParams, *, n: int, T, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw (frequency, recency, T) for ``n`` customers from the BG/NBD story.

    Each customer has a rate lambda ~ Gamma(r, rate alpha) and a dropout
    probability p ~ Beta(a, b); while alive, purchases follow a Poisson process;
    after each repeat purchase the customer drops out with probability p. So the
    repeat purchases before dropping out are D ~ Geometric(p) on {1, 2, ...}, the
    purchases in (0, T] are N ~ Poisson(lambda T), x = min(N, D), and the x-th of
    N uniform arrival times is T * Beta(x, N - x + 1).
    """
    big_t = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    lam = rng.gamma(shape=params.r, scale=1.0 / params.alpha, size=n)
    p = rng.beta(params.a, params.b, size=n)
    # numpy's geometric needs p > 0; a p of exactly 0 means "never drops out".
    dropout_after = rng.geometric(np.clip(p, 1e-12, 1.0))
    arrivals = rng.poisson(lam * big_t)
    x = np.minimum(arrivals, dropout_after)
    has = x > 0
    recency = np.zeros(n)
    recency[has] = big_t[has] * rng.beta(x[has], arrivals[has] - x[has] + 1)
    return x.astype(float), recency, big_t


def simulate_gamma_gamma(
    params: GammaGammaParams, frequency, rng: np.random.Generator
) -> np.ndarray:
    """Draw each customer's mean spend over ``frequency`` purchases from the Gamma-Gamma story.

    nu ~ Gamma(q, rate v) per customer; each purchase ~ Gamma(p, rate nu), so the
    mean of x purchases ~ Gamma(p x, rate nu x). 0 for customers with x = 0.
    """
    x = np.asarray(frequency, dtype=float)
    nu = rng.gamma(shape=params.q, scale=1.0 / params.v, size=x.shape)
    mean = np.zeros(x.shape)
    has = x > 0
    mean[has] = rng.gamma(shape=params.p * x[has], scale=1.0 / (nu[has] * x[has]))
    return mean
