"""The model_fit step: BG/NBD and Gamma-Gamma fitted on a seeded sample of the
per-customer summaries, with a holdout error; an incremental night reuses the fit of the
last full one."""

from __future__ import annotations

import numpy as np
from django.conf import settings

from ..analytics.clv import (
    BgNbdParams,
    FitResult,
    GammaGammaParams,
    bgnbd_expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_expected_spend,
    holdout_error,
)
from ..models import ModelFit, RunMode
from .context import FIT_SAMPLE, RunContext, epoch_day, holdout_days


def _rft(days, first, last, end_day):
    """Frequency (repeat purchase days), recency and T in days for customers with purchases."""
    frequency = np.maximum(days - 1, 0)
    recency = np.maximum(last - first, 0)
    big_t = np.maximum(end_day - first, recency)
    return frequency, recency, big_t


# A fit whose parameters run off towards the edges of what a float holds has found no
# maximum inside the parameter space: the book is too small or too regular to identify
# the model, and its predictions overflow.
DEGENERATE_LOG = 15.0
FALLBACK_PENALIZER = 0.001


def _usable(result: FitResult, data: dict) -> bool:
    params = np.array(list(vars(result.params).values()), dtype=float)
    if not (
        result.converged
        and np.all(np.isfinite(params))
        and np.all(np.abs(np.log(params)) < DEGENERATE_LOG)
    ):
        return False
    with np.errstate(all="ignore"):
        if isinstance(result.params, BgNbdParams):
            predicted = bgnbd_expected_purchases(result.params, t=365.0, **data)
        else:
            predicted = gamma_gamma_expected_spend(result.params, **data)
    return bool(np.all(np.isfinite(predicted)))


def _fit_with_fallback(fitter, penalizer: float, **data) -> tuple[FitResult, str]:
    """The plain (or configured) fit; where it finds no usable maximum, the same fit with a
    small penalty, saying so: an unidentified model would put NaN or absurd numbers on
    every customer."""
    result = fitter(penalizer=penalizer, **data)
    if penalizer >= FALLBACK_PENALIZER or _usable(result, data):
        return result, ""
    return fitter(penalizer=FALLBACK_PENALIZER, **data), (
        "Too little data to identify the model without a penalty; "
        f"fitted with penalty {FALLBACK_PENALIZER}."
    )


def _sample(mask: np.ndarray, seed: int) -> np.ndarray:
    where = np.flatnonzero(mask)
    if where.size <= FIT_SAMPLE:
        return where
    # A fixed seed per run date keeps the run idempotent.
    return np.sort(np.random.default_rng(seed).choice(where, FIT_SAMPLE, replace=False))


def step_model_fit(ctx: RunContext) -> int:
    if ctx.mode == RunMode.INCREMENTAL:
        return _reuse_fit(ctx)
    return _fit_models(ctx)


def _summaries_for_models(ctx: RunContext) -> None:
    """The models' inputs, in purchase days ([FHL05] section 2, [FH13]): frequency is the
    purchase days after the first, recency and T run from the first purchase day to the
    last one and to the end of the data (the run date's midnight, so a customer first
    seen yesterday has T = 1), and the spend per purchase is the mean over the repeat
    days only (NaN without one: Gamma-Gamma gives those customers the population mean)."""
    d = ctx.data
    end_day = epoch_day(ctx.run_date)
    days = d["days"]
    d["frequency"], d["recency"], d["T"] = _rft(days, d["first_day"], d["last_day"], end_day)
    with np.errstate(divide="ignore", invalid="ignore"):
        d["monetary"] = np.where(days >= 2, d["repeat_revenue"] / (days - 1), np.nan)


def _reuse_fit(ctx: RunContext) -> int:
    """An incremental night scores with the models the last full run fitted: a day's
    purchases by 1% of the book do not move population parameters fitted on 50,000
    customers, and the weekly full run refits them."""
    _summaries_for_models(ctx)
    source = ModelFit.objects.get(run_date=ctx.full_run_date())
    # A full night with too few buyers stored no parameters: score without the model.
    bg = gg = None
    r, alpha, a, b = source.bgnbd_r, source.bgnbd_alpha, source.bgnbd_a, source.bgnbd_b
    if r is not None and alpha is not None and a is not None and b is not None:
        bg = BgNbdParams(r=r, alpha=alpha, a=a, b=b)
    p, q, v = source.gg_p, source.gg_q, source.gg_v
    if p is not None and q is not None and v is not None:
        gg = GammaGammaParams(p=p, q=q, v=v)
    ctx.data["fit"] = {"bg": bg, "gg": gg, "mae": source.holdout_mae, "note": source.note}
    values = {
        f.name: getattr(source, f.name)
        for f in ModelFit._meta.concrete_fields
        if f.name not in {"id", "run_date", "created_at", "note"}
    }
    values["note"] = (
        f"Fitted by the full run of {source.run_date}; reused by this incremental night."
    )
    if source.run_date != ctx.run_date:  # (running the full night's date again keeps its fit)
        ModelFit.objects.update_or_create(run_date=ctx.run_date, defaults=values)
    return 0


def _fit_models(ctx: RunContext) -> int:
    values = ctx.data.pop("fitted", None) or fit_purchase_models(ctx)
    ModelFit.objects.update_or_create(run_date=ctx.run_date, defaults=values)
    return 1


def fit_purchase_models(ctx: RunContext) -> dict:
    """Fit both purchase models (numpy and scipy only: no database, so it can run while
    PostgreSQL works for the metrics step); returns the ModelFit values."""
    d = ctx.data
    cal_end_day = epoch_day(ctx.run_date) - holdout_days()
    buyers = d["days"] > 0
    _summaries_for_models(ctx)
    frequency, recency, big_t, monetary = d["frequency"], d["recency"], d["T"], d["monetary"]
    seed = ctx.run_date.toordinal()
    penalizer = float(settings.CRM_MODEL_PENALIZER)
    fit: dict = {"bg": None, "gg": None, "mae": None, "note": ""}
    diagnostics: dict = {"penalizer": penalizer}
    sample = _sample(buyers, seed)
    repeaters = int((frequency[buyers] > 0).sum())
    if sample.size < 3 or repeaters < 2:
        fit["note"] = "Too few customers with purchases to fit the purchase model."
    else:
        bg_fit, bg_note = _fit_with_fallback(
            fit_bgnbd,
            penalizer,
            frequency=frequency[sample],
            recency=recency[sample],
            T=big_t[sample],
        )
        fit["bg"] = bg_fit.params
        fit["note"] = bg_note
        diagnostics.update(
            bgnbd_log_likelihood=bg_fit.log_likelihood,
            bgnbd_converged=bg_fit.converged,
            penalizer=bg_fit.penalizer,
        )
        try:
            gg_fit, gg_note = _fit_with_fallback(
                fit_gamma_gamma,
                penalizer,
                frequency=frequency[sample],
                monetary_value=monetary[sample],
            )
            fit["gg"] = gg_fit.params
            fit["note"] = fit["note"] or gg_note
            diagnostics.update(
                gg_n_customers=gg_fit.n_customers,
                gg_log_likelihood=gg_fit.log_likelihood,
                gg_converged=gg_fit.converged,
                penalizer=max(bg_fit.penalizer, gg_fit.penalizer),
            )
        except ValueError as exc:
            fit["note"] = f"Spend model not fitted: {exc}."
        # Holdout: fit on purchases before the calibration end, predict the holdout window.
        cal_buyers = d["cal_days"] > 0
        cal_sample = _sample(cal_buyers, seed + 1)
        if cal_sample.size >= 3 and int((d["cal_days"][cal_sample] > 1).sum()) >= 2:
            fc, rc, tc = _rft(d["cal_days"], d["cal_first_day"], d["cal_last_day"], cal_end_day)
            cal_fit = _fit_with_fallback(
                fit_bgnbd,
                penalizer,
                frequency=fc[cal_sample],
                recency=rc[cal_sample],
                T=tc[cal_sample],
            )[0].params
            fit["mae"] = holdout_error(
                cal_fit,
                frequency_cal=fc[cal_sample],
                recency_cal=rc[cal_sample],
                T_cal=tc[cal_sample],
                frequency_holdout=(d["days"] - d["cal_days"])[cal_sample],
                duration_holdout=float(holdout_days()),
            )
        else:
            fit["note"] = (fit["note"] + " Too little history for a holdout check.").strip()
    d["fit"] = fit
    bg, gg = fit["bg"], fit["gg"]
    values = {
        "n_customers": int(sample.size),
        "bgnbd_r": bg.r if bg else None,
        "bgnbd_alpha": bg.alpha if bg else None,
        "bgnbd_a": bg.a if bg else None,
        "bgnbd_b": bg.b if bg else None,
        "gg_p": gg.p if gg else None,
        "gg_q": gg.q if gg else None,
        "gg_v": gg.v if gg else None,
        "holdout_days": holdout_days(),
        "holdout_mae": fit["mae"],
        "note": fit["note"][:300],
        "bgnbd_log_likelihood": None,
        "bgnbd_converged": None,
        "gg_n_customers": 0,
        "gg_log_likelihood": None,
        "gg_converged": None,
        **diagnostics,
    }
    return values
