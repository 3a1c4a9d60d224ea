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


def simulate_purchase_rows(
    bg: BgNbdParams,
    gg: GammaGammaParams,
    *,
    ages: np.ndarray,
    rng: np.random.Generator,
    items_per_day: float = 0.7,
    first_day_factor: float = 2.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Purchase rows as a shop records them, for customers drawn from both models' stories.

    Time is in days. Customer i makes their first purchase ``ages[i]`` whole days before
    the end of the data, at a random hour; while alive they buy at Poisson rate lambda
    ~ Gamma(r, alpha) and drop out after each repeat purchase with p ~ Beta(a, b). Each
    repeat purchase is worth z ~ Gamma(p, nu), nu ~ Gamma(q, v) per customer ([FH13]); the
    first purchase, which Gamma-Gamma leaves out, is worth ``first_day_factor`` times as
    much on average. Each purchase is rung up as 1 + Poisson(``items_per_day``) items at
    hours of the same day that share its value. Returns (customer, days before the end,
    hour of the day, amount) per item; two purchases falling on one day are one day.
    """
    n = ages.size
    lam = rng.gamma(shape=bg.r, scale=1.0 / bg.alpha, size=n)
    drop = rng.beta(bg.a, bg.b, size=n)
    nu = rng.gamma(shape=gg.q, scale=1.0 / gg.v, size=n)
    customer, moment, value = [], [], []
    for i in range(n):
        start = rng.uniform(8, 20) / 24  # the first purchase's time of day
        t = start
        times, values = [t], [first_day_factor * rng.gamma(gg.p, 1.0 / nu[i])]
        while True:
            t += rng.exponential(1.0 / lam[i]) if lam[i] > 0 else np.inf
            if t >= ages[i]:
                break
            times.append(t)
            values.append(rng.gamma(gg.p, 1.0 / nu[i]))
            if rng.random() < drop[i]:
                break
        customer += [i] * len(times)
        moment += times
        value += values
    customer_a, moment_a, value_a = np.array(customer), np.array(moment), np.array(value)
    # Items: each purchase split over the rest of its day, the value shared at random.
    k = 1 + rng.poisson(items_per_day, size=customer_a.size)
    owner = np.repeat(np.arange(customer_a.size), k)
    day = np.floor(moment_a)[owner]
    first_hour = (moment_a - np.floor(moment_a))[owner] * 24
    hour = np.where(
        np.r_[True, owner[1:] != owner[:-1]],
        first_hour,
        first_hour + rng.random(owner.size) * np.maximum(23.99 - first_hour, 0),
    )
    shares = rng.exponential(size=owner.size)
    shares /= np.bincount(owner, weights=shares)[owner]
    days_before = ages[customer_a[owner]] - day
    return customer_a[owner], days_before.astype(int), hour, value_a[owner] * shares
