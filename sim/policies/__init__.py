"""Plug-in interventions and their registry.

Core objects: :data:`REGISTRY` (scenario ``type`` name -> policy class), :func:`register` (add a
policy class of your own) and :func:`build_policy` (validate one ``[[policies]]`` table).
"""

from __future__ import annotations

from sim.policies.base import Day, NoIntervention, Offer, Policy, PolicyParams, Target
from sim.policies.contact_cap import ContactCap
from sim.policies.cross_sell import CrossSell
from sim.policies.loyalty import Loyalty, TierBenefit
from sim.policies.offers import Coupon, OfferParams
from sim.policies.onboarding import Onboarding
from sim.policies.referral import Referral
from sim.policies.winback import WinBack

__all__ = [
    "Policy", "PolicyParams", "Target", "Offer", "Day", "NoIntervention", "Coupon", "OfferParams",
    "Loyalty", "TierBenefit", "WinBack", "Onboarding", "Referral", "CrossSell", "ContactCap",
    "REGISTRY", "register", "build_policy",
]  # fmt: skip

REGISTRY: dict[str, type[Policy]] = {
    cls.kind: cls
    for cls in (NoIntervention, Coupon, Loyalty, WinBack, Onboarding, Referral, CrossSell, ContactCap)
}


def register(cls: type[Policy]) -> type[Policy]:
    """Register a policy class under its ``kind`` so scenario files can name it (usable as a decorator)."""
    if not (isinstance(cls, type) and issubclass(cls, Policy)) or not cls.kind:
        raise TypeError("register() takes a Policy subclass with a non-empty 'kind'")
    if cls.kind in REGISTRY and REGISTRY[cls.kind] is not cls:
        raise ValueError(f"a policy of kind '{cls.kind}' is already registered")
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
