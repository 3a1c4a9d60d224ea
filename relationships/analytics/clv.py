"""Customer lifetime value: the BG/NBD purchase model, the Gamma-Gamma spend model, CLV.

References (formulas written from the published papers):

- [FHL05] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "'Counting your
  customers' the easy way: an alternative to the Pareto/NBD model", Marketing
  Science 24(2), 275-284. Likelihood eq. (6), E[X(t)] eq. (7), conditional
  expectation eq. (10).
- [FHL08] Fader, Hardie and Lee (2008), "Computing P(alive) using the
  BG/NBD model", note 021 at brucehardie.com.
- [FHL05b] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "RFM and CLV:
  using iso-value curves for customer base analysis", Journal of Marketing
  Research 42(4), 415-430: the Gamma-Gamma spend model.
- [FH13] Fader, P. S. and Hardie, B. G. S. (2013), "The Gamma-Gamma model of
  monetary value", note 025 at brucehardie.com: the likelihood and the
  conditional expected spend.

Data per customer, in one time unit (days or weeks) chosen by the caller:
``frequency`` x = number of repeat purchases (purchases after the first),
``recency`` t_x = time from the first purchase to the last one (0 when x = 0),
``T`` = time from the first purchase to the end of the observation window.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
from scipy import optimize, special

DAYS_PER_MONTH = 365.25 / 12
P = TypeVar("P")


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD parameters: purchase rate lambda ~ Gamma(r, alpha), dropout p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma parameters: spend z ~ Gamma(p, nu) per purchase, nu ~ Gamma(q, v)."""

    p: float
    q: float
    v: float


@dataclass(frozen=True)
class FitResult(Generic[P]):
    """A maximum-likelihood fit and what a reader needs to trust it: the summed
    log-likelihood at the estimate (penalty excluded), the customers it was fitted on,
    whether the optimiser reported convergence, and the penalty it was given."""

    params: P
    log_likelihood: float
    n_customers: int
    converged: bool
    penalizer: float


def _rft(frequency, recency, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(frequency, dtype=float)
    t_x = np.asarray(recency, dtype=float)
    big_t = np.asarray(T, dtype=float)
    x, t_x, big_t = np.broadcast_arrays(x, t_x, big_t)
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > big_t + 1e-9):
        raise ValueError("need frequency >= 0 and 0 <= recency <= T")
    if np.any((x == 0) & (t_x != 0)):
        raise ValueError("recency must be 0 for customers with no repeat purchase")
    return x, t_x, big_t


def _bgnbd_ll_terms(r, alpha, a, b, x, t_x, big_t) -> np.ndarray:
    """Per-customer log-likelihood, [FHL05] eq. (6), computed in logs.

    L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))
    """
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    beta_ab = special.betaln(a, b)
    first = special.betaln(a, b + x) - beta_ab - (r + x) * np.log(alpha + big_t)
    repeat = x > 0
    # For x == 0 the second term is absent; b + x - 1 would be negative, so guard it.
    second = np.where(
        repeat,
        special.betaln(a + 1, np.where(repeat, b + x - 1, 1.0))
        - beta_ab
        - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return common + np.logaddexp(first, second)


def bgnbd_log_likelihood(params: BgNbdParams, frequency, recency, T) -> float:
    """Sum over customers of the BG/NBD log-likelihood ([FHL05] eq. 6)."""
    x, t_x, big_t = _rft(frequency, recency, T)
    return float(np.sum(_bgnbd_ll_terms(params.r, params.alpha, params.a, params.b, x, t_x, big_t)))


def fit_bgnbd(*, frequency, recency, T, penalizer: float = 0.0) -> FitResult[BgNbdParams]:
    """Maximum-likelihood BG/NBD parameters.

    The four parameters are optimised on the log scale (so they stay positive)
    with L-BFGS-B, falling back to Nelder-Mead; identical (x, t_x, T) rows are
    folded into weights first. ``penalizer`` adds
    ``penalizer * (r^2 + (alpha / mean T)^2 + a^2 + b^2)`` to the mean negative
    log-likelihood, which keeps estimates finite on small or degenerate books
    (0 is the plain maximum-likelihood estimate). alpha is a time scale, so it
    is measured in mean customer ages: the penalty is then the same whether the
    data are in days or weeks. A penalty on the *mean* log-likelihood does not
    shrink as the book grows, so it biases the estimates by the same amount on a
    million customers as on a hundred: the nightly run uses none by default.
    """
    x, t_x, big_t = _rft(frequency, recency, T)
    if x.size == 0:
        raise ValueError("cannot fit the BG/NBD model on no customers")
    rows, weights = np.unique(np.stack([x, t_x, big_t], axis=1), axis=0, return_counts=True)
    ux, ut, uT = rows[:, 0], rows[:, 1], rows[:, 2]
    n = float(weights.sum())
    scale = np.array([1.0, max(float(np.mean(big_t)), 1e-9), 1.0, 1.0])

    def objective(log_params: np.ndarray) -> float:
        # The optimiser's probes may overflow; such a point is answered with 1e100 (worse
        # than any real one) rather than with numpy's warnings.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            params = np.exp(log_params)
            r, alpha, a, b = params
            ll = _bgnbd_ll_terms(r, alpha, a, b, ux, ut, uT)
            penalty = penalizer * float(np.sum((params / scale) ** 2))
            value = -float(np.dot(weights, ll)) / n + penalty
        return value if np.isfinite(value) else 1e100

    # Start near the data: a purchase rate of about mean(x) / mean(T) means alpha ~ r / rate.
    rate = max(float(np.mean(x)), 0.1) / max(float(np.mean(big_t)), 1e-9)
    start = np.log([1.0, 1.0 / rate, 1.0, 1.0])
    result = optimize.minimize(objective, start, method="L-BFGS-B")
    if not result.success or not np.isfinite(result.fun):
        fallback = optimize.minimize(
            objective, start, method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-6}
        )
        if fallback.fun < result.fun:
            result = fallback
    r, alpha, a, b = np.exp(result.x)
    params = BgNbdParams(r=float(r), alpha=float(alpha), a=float(a), b=float(b))
    ll = float(
        np.dot(weights, _bgnbd_ll_terms(params.r, params.alpha, params.a, params.b, ux, ut, uT))
    )
    return FitResult(params, ll, int(n), _converged(result), penalizer)


def _converged(result: optimize.OptimizeResult) -> bool:
    # A plain bool: numpy's bool_ trips Django's empty-value check on a BooleanField.
    return bool(result.success and np.isfinite(result.fun) and result.fun < 1e100)


def _alive_odds_denominator(params: BgNbdParams, x, t_x, big_t) -> np.ndarray:
    """1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x > 0
    log_ratio = (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
    term = np.where(
        repeat, np.exp(np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) + log_ratio), 0.0
    )
    return 1.0 + term


def bgnbd_p_alive(params: BgNbdParams, *, frequency, recency, T) -> np.ndarray:
    """P(the customer is still active at T | x, t_x, T), [FHL08].

    P(alive) = 1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)).
    A customer with no repeat purchase gets 1: in the BG/NBD a customer can only
    drop out right after a repeat purchase, which is the paper's convention.
    """
    x, t_x, big_t = _rft(frequency, recency, T)
    return 1.0 / _alive_odds_denominator(params, x, t_x, big_t)


def bgnbd_expected_purchases(params: BgNbdParams, *, t, frequency, recency, T) -> np.ndarray:
    """Expected number of purchases in (T, T + t] given x, t_x, T, [FHL05] eq. (10).

    E[Y(t) | x, t_x, T] =
      (a + b + x - 1) / (a - 1)
      * [1 - ((alpha + T) / (alpha + T + t))^(r + x)
             * 2F1(r + x, b + x; a + b + x - 1; t / (alpha + T + t))]
      / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))

    Computed through Euler's transformation 2F1(A, B; C; z) = (1 - z)^(C - A - B)
    2F1(C - A, C - B; C; z) (Abramowitz and Stegun 15.3.3), which turns the
    bracket into 1 - ((alpha + T) / (alpha + T + t))^(a - 1)
    2F1(a + b - 1 - r, a - 1; a + b + x - 1; z): the same number, but it stays
    finite for customers with hundreds of purchases, where the original series
    overflows.
    """
    x, t_x, big_t = _rft(frequency, recency, T)
    return _expected_purchases(params, t, x, big_t, _alive_odds_denominator(params, x, t_x, big_t))


def bgnbd_expected_purchases_at(
    params: BgNbdParams, *, ts, frequency, recency, T
) -> list[np.ndarray]:
    """``bgnbd_expected_purchases`` for each horizon in ``ts``: the same numbers, with what
    does not depend on the horizon computed once, and the horizons shared by two threads
    (scipy's and numpy's array functions release the GIL; a nightly run asks for 15
    horizons of a million customers, most of it in hyp2f1)."""
    x, t_x, big_t = _rft(frequency, recency, T)
    denominator = _alive_odds_denominator(params, x, t_x, big_t)
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda t: _expected_purchases(params, t, x, big_t, denominator), ts))


def _expected_purchases(params: BgNbdParams, t, x, big_t, denominator) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    r, alpha, b = params.r, params.alpha, params.b
    # a == 1 is a removable singularity; nudge it rather than divide by zero.
    a = params.a + 1e-9 if abs(params.a - 1.0) < 1e-9 else params.a
    z = t / (alpha + big_t + t)
    hyp = special.hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
    power = np.exp((a - 1) * (np.log(alpha + big_t) - np.log(alpha + big_t + t)))
    numerator = (a + b + x - 1) / (a - 1) * (1.0 - power * hyp)
    return numerator / denominator


def _gg_arrays(frequency, monetary_value) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary_value, dtype=float)
    if x.shape != m.shape:
        raise ValueError("frequency and monetary_value must have the same length")
    return x, m


def _gg_ll_terms(p, q, v, x, m) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood of the mean spend m over x purchases, [FH13].

    f(m | p, q, v, x) = G(px + q) / (G(px) G(q)) * v^q m^(px - 1) x^(px) / (v + m x)^(px + q)
    """
    px = p * x
    return (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + m * x)
    )


def gamma_gamma_log_likelihood(params: GammaGammaParams, *, frequency, monetary_value) -> float:
    """Sum of the Gamma-Gamma log-likelihood over customers with frequency >= 1 and spend > 0."""
    x, m = _gg_arrays(frequency, monetary_value)
    keep = (x >= 1) & (m > 0)
    return float(np.sum(_gg_ll_terms(params.p, params.q, params.v, x[keep], m[keep])))


def fit_gamma_gamma(
    *, frequency, monetary_value, penalizer: float = 0.0
) -> FitResult[GammaGammaParams]:
    """Maximum-likelihood Gamma-Gamma parameters ([FH13]).

    Only customers with at least one repeat purchase (frequency >= 1) and a
    positive mean spend enter the fit: ``monetary_value`` is the mean value of
    their repeat purchases. The model assumes spend is independent of frequency.
    ``penalizer`` adds ``penalizer * (p^2 + q^2 + (v / mean spend)^2)`` to the
    mean negative log-likelihood; v is in money, so it is measured in mean
    spends and the penalty does not depend on the currency.
    """
    x, m = _gg_arrays(frequency, monetary_value)
    keep = (x >= 1) & (m > 0) & np.isfinite(m)
    x, m = x[keep], m[keep]
    if x.size < 2:
        raise ValueError("need at least two customers with a repeat purchase to fit spend")
    n = float(x.size)
    scale = np.array([1.0, 1.0, float(np.mean(m))])

    def objective(log_params: np.ndarray) -> float:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # as in fit_bgnbd
            p, q, v = np.exp(log_params)
            value = -float(np.sum(_gg_ll_terms(p, q, v, x, m))) / n
            value += penalizer * float(np.sum((np.exp(log_params) / scale) ** 2))
        return value if np.isfinite(value) else 1e100

    start = np.log([1.0, 2.0, float(np.mean(m))])
    result = optimize.minimize(objective, start, method="L-BFGS-B")
    if not result.success or not np.isfinite(result.fun):
        fallback = optimize.minimize(
            objective, start, method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-6}
        )
        if fallback.fun < result.fun:
            result = fallback
    p, q, v = np.exp(result.x)
    params = GammaGammaParams(p=float(p), q=float(q), v=float(v))
    ll = float(np.sum(_gg_ll_terms(params.p, params.q, params.v, x, m)))
    return FitResult(params, ll, int(x.size), _converged(result), penalizer)


def gamma_gamma_expected_spend(
    params: GammaGammaParams, *, frequency, monetary_value
) -> np.ndarray:
    """Expected value of a customer's future purchase, [FH13].

    E[M | p, q, v, m_x, x] = p (v + m_x x) / (p x + q - 1)
      = (q - 1)/(p x + q - 1) * (v p / (q - 1)) + p x / (p x + q - 1) * m_x,
    a weighted mean of the population mean v p / (q - 1) and the customer's own
    mean m_x. For x = 0 it is the population mean. When q <= 1 the population
    mean does not exist (it is infinite); then customers with purchases get
    their own mean and customers without one get the mean of the others' means.
    """
    x, m = _gg_arrays(frequency, monetary_value)
    p, q, v = params.p, params.q, params.v
    m = np.where(x > 0, np.nan_to_num(m), 0.0)
    denominator = p * x + q - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        spend = p * (v + m * x) / denominator
    bad = ~(denominator > 0) | ~np.isfinite(spend)
    if np.any(bad):
        observed = m[x > 0]
        fallback_mean = float(np.mean(observed)) if observed.size else 0.0
        spend = np.where(bad, np.where(x > 0, m, fallback_mean), spend)
    return spend


def clv_discounted(
    bg: BgNbdParams,
    gg: GammaGammaParams,
    *,
    frequency,
    recency,
    T,
    monetary_value,
    months: int = 12,
    annual_discount_rate: float = 0.10,
    margin: float = 1.0,
    days_per_unit: float = 1.0,
) -> np.ndarray:
    """Discounted CLV over the next ``months`` months.

    CLV = sum_{m=1..months} (E[Y(m)] - E[Y(m-1)]) * E[spend] * margin / (1 + d)^m,
    with E[Y(.)] the BG/NBD conditional expectation ([FHL05] eq. 10), E[spend]
    the Gamma-Gamma expectation ([FH13]), a month of 365.25 / 12 days
    and d = (1 + annual_discount_rate)^(1/12) - 1 the equivalent monthly rate;
    each month's purchases are discounted from the end of that month.
    ``days_per_unit`` says how many days one unit of recency and T is (1 for
    days, 7 for weeks).
    """
    if months < 0:
        raise ValueError("months must not be negative")
    if annual_discount_rate <= -1:
        raise ValueError("annual_discount_rate must be above -100%")
    x, t_x, big_t = _rft(frequency, recency, T)
    spend = gamma_gamma_expected_spend(gg, frequency=x, monetary_value=monetary_value)
    monthly = (1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0
    month_units = DAYS_PER_MONTH / days_per_unit
    value = np.zeros_like(x, dtype=float)
    previous = np.zeros_like(x, dtype=float)
    cumulatives = bgnbd_expected_purchases_at(
        bg, ts=[m * month_units for m in range(1, months + 1)], frequency=x, recency=t_x, T=big_t
    )
    for m, cumulative in enumerate(cumulatives, start=1):
        value += (cumulative - previous) / (1.0 + monthly) ** m
        previous = cumulative
    return value * spend * margin


def holdout_error(
    params: BgNbdParams,
    *,
    frequency_cal,
    recency_cal,
    T_cal,
    frequency_holdout,
    duration_holdout,
) -> float:
    """Mean absolute error of the predicted vs actual purchases in a holdout period.

    The model is fitted on a calibration window; for each customer it predicts
    the number of purchases in the following ``duration_holdout`` units
    ([FHL05] eq. 10) and this is compared with what each customer actually
    bought then (``frequency_holdout``). The result is in purchases per
    customer: 0.4 means the prediction is off by 0.4 purchases per customer on
    average. It measures how well the model ranks and sizes individuals, which
    is what the at-risk list and CLV rely on.
    """
    predicted = bgnbd_expected_purchases(
        params, t=duration_holdout, frequency=frequency_cal, recency=recency_cal, T=T_cal
    )
    actual = np.asarray(frequency_holdout, dtype=float)
    if predicted.shape != actual.shape:
        raise ValueError("holdout counts must be aligned with the calibration customers")
    if actual.size == 0:
        raise ValueError("no customers to compare")
    return float(np.mean(np.abs(predicted - actual)))
