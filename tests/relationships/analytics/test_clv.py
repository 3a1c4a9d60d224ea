import math

import numpy as np
import pytest

from relationships.analytics.clv import (
    BgNbdParams,
    GammaGammaParams,
    bgnbd_expected_purchases,
    bgnbd_expected_purchases_at,
    bgnbd_log_likelihood,
    bgnbd_p_alive,
    clv_discounted,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_expected_spend,
    gamma_gamma_log_likelihood,
    holdout_error,
)

from .simulate import bgnbd_expected_purchases_new, simulate_bgnbd, simulate_gamma_gamma

# The BG/NBD fit to the CDNOW sample in Fader, Hardie and Lee (2005), time in weeks.
CDNOW = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
# The Gamma-Gamma fit to the CDNOW sample in Fader and Hardie (2013).
CDNOW_SPEND = GammaGammaParams(p=6.25, q=3.74, v=15.44)

# Hand-chosen customers (x repeat purchases, recency t_x, age T, in weeks).
# Customer 1516 is the paper's worked example: x = 2, t_x = 30.43, T = 38.86.
CUSTOMERS = [(0, 0.0, 38.86), (2, 30.43, 38.86), (1, 2.0, 38.86), (7, 35.0, 38.0), (20, 10.0, 30.0)]


def beta(p, q):
    return math.exp(math.lgamma(p) + math.lgamma(q) - math.lgamma(p + q))


def direct_likelihood_terms(params, x, t_x, big_t):
    """The two terms of eq. (6) of the paper, written out with math.lgamma."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    gamma_ratio = math.exp(math.lgamma(r + x) - math.lgamma(r)) * alpha**r
    alive = beta(a, b + x) / beta(a, b) * gamma_ratio / (alpha + big_t) ** (r + x)
    dropped = 0.0
    if x > 0:
        dropped = beta(a + 1, b + x - 1) / beta(a, b) * gamma_ratio / (alpha + t_x) ** (r + x)
    return alive, dropped


def hyp2f1_series(a, b, c, z, terms=400):
    """Gauss's hypergeometric series, summed term by term (|z| < 1)."""
    total, term = 1.0, 1.0
    for k in range(terms):
        term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z
        total += term
    return total


def direct_expected_purchases(params, t, x, t_x, big_t):
    """Eq. (10) of the paper with the series above."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + big_t + t)
    head = (a + b + x - 1) / (a - 1)
    body = 1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp2f1_series(
        r + x, b + x, a + b + x - 1, z
    )
    odds = 1 + (a / (b + x - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x) if x > 0 else 0)
    return head * body / odds


def arrays(customers):
    x, t_x, big_t = (np.array(col, dtype=float) for col in zip(*customers, strict=True))
    return x, t_x, big_t


def test_log_likelihood_of_a_customer_with_no_repeat_purchase_by_hand():
    # For x = 0 eq. (6) reduces to (alpha / (alpha + T))^r:
    # 4.414 / (4.414 + 38.86) = 4.414 / 43.274 = 0.1020012; ln = -2.2827707;
    # times r = 0.243 -> -0.5547133.
    assert bgnbd_log_likelihood(CDNOW, [0], [0.0], [38.86]) == pytest.approx(-0.5547133, abs=1e-6)


def test_log_likelihood_matches_a_direct_implementation_of_the_formula():
    x, t_x, big_t = arrays(CUSTOMERS)
    expected = sum(math.log(sum(direct_likelihood_terms(CDNOW, *c))) for c in CUSTOMERS)

    assert bgnbd_log_likelihood(CDNOW, x, t_x, big_t) == pytest.approx(expected, rel=1e-10)
    # Each customer on its own, too.
    for customer in CUSTOMERS:
        one = bgnbd_log_likelihood(CDNOW, *([v] for v in customer))
        assert one == pytest.approx(math.log(sum(direct_likelihood_terms(CDNOW, *customer))))


def test_p_alive_is_the_share_of_the_likelihood_where_the_customer_is_still_active():
    # Bayes: P(alive) = alive term / (alive term + dropped-out term) of eq. (6).
    x, t_x, big_t = arrays(CUSTOMERS)
    expected = []
    for customer in CUSTOMERS:
        alive, dropped = direct_likelihood_terms(CDNOW, *customer)
        expected.append(alive / (alive + dropped))

    p_alive = bgnbd_p_alive(CDNOW, frequency=x, recency=t_x, T=big_t)

    assert p_alive == pytest.approx(expected, rel=1e-10)
    assert p_alive[0] == 1.0  # no repeat purchase: alive by the paper's convention
    # Customer with 20 purchases who went silent for 20 weeks is very likely gone.
    assert p_alive[4] < 0.01


def test_expected_purchases_match_the_paper_and_a_direct_series():
    x, t_x, big_t = arrays(CUSTOMERS)

    expected = bgnbd_expected_purchases(CDNOW, t=39.0, frequency=x, recency=t_x, T=big_t)

    # The paper: customer 1516 is expected to make 1.226 purchases in the next 39 weeks.
    assert expected[1] == pytest.approx(1.226, abs=5e-4)
    direct = [direct_expected_purchases(CDNOW, 39.0, *c) for c in CUSTOMERS]
    assert expected == pytest.approx(direct, rel=1e-8)


def test_expected_purchases_at_several_horizons_are_the_same_numbers_one_by_one():
    x, t_x, big_t = arrays(CUSTOMERS)
    horizons = [4.0, 13.0, 39.0, 52.0, 104.0]

    together = bgnbd_expected_purchases_at(CDNOW, ts=horizons, frequency=x, recency=t_x, T=big_t)

    assert len(together) == len(horizons)
    for t, values in zip(horizons, together, strict=True):
        alone = bgnbd_expected_purchases(CDNOW, t=t, frequency=x, recency=t_x, T=big_t)
        np.testing.assert_array_equal(values, alone)
    assert together[2][1] == pytest.approx(1.226, abs=5e-4)  # the paper's customer 1516, 39 weeks


def test_expected_purchases_stay_finite_for_very_frequent_buyers():
    # In days: a customer with 500 repeat purchases in two years. The plain series
    # 2F1(r + x, b + x; ...) overflows a float here; summing eq. (10)'s product
    # ((alpha + T) / (alpha + T + t))^(r + x) * 2F1(...) term by term in logs does not.
    daily = BgNbdParams(r=0.243, alpha=4.414 * 7, a=0.793, b=2.426)
    r, alpha, a, b = daily.r, daily.alpha, daily.a, daily.b
    x, t_x, big_t, t = 500, 729.0, 730.0, 365.0
    z = t / (alpha + big_t + t)
    log_term = (r + x) * math.log((alpha + big_t) / (alpha + big_t + t))
    terms = [math.exp(log_term)]
    for k in range(20_000):
        log_term += math.log((r + x + k) * (b + x + k) / ((a + b + x - 1 + k) * (k + 1)) * z)
        terms.append(math.exp(log_term))
    body = 1 - math.fsum(terms)
    odds = 1 + a / (b + x - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x)
    direct = (a + b + x - 1) / (a - 1) * body / odds

    expected = bgnbd_expected_purchases(daily, t=t, frequency=[x], recency=[t_x], T=[big_t])

    assert np.isfinite(expected[0])
    assert expected[0] == pytest.approx(direct, rel=1e-6)


def test_expected_purchases_of_a_new_customer_match_simulation():
    rng = np.random.default_rng(7)
    n = 200_000
    x, _, _ = simulate_bgnbd(CDNOW, n=n, T=39.0, rng=rng)

    # E[X(39)] from eq. (7); the simulated mean is within 4 standard errors.
    standard_error = x.std() / math.sqrt(n)
    assert x.mean() == pytest.approx(
        float(bgnbd_expected_purchases_new(CDNOW, t=39.0)), abs=4 * standard_error
    )


def test_bgnbd_recovers_the_parameters_it_was_simulated_with():
    rng = np.random.default_rng(2024)
    truth = BgNbdParams(r=0.24, alpha=4.41, a=0.79, b=2.43)
    n = 10_000
    # Customers acquired over 26 weeks and observed for 52 to 78 weeks: b, the
    # dropout parameter, is the hardest to pin down and needs the longer window
    # (at CDNOW's 27-39 weeks its standard error is about 15% even at n = 10,000).
    x, t_x, big_t = simulate_bgnbd(truth, n=n, T=rng.uniform(52, 78, n), rng=rng)

    fitted = fit_bgnbd(frequency=x, recency=t_x, T=big_t).params

    assert fitted.r == pytest.approx(truth.r, rel=0.15)
    assert fitted.alpha == pytest.approx(truth.alpha, rel=0.15)
    assert fitted.a == pytest.approx(truth.a, rel=0.2)
    assert fitted.b == pytest.approx(truth.b, rel=0.25)
    # The fit is a maximum: at least as likely as the true parameters.
    assert bgnbd_log_likelihood(fitted, x, t_x, big_t) >= bgnbd_log_likelihood(truth, x, t_x, big_t)


def test_bgnbd_fit_does_the_same_in_days():
    rng = np.random.default_rng(5)
    weekly = BgNbdParams(r=0.24, alpha=4.41, a=0.79, b=2.43)
    n = 5_000
    x, t_x, big_t = simulate_bgnbd(weekly, n=n, T=39.0, rng=rng)

    in_weeks = fit_bgnbd(frequency=x, recency=t_x, T=big_t).params
    in_days = fit_bgnbd(frequency=x, recency=t_x * 7, T=big_t * 7).params

    # Only the scale parameter alpha changes with the time unit.
    assert in_days.alpha == pytest.approx(in_weeks.alpha * 7, rel=0.02)
    assert in_days.r == pytest.approx(in_weeks.r, rel=0.02)
    assert in_days.b == pytest.approx(in_weeks.b, rel=0.05)
    # The penalty measures alpha in mean customer ages, so it too ignores the unit.
    penalised_weeks = fit_bgnbd(frequency=x, recency=t_x, T=big_t, penalizer=0.01).params
    penalised_days = fit_bgnbd(frequency=x, recency=t_x * 7, T=big_t * 7, penalizer=0.01).params
    assert penalised_days.alpha == pytest.approx(penalised_weeks.alpha * 7, rel=0.02)
    assert penalised_days.b == pytest.approx(penalised_weeks.b, rel=0.05)
    # And it does shrink: b is pulled well below its unpenalised estimate.
    assert penalised_weeks.b < 0.8 * in_weeks.b


def test_bgnbd_rejects_inconsistent_data():
    with pytest.raises(ValueError, match="recency <= T"):
        fit_bgnbd(frequency=[1], recency=[40.0], T=[30.0])
    with pytest.raises(ValueError, match="recency must be 0"):
        fit_bgnbd(frequency=[0], recency=[3.0], T=[30.0])
    with pytest.raises(ValueError, match="no customers"):
        fit_bgnbd(frequency=[], recency=[], T=[])


def test_gamma_gamma_log_likelihood_matches_a_direct_implementation():
    p, q, v = CDNOW_SPEND.p, CDNOW_SPEND.q, CDNOW_SPEND.v
    rows = [(1, 20.0), (2, 30.0), (5, 55.5)]
    expected = 0.0
    for x, m in rows:
        # f(m) = G(px+q) / (G(px) G(q)) v^q m^(px-1) x^(px) / (v + m x)^(px+q)
        expected += (
            math.lgamma(p * x + q)
            - math.lgamma(p * x)
            - math.lgamma(q)
            + q * math.log(v)
            + (p * x - 1) * math.log(m)
            + p * x * math.log(x)
            - (p * x + q) * math.log(v + m * x)
        )

    # The customer with no repeat purchase (x = 0) is left out of the likelihood.
    ll = gamma_gamma_log_likelihood(
        CDNOW_SPEND, frequency=[1, 2, 5, 0], monetary_value=[20.0, 30.0, 55.5, 0.0]
    )

    assert ll == pytest.approx(expected, rel=1e-12)


def test_gamma_gamma_expected_spend_by_hand():
    spend = gamma_gamma_expected_spend(
        CDNOW_SPEND, frequency=np.array([2, 0]), monetary_value=np.array([30.0, 0.0])
    )

    # x = 2, m = 30: p (v + m x) / (p x + q - 1) = 6.25 * (15.44 + 60) / (12.5 + 2.74)
    #   = 471.5 / 15.24 = 30.93832
    assert spend[0] == pytest.approx(30.93832, abs=1e-5)
    # x = 0: the population mean v p / (q - 1) = 15.44 * 6.25 / 2.74 = 96.5 / 2.74 = 35.21898
    assert spend[1] == pytest.approx(35.21898, abs=1e-5)


def test_gamma_gamma_expected_spend_without_a_finite_population_mean():
    spend = gamma_gamma_expected_spend(
        GammaGammaParams(p=0.1, q=0.5, v=10.0),
        frequency=np.array([1, 3, 0]),
        monetary_value=np.array([20.0, 40.0, 0.0]),
    )

    # p x + q - 1 = 0.1 + 0.5 - 1 < 0: the customer's own mean, 20.
    # x = 3: 0.3 + 0.5 - 1 < 0: own mean, 40. x = 0: the mean of the means, 30.
    assert spend.tolist() == pytest.approx([20.0, 40.0, 30.0])


def test_gamma_gamma_recovers_the_parameters_it_was_simulated_with():
    rng = np.random.default_rng(11)
    frequency = 1 + rng.poisson(3, size=20_000)
    frequency[:2000] = 0  # customers with no repeat purchase do not enter the fit
    monetary = simulate_gamma_gamma(CDNOW_SPEND, frequency, rng)

    fitted = fit_gamma_gamma(frequency=frequency, monetary_value=monetary).params

    assert fitted.p == pytest.approx(CDNOW_SPEND.p, rel=0.2)
    assert fitted.q == pytest.approx(CDNOW_SPEND.q, rel=0.1)
    assert fitted.v == pytest.approx(CDNOW_SPEND.v, rel=0.2)
    # The population mean spend v p / (q - 1) = 35.22 is pinned down tightly.
    assert fitted.v * fitted.p / (fitted.q - 1) == pytest.approx(35.219, rel=0.03)


def test_gamma_gamma_fit_needs_repeat_customers():
    with pytest.raises(ValueError, match="at least two"):
        fit_gamma_gamma(frequency=[0, 0, 1], monetary_value=[0.0, 0.0, 12.0])


def test_clv_without_discount_is_expected_purchases_times_spend_times_margin():
    x, t_x, big_t = arrays(CUSTOMERS[:2])
    monetary = np.array([0.0, 30.0])

    clv = clv_discounted(
        CDNOW,
        CDNOW_SPEND,
        frequency=x,
        recency=t_x,
        T=big_t,
        monetary_value=monetary,
        months=12,
        annual_discount_rate=0.0,
        margin=0.25,
        days_per_unit=7.0,
    )

    # 12 months of 365.25 / 12 days = 365.25 days = 52.17857 weeks.
    year_purchases = bgnbd_expected_purchases(
        CDNOW, t=365.25 / 7, frequency=x, recency=t_x, T=big_t
    )
    spend = np.array([35.21898, 30.93832])  # by hand, see the test above
    assert clv == pytest.approx(year_purchases * spend * 0.25, rel=1e-6)


def test_clv_discounts_each_month_at_the_monthly_equivalent_rate():
    x, t_x, big_t = np.array([2.0]), np.array([30.43]), np.array([38.86])

    clv = clv_discounted(
        CDNOW,
        CDNOW_SPEND,
        frequency=x,
        recency=t_x,
        T=big_t,
        monetary_value=np.array([30.0]),
        months=2,
        annual_discount_rate=0.10,
        days_per_unit=7.0,
    )

    month = 365.25 / 12 / 7  # weeks in a month
    first = direct_expected_purchases(CDNOW, month, 2, 30.43, 38.86)
    both = direct_expected_purchases(CDNOW, 2 * month, 2, 30.43, 38.86)
    d = 1.10 ** (1 / 12) - 1  # 0.7974% a month
    expected = (first / (1 + d) + (both - first) / (1 + d) ** 2) * 30.93832
    assert clv[0] == pytest.approx(expected, rel=1e-6)


def test_holdout_error_is_the_mean_absolute_miss_in_purchases():
    # Customer 1516 is predicted 1.226 purchases in 39 weeks and made 2: off by 0.774.
    # A customer with no repeat purchase at T = 38.86 is predicted E0 and made 0: off by E0.
    e0 = direct_expected_purchases(CDNOW, 39.0, 0, 0.0, 38.86)
    e1516 = direct_expected_purchases(CDNOW, 39.0, 2, 30.43, 38.86)

    error = holdout_error(
        CDNOW,
        frequency_cal=np.array([0.0, 2.0]),
        recency_cal=np.array([0.0, 30.43]),
        T_cal=np.array([38.86, 38.86]),
        frequency_holdout=np.array([0.0, 2.0]),
        duration_holdout=39.0,
    )

    assert error == pytest.approx((e0 + (2 - e1516)) / 2, rel=1e-8)


def test_fits_report_their_log_likelihood_size_convergence_and_penalty():
    rng = np.random.default_rng(3)
    x, t_x, big_t = simulate_bgnbd(CDNOW, n=3_000, T=rng.uniform(52, 78, 3_000), rng=rng)

    fit = fit_bgnbd(frequency=x, recency=t_x, T=big_t)
    penalised = fit_bgnbd(frequency=x, recency=t_x, T=big_t, penalizer=0.01)

    assert fit.converged
    assert fit.n_customers == 3_000
    assert fit.penalizer == 0.0
    assert fit.log_likelihood == pytest.approx(bgnbd_log_likelihood(fit.params, x, t_x, big_t))
    # The penalised fit is a worse fit of the data: the penalty is not in its likelihood.
    assert penalised.penalizer == 0.01
    assert penalised.log_likelihood < fit.log_likelihood

    frequency = 1 + rng.poisson(3, size=3_000)
    frequency[:500] = 0
    spend = fit_gamma_gamma(
        frequency=frequency, monetary_value=simulate_gamma_gamma(CDNOW_SPEND, frequency, rng)
    )
    assert spend.converged
    assert spend.n_customers == 2_500  # customers without a repeat purchase do not enter
