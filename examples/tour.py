"""A notebook-style tour of Lifecycle Lab from Python (run it: ``.venv/bin/python examples/tour.py``).

Loads a preset, writes and registers a policy of its own, runs it beside its counterfactual,
runs a two-arm experiment, fits BG/NBD to the shipped CDNOW log and plots daily stage counts.
Each cell can be re-run in the same session.
"""

# %% A preset and a policy of our own
from importlib import resources

import matplotlib

matplotlib.use("Agg")

import lifecycle
from lifecycle import Offer, Policy, PolicyParams

scenario = lifecycle.load_scenario("retail_tiers")


@lifecycle.register
class AnniversaryCoupon(Policy):
    """A coupon 30 days after acquisition, to customers who are still there."""

    kind = "anniversary_coupon"

    class Params(PolicyParams):
        discount: float = 10.0

    def apply(self, day):
        due = day.matches(day.alive(day.arrivals_on(day.t - 30)), self.params.target)
        day.give_offer(self, due, Offer(discount=self.params.discount, valid_days=14, purchase_lift=1.3), send_cost=0.05)


with_coupon = scenario.with_policies([*scenario.policies, AnniversaryCoupon(name="anniversary", discount=15)])

# %% Run it, and the same customers without any policy (common random numbers)
report = lifecycle.run(with_coupon, customers=3_000, days=120, seed=7)
summary = report.summary()
print(f"LTV per customer {summary['metrics']['ltv_mean']:.2f} ± {1.96 * summary['uncertainty']['ltv_mean']['se']:.2f}")
print(f"policies vs none: ROI {report.policy_roi['roi']:.2f}")
daily = report.daily  # a pandas DataFrame, one row per day

# %% A two-arm experiment: control vs the coupon, beside the twin-world truth
result = lifecycle.experiment(
    with_coupon,
    arms=[{"name": "control", "policies": []}, {"name": "coupon", "policies": ["anniversary"]}],
    customers=3_000, warmup_days=30, days=90, seed=7,
)
ltv = next(r for r in result.rows if r["metric"] == "ltv")
print(f"LTV uplift {ltv['estimate']:.3f} [{ltv['ci_low']:.3f}, {ltv['ci_high']:.3f}], true {ltv['true_effect']:.3f}")

# %% BG/NBD and Gamma-Gamma fitted to the CDNOW log, checked on a holdout
cdnow = resources.files("scenarios") / "data" / "cdnow.txt"
fit = lifecycle.calibrate(cdnow, calibration_end="1997-09-30", holdout_end="1998-06-30", replications=1)
print("BG/NBD", {k: round(v, 4) for k, v in fit.purchases.params_.items()})

# %% Daily stage counts
stages = [c for c in daily.columns if c.startswith("stage:")]
axes = daily[stages].rename(columns=lambda c: c.removeprefix("stage:")).plot(figsize=(8, 4))
axes.set_xlabel("day")
axes.set_ylabel("customers in stage")
