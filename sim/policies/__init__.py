"""Plug-in interventions and their registry.

Core objects: :data:`REGISTRY` (scenario ``type`` name -> policy class), :func:`register` (add a
policy class of your own), :func:`build_policy` (validate one ``[[policies]]`` table) and
:func:`check_policy` (the names a policy refers to, against a scenario's config).
"""

from __future__ import annotations

from sim.policies.base import Day, NoIntervention, Offer, Policy, PolicyParams, Target, control, known_names
from sim.policies.contact_cap import ContactCap
from sim.policies.cross_sell import CrossSell
from sim.policies.loyalty import Loyalty, TierBenefit
from sim.policies.offers import Coupon, OfferParams
from sim.policies.onboarding import Onboarding
from sim.policies.referral import Referral
from sim.policies.winback import WinBack

__all__ = [
    "Policy", "PolicyParams", "Target", "Offer", "Day", "NoIntervention", "control", "Coupon", "OfferParams",
    "Loyalty", "TierBenefit", "WinBack", "Onboarding", "Referral", "CrossSell", "ContactCap",
    "REGISTRY", "register", "build_policy", "check_policy",
]  # fmt: skip

REGISTRY: dict[str, type[Policy]] = {
    cls.kind: cls
    for cls in (NoIntervention, Coupon, Loyalty, WinBack, Onboarding, Referral, CrossSell, ContactCap)
}


def register(cls: type[Policy]) -> type[Policy]:
    """Register a policy class under its ``kind`` so scenario files can name it (usable as a decorator).

    Registering the same class again is allowed, and so is a class redefined under the same
    qualified name in the same module (re-running a notebook cell that defines and registers it):
    the newer definition replaces the older. A different class under a taken ``kind`` is an error.
    """
    if not (isinstance(cls, type) and issubclass(cls, Policy)) or not cls.kind:
        raise TypeError("register() takes a Policy subclass with a non-empty 'kind'")
    old = REGISTRY.get(cls.kind)
    if old is not None and old is not cls and (old.__module__, old.__qualname__) != (cls.__module__, cls.__qualname__):
        raise ValueError(
            f"a different policy class is already registered as '{cls.kind}' "
            f"({old.__module__}.{old.__qualname__}); choose another kind for {cls.__module__}.{cls.__qualname__}"
        )
    REGISTRY[cls.kind] = cls
    return cls


def build_policy(table: dict) -> Policy:
    """Build a policy from one scenario table ``{type = ..., name = ..., <params>}``.

    Raises
    ------
    KeyError
        If ``type`` is missing or not registered (the message lists the registered kinds).
    pydantic.ValidationError
        If a parameter is unknown, of the wrong type or out of range.
    """
    params = dict(table)
    kind = params.pop("type", None)
    if kind not in REGISTRY:
        raise KeyError(kind)
    name = params.pop("name", None)
    return REGISTRY[kind](name=name, **params)


def check_policy(policy: Policy, config) -> None:
    """Check the names ``policy`` refers to against a scenario's ``config``; raise ValueError if not.

    Its own :meth:`Policy.check` (target stages, tiers, segments, channels and whatever else the
    policy names) and, for a policy that brings lost customers back (``reactivate_to``), that the
    stage exists and every churned stage declares a ``rule = "policy"`` transition to it.
    """
    policy.check(config)
    target = getattr(policy.params, "reactivate_to", None)
    if not target:
        return
    stages = [s.name for s in config.stages]
    if target not in stages:
        raise ValueError(f"reactivate_to: unknown stage '{target}'; the stages are {known_names(stages)}")
    moves = {(t.from_, t.to) for t in config.transitions if t.rule == "policy"}
    for stage in config.stages:
        if stage.churned and (stage.name, target) not in moves:
            raise ValueError(
                f"reactivate_to = '{target}', but the scenario declares no transition from churned stage "
                f"'{stage.name}' to '{target}' with rule = 'policy'"
            )
