"""Short "explain" texts for the classroom: one slide's worth per framework, stage and policy.

Core functions: :func:`framework_text` (the stage framework of a scenario), :func:`stage_text`
(one stage: what it means and how customers leave it, read from the scenario's own rules, so an
uploaded scenario is explained too) and :func:`policy_text` (a policy type: what it does, what it
costs, what to watch on the charts, and what the current parameters say).
"""

from __future__ import annotations

__all__ = ["framework_text", "stage_text", "policy_text", "policy_now", "run_length_text", "FRAMEWORKS", "STAGES", "POLICIES"]

#: preset name -> (title, text)
FRAMEWORKS: dict[str, tuple[str, str]] = {
    "retail_tiers": (
        "Rule-based retail lifecycle with value tiers",
        "Stages follow simple business rules on dates: no purchase yet, the first 30 days after the first "
        "order, up to a year, over a year. Two warnings fire after 45 and 90 silent days. Value tiers "
        "(high, mid, basic) sit across the stages and decide who gets rich offers. The firm only sees "
        "purchases; 'churned' is the truth only the simulation knows.",
    ),
    "four_stage_funnel": (
        "Four-stage funnel: awareness, interest, purchase, loyalty",
        "The classic marketing funnel. People hear of us, some become interested, some of those buy, a "
        "few become loyal. Each step loses people: watch how thin the funnel gets and where a coupon or a "
        "referral bounty widens it.",
    ),
    "five_stage_lifecycle": (
        "Five-stage lifecycle: introduction, growth, maturity, dormancy, churn and recall",
        "Every customer eventually leaves. The job is to lengthen the stay: help newcomers grow, keep the "
        "mature ones, spot dormancy early and recall some of the lost. Stage names are the "
        "Chinese terms of the lifecycle course it follows.",
    ),
    "six_stage_rfm": (
        "Six-stage operating model with RFM segments",
        "Acquire, activate, grow, mature, churn, recall. RFM scores (recency, frequency, monetary) are laid "
        "over the stages every month, so policies can aim at 'champions' or 'at risk' rather than at "
        "everybody.",
    ),
    "markov_value": (
        "Markov customer value (constant probabilities)",
        "Customers switch between a few states with fixed daily probabilities. With constant rates the "
        "expected value has a closed form (Pfeifer and Carraway): the simulation must land on it. Good for "
        "showing that averages are predictable while single customers are not.",
    ),
    "cdnow_calibrated": (
        "Buy-till-you-die customers fitted to a real log",
        "Each customer buys at its own rate until it silently drops out after some purchase (BG/NBD), with "
        "order values from the Gamma-Gamma model, fitted to the CDNOW transaction log. Realistic: most "
        "customers buy once or twice, a few carry the revenue.",
    ),
}

#: stage name (as the presets spell it) -> text
STAGES: dict[str, str] = {
    "potential": "Registered but has not bought yet. The first order is the hurdle: a first-order coupon aims here.",
    "activation": "The first 30 days after the first order, when habits form. A small repurchase coupon is sent here.",
    "retention": "A customer for 30 days up to a year, buying now and then. Most of the margin is earned here.",
    "value_add": "A customer for over a year: the time to cross-sell and upgrade, not to discount.",
    "light_warning": "No purchase for 45 days: an early warning. A cheap nudge is often enough.",
    "churn_warning": "No purchase for 90 days: the heavy warning. Rich offers for valuable customers, a reminder for the rest.",
    "churned": "Gone for good, silently. The firm cannot see this stage; only a win-back offer brings someone back.",
    "awareness": "Has heard of us but is not interested yet. New users stay here about 3 days.",
    "interest": "Browsing and comparing. About 30% of interested users go on to buy.",
    "purchase": "Has bought: a customer, but not yet attached to the brand.",
    "loyalty": "Attached: buys more often, spends more, stays longer and recommends us. About 15% get here.",
    "导入期": "Introduction (导入期): newly acquired, at most one purchase. Fragile: many leave before the second order.",
    "成长期": "Growth (成长期): a repeat buyer, buying more and more. Onboarding and cross-sell work here.",
    "成熟期": "Maturity (成熟期): five or more purchases; frequent, big baskets. These few carry the profit.",
    "休眠期": "Dormancy (休眠期): a buyer silent for 60 days. Intervene before the customer is lost.",
    "流失期": "Churn (流失期): gone, silently. The firm only sees that purchases stopped.",
    "召回": "Recall (召回): a lost customer brought back by a win-back offer. Watch what the offers cost per recall.",
    "acquire": "Reached or registered, no purchase yet.",
    "activate": "One purchase so far: the second purchase is the hurdle.",
    "grow": "A repeat buyer with two to four purchases.",
    "mature": "Five or more purchases: the customers who carry the profit.",
    "churn": "Gone, silently; the firm only sees a long recency.",
    "recall": "Came back after churning, thanks to a win-back coupon.",
    "new": "Just joined: buys half as often and leaves twice as fast as a regular.",
    "active": "A regular customer.",
    "loyal": "Attached: buys more, spends more, rarely leaves.",
    "lapsing": "Drifting away: rarely buys, often leaves, sometimes comes back.",
    "lost": "Gone for good: an absorbing state.",
}

#: policy type -> (title, what it does, what it costs, what to watch)
POLICIES: dict[str, tuple[str, str, str, str]] = {
    "coupon": (
        "Coupon",
        "Sends one offer on a trigger day: after acquisition (first order), after the first order "
        "('spend 100 get 20 off') or after a silent spell (win-back). While valid it lifts the chance to buy.",
        "The discount on every redeemed order, plus a small sending cost.",
        "Flows out of the first stages speed up; costs rise at once. Many redeemers would have bought anyway: "
        "compare with the coupon at 0 on the same customers.",
    ),
    "loyalty": (
        "Loyalty points and tiers",
        "Points on every purchase; members of the top tiers buy a little more often and leave less often.",
        "Redeemed points plus the benefits, a share of the members' spend.",
        "Fewer churned customers among the high tiers; benefit costs grow with their spend. Move the tier "
        "thresholds to see who qualifies.",
    ),
    "winback": (
        "Win-back offers",
        "When a customer has not bought for N days, a light and later a heavy offer: rich for the valuable "
        "tiers, a cheap reminder for the rest. Offers can also bring churned customers back.",
        "Discounts on redeemed offers and sending costs.",
        "Flows from the warning stages back to buying, and recalls from 'churned'. Raise the trigger days and "
        "fewer, later, cheaper offers go out.",
    ),
    "onboarding": (
        "Onboarding",
        "Guide contacts and a boost in the first weeks after the first order, optionally a small coupon.",
        "Each contact, and the discounts redeemed.",
        "Early repurchase and activation; the target is a 7-day repurchase rate of 20% or more.",
    ),
    "referral": (
        "Referral bounty",
        "Targeted buyers refer new customers, who arrive the next day through the referral channel.",
        "The bounty per referral, booked to the referring customer: referred customers arrive at zero CAC.",
        "Acquisition through the referral channel and overall CAC falling as the bounty pays off.",
    ),
    "cross_sell": (
        "Cross-sell and recommendations",
        "Lifts the basket of the targeted customers.",
        "A cost per order.",
        "Revenue per order among mature customers; profit only if the lift beats the cost.",
    ),
    "contact_cap": (
        "Contact cap",
        "No customer gets more than N contacts in any 7 days; it runs before every other policy.",
        "Nothing, but it holds other policies back.",
        "Too many touches annoy customers and raise churn; a cap trades reach for goodwill.",
    ),
    "none": ("No intervention", "Does nothing: the baseline.", "Nothing.", "The world without the lab's levers."),
}


def framework_text(scenario) -> tuple[str, str]:
    """(title, text) for the scenario's stage framework; uploaded scenarios get a generic text."""
    cfg = scenario.config
    if cfg.name in FRAMEWORKS:
        return FRAMEWORKS[cfg.name]
    names = " → ".join(s.name for s in cfg.stages)
    desc = (cfg.description or "").strip().splitlines()
    first = desc[0] if desc else "A scenario of your own."
    return (f"Your framework: {cfg.name}",
            f"{first} Stages: {names}. Each stage's text below is read from the file's own rules.")


def run_length_text(scenario, days: int) -> str:
    """Why the page plays ``days`` days when the file says fewer (empty if it plays the file's own length)."""
    file_days = int(scenario.config.run.days)
    if days <= file_days:
        return ""
    from lifecycle.app.limits import longest_time_rule

    rule = longest_time_rule(scenario)
    since = {"acquisition": "acquisition", "first_purchase": "first purchase", "last_purchase": "last purchase",
             "stage_entry": "entry into its stage"}.get(str(rule.since), str(rule.since))
    return (f"The page plays {days:,} days, not the file's {file_days:,}: a customer reaches '{rule.to}' only "
            f"{rule.after_days:,} days after its {since}, so in a shorter run that stage would stay empty. "
            f"Watch the first customers arrive in it after day {rule.after_days:,}.")


def _rule_phrase(tr, stage_label) -> str:
    to = stage_label(tr.to)
    if tr.rule == "churn":
        return f"to {to} by their own hidden churn"
    if tr.rule == "event":
        n = tr.min_purchases
        return f"to {to} on reaching {n} purchase{'s' if n != 1 else ''}" if n and n > 1 else f"to {to} on a purchase"
    if tr.rule == "time":
        since = (tr.since or "stage_entry").replace("_", " ")
        return f"to {to} {tr.after_days} days after {since}"
    if tr.rule == "probability":
        return f"to {to} with a daily chance of {100 * (tr.daily_probability or 0):.2g}%"
    if tr.rule == "policy":
        return f"to {to} only when a policy brings them"
    return f"to {to}"


def stage_text(scenario, name: str) -> str:
    """What stage ``name`` means and how customers leave it (from the scenario's own rules)."""
    cfg = scenario.config
    stage = next((s for s in cfg.stages if s.name == name), None)
    if stage is None:
        return ""
    base = STAGES.get(name) or (stage.description or "").strip() or f"Stage '{name}'."
    if stage.churned:
        base += "" if "gone" in base.lower() else " Customers here are gone: they buy nothing."
    leaving = [_rule_phrase(t, lambda x: f"'{x}'") for t in cfg.transitions if t.from_ == name]
    if leaving:
        base += " Leaves " + "; ".join(leaving) + "."
    mults = []
    if stage.purchase_multiplier != 1:
        mults.append(f"buys x{stage.purchase_multiplier:g}")
    if stage.churn_multiplier != 1:
        mults.append(f"churn x{stage.churn_multiplier:g}")
    if stage.basket_multiplier != 1:
        mults.append(f"basket x{stage.basket_multiplier:g}")
    if mults:
        base += " Here a customer " + ", ".join(mults) + "."
    return base


def policy_now(policy) -> str:
    """One sentence on what this policy's current parameters say."""
    p = policy.get_params()
    kind = policy.kind
    tgt = p.get("target") or {}
    aimed = [f"{k} {', '.join(v)}" for k, v in tgt.items() if v]
    who = f" Aimed at {'; '.join(aimed)}." if aimed else ""
    if kind == "coupon":
        o = p.get("offer", {})
        when = {"first_order": "after acquisition", "repurchase": "after the first order",
                "winback": "after a silent spell"}.get(p.get("trigger"), "")
        return (f"Now: spend {o.get('min_spend', 0):g} get {o.get('discount', 0):g} off, sent "
                f"{p.get('send_after_days')} days {when}, valid {o.get('valid_days')} days.{who}")
    if kind == "loyalty":
        parts = [f"{t}: churn x{b.get('churn_multiplier', 1):g}, cost {100 * b.get('cost_share_of_spend', 0):g}% of spend"
                 for t, b in (p.get("benefits") or {}).items()]
        return "Now: " + ("; ".join(parts) if parts else "no tier benefits") + "." + who
    if kind == "winback":
        return (f"Now: light offer after {p.get('light_after_days')} silent days "
                f"({p.get('light_offer', {}).get('discount', 0):g} off), heavy after {p.get('heavy_after_days')} "
                f"({p.get('heavy_offer', {}).get('discount', 0):g} off); rich offers for "
                f"{', '.join(p.get('rich_tiers') or []) or 'nobody'}.{who}")
    if kind == "referral":
        return f"Now: bounty {p.get('bounty', 0):g} per referral, daily chance {100 * p.get('daily_rate', 0):.2g}%.{who}"
    if kind == "contact_cap":
        return f"Now: at most {p.get('max_per_week')} contacts per customer per week.{who}"
    if kind == "onboarding":
        return (f"Now: {p.get('window_days')} days of onboarding, purchases x{p.get('purchase_multiplier', 1):g}, "
                f"churn x{p.get('churn_multiplier', 1):g}.{who}")
    if kind == "cross_sell":
        return f"Now: baskets x{p.get('basket_multiplier', 1):g}, cost {p.get('cost_per_order', 0):g} per order.{who}"
    return _levers_now(policy, who)


def _levers_now(policy, who: str) -> str:
    """A policy of one's own: its first few numeric levers, as its ``Params`` metadata labels them."""
    from lifecycle.app.levers import policy_levers

    shown = [f"{lv.label} {lv.value:g}" for lv in policy_levers(policy, {})
             if lv.type in ("SliderInt", "SliderFloat") and lv.path != ("coverage",)][:4]
    return (f"Now: {', '.join(shown)}.{who}" if shown else who.strip())


def policy_text(policy) -> str:
    """What this kind of policy does, what it costs, what to watch, and its current parameters."""
    title, does, costs, watch = POLICIES.get(
        policy.kind, (policy.kind, (type(policy).__doc__ or "A policy of your own.").strip().splitlines()[0], "", "")
    )
    parts = [f"{title} '{policy.name}': {does}"]
    if costs:
        parts.append(f"Costs: {costs}")
    if watch:
        parts.append(f"Watch: {watch}")
    now = policy_now(policy)
    if now:
        parts.append(now)
    return " ".join(parts)
