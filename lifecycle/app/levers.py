"""Levers: the page's controls, built from what the policies and the scenario say about themselves.

Core objects:

- :class:`Lever`: one control (what it changes, its range, its current value), with a stable
  :attr:`Lever.id` such as ``policy:repurchase_coupon:offer.discount``.
- :func:`policy_levers`: a policy's controls, read from the metadata on its ``Params`` fields
  (:func:`sim.policies.base.control`): labels, slider ranges, help, which of the scenario's names a
  selection chooses from. Nothing here knows a policy kind, so a policy of your own
  (``@register class BirthdayCoupon(Policy)``) gets its labelled sliders the same way. A number at
  the top level of ``Params`` without metadata still gets a plain slider, a ``Literal`` a select.
- :func:`scenario_levers`: every lever of a scenario: its policies, then the daily spend per
  channel and the value-tier thresholds.
- :func:`lever_change`: a lever move as the ``{dotted.path: value}`` that
  :meth:`sim.scenario.Scenario.with_values` takes (the only way the page changes a scenario).
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from lifecycle.app.limits import LeverError
from sim.policies.base import PolicyParams

__all__ = ["Lever", "policy_levers", "scenario_levers", "scenario_names", "lever_change"]


@dataclass(frozen=True)
class Lever:
    """One control: which part of a setting it changes, its range and its current value.

    ``kind`` is ``policy`` (``owner`` is the policy name, ``path`` the parameter path),
    ``channel`` (``owner`` is the channel, path ``("daily_spend",)``) or ``tier`` (``owner`` is
    the value tier, path ``("min_annual_spend",)`` or ``("min_purchases",)``).
    """

    kind: str
    owner: str
    path: tuple[str, ...]
    group: str
    label: str
    type: str  # SliderInt | SliderFloat | Select | SelectMultiple | Checkbox
    value: Any
    min: float | None = None
    max: float | None = None
    step: float | None = None
    values: tuple = ()
    help: str = ""

    @property
    def id(self) -> str:
        """Stable identifier, e.g. ``policy:repurchase_coupon:offer.discount``."""
        return f"{self.kind}:{self.owner}:{'.'.join(self.path)}"

    @property
    def key(self) -> tuple:
        """(kind, owner, path): what :meth:`Controller.set_lever` accepts besides the lever itself."""
        return (self.kind, self.owner, self.path)

    def user_param(self) -> dict:
        """The lever as one entry of Mesa's ``UserInputs`` specification."""
        spec: dict[str, Any] = {"type": self.type, "label": self.label, "value": self.value}
        if self.type in ("SliderInt", "SliderFloat"):
            spec.update(min=self.min, max=self.max, step=self.step)
        elif self.type == "Select":
            spec["values"] = list(self.values)
        return spec


# --- sliders --------------------------------------------------------------------------------------


def _nice_ceil(x: float) -> float:
    """Round up to 1, 2, 2.5 or 5 times a power of ten."""
    if x <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(x))
    for m in (1, 2, 2.5, 5, 10):
        if m * base >= x - 1e-12:
            return m * base
    return 10 * base  # pragma: no cover


def _slider(value, *, lo: float, floor_hi: float, step: float, factor: float = 3.0, cap: float | None = None,
            integer: bool = False) -> dict:
    """A slider from ``lo`` to at least ``floor_hi`` and ``factor`` x the value (a nice number, at most ``cap``)."""
    v = float(value if value is not None else lo)
    lo = min(lo, v)
    hi = _nice_ceil(max(floor_hi, v * factor, lo + step))
    if cap is not None:
        hi = min(hi, cap)
    if integer:
        return {"type": "SliderInt", "value": int(round(v)), "min": int(lo), "max": int(hi), "step": int(max(1, step))}
    return {"type": "SliderFloat", "value": v, "min": float(lo), "max": float(hi), "step": float(step)}


# --- policies: levers from the Params metadata ----------------------------------------------------


def _spec(field: FieldInfo) -> dict | None:
    """The field's ``control(...)`` metadata, or None."""
    extra = field.json_schema_extra
    spec = extra.get("control") if isinstance(extra, dict) else None
    return dict(spec) if isinstance(spec, dict) else None


def _plain(annotation):
    """``X`` for ``X | None``; the annotation otherwise."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _model(annotation) -> type[BaseModel] | None:
    a = _plain(annotation)
    return a if isinstance(a, type) and issubclass(a, BaseModel) else None


def _entry_model(annotation) -> type[BaseModel] | None:
    """``M`` for ``dict[str, M]`` with ``M`` a pydantic model."""
    a = _plain(annotation)
    if get_origin(a) is dict:
        args = get_args(a)
        if len(args) == 2 and args[0] is str:
            return _model(args[1])
    return None


def _bounds(field: FieldInfo, integer: bool) -> tuple[float | None, float | None]:
    """The validated (lowest, highest) value of a number field, None where unbounded."""
    lo = hi = None
    for m in field.metadata:
        if getattr(m, "ge", None) is not None:
            lo = m.ge
        if getattr(m, "gt", None) is not None:
            lo = m.gt + (1 if integer else 0)
        if getattr(m, "le", None) is not None:
            hi = m.le
        if getattr(m, "lt", None) is not None:
            hi = m.lt - (1 if integer else 0)
    return lo, hi


def _default(field: FieldInfo):
    if field.default is not PydanticUndefined:
        return field.default
    if field.default_factory is not None:
        return field.default_factory()
    return None


def _leaf(field: FieldInfo, name: str, value, spec: dict, *, prefix: str, names: dict) -> dict | None:
    """The control of one plain field as Lever keyword arguments, or None if it has none."""
    ann = _plain(field.annotation)
    label = prefix + (spec.get("label") or field.title or name.replace("_", " "))
    help = spec.get("help", field.description or "")
    out = {"label": label, "help": help}
    if get_origin(ann) is Literal:
        return {**out, "type": "Select", "value": value, "values": tuple(get_args(ann))}
    if ann is bool:
        return {**out, "type": "Checkbox", "value": bool(value)}
    if ann in (int, float):
        if value is None or isinstance(value, bool):
            return None
        integer = ann is int
        lo, hi = _bounds(field, integer)
        s = _slider(value, lo=spec.get("low", lo if lo is not None else 0), floor_hi=spec.get("high", 1),
                    step=spec.get("step", 1 if integer else 0.01), factor=spec.get("stretch", 3), cap=hi,
                    integer=integer)
        return {**out, "type": s["type"], "value": s["value"], "min": s["min"], "max": s["max"], "step": s["step"]}
    inner = get_args(ann)[0] if get_origin(ann) is list and get_args(ann) else None
    if get_origin(inner) is Literal:
        return {**out, "type": "SelectMultiple", "value": list(value or []), "values": tuple(get_args(inner))}
    choices = names.get(spec.get("names", ""), [])
    if not choices:
        return None
    if ann is str:
        return {**out, "type": "Select", "value": value, "values": tuple(choices)}
    if inner is str:
        return {**out, "type": "SelectMultiple", "value": list(value or []), "values": tuple(choices)}
    return None


def _walk(field: FieldInfo, path: tuple[str, ...], value, spec: dict | None, *, top: bool, prefix: str,
          names: dict):
    """Yield (path, Lever keyword arguments) for a field and, for nested models, their fields."""
    if spec is not None and spec.get("hidden"):
        return
    nested, entry = _model(field.annotation), _entry_model(field.annotation)
    if nested is not None or entry is not None:
        if spec is None:  # a nested model is a lever only when its field says so
            return
        subs = spec.get("fields")
        if nested is not None:
            groups = [((), value if isinstance(value, dict) else {}, prefix)]
            model = nested
        else:
            current = value if isinstance(value, dict) else {}
            keys = list(current) + [k for k in names.get(spec.get("names", ""), []) if k not in current]
            groups = [((k,), current.get(k) or {}, f"{prefix}{k}: ") for k in keys]
            model = entry
        for sub, sub_value, sub_prefix in groups:
            for name, sub_field in model.model_fields.items():
                sub_spec = (subs or {}).get(name, {}).get("control") if subs is not None else _spec(sub_field)
                if sub_spec is None:  # inside a nested model only described fields are levers
                    continue
                yield from _walk(sub_field, path + sub + (name,), sub_value.get(name), dict(sub_spec), top=False,
                                 prefix=sub_prefix, names=names)
        return
    if spec is None and not top:
        return
    if value is None:
        value = _default(field)
    made = _leaf(field, path[-1], value, spec or {}, prefix=prefix, names=names)
    if made is not None:
        yield path, made


def _field_order(model: type[BaseModel]) -> list[str]:
    """The policy's own fields in declaration order, then the shared ones (target, coverage)."""
    shared = [n for n in PolicyParams.model_fields if n in model.model_fields]
    return [n for n in model.model_fields if n not in shared] + shared


def policy_levers(policy, names: dict[str, list[str]]) -> list[Lever]:
    """The controls of one policy, from the ``control(...)`` metadata of its ``Params`` fields.

    ``names``: the scenario's lists of names (:func:`scenario_names`) that selections and
    per-tier groups choose from.
    """
    params = policy.get_params()
    model = type(policy.params)
    group = f"{policy.kind.replace('_', ' ')} '{policy.name}'"
    out = []
    for name in _field_order(model):
        field = model.model_fields[name]
        for path, kw in _walk(field, (name,), params.get(name), _spec(field), top=True, prefix="", names=names):
            kw["values"] = tuple(kw.get("values", ()))
            out.append(Lever("policy", policy.name, path, group, **kw))
    return out


def scenario_names(config) -> dict[str, list[str]]:
    """The scenario's names by list (:data:`sim.policies.base.CONTROL_NAMES`): stages, tiers, tiers
    with a threshold, RFM segments and channels."""
    tiers = config.tiers
    return {
        "stages": [s.name for s in config.stages],
        "tiers": [t.name for t in tiers],
        "buyer_tiers": [t.name for t in tiers if t.min_annual_spend > 0 or t.min_purchases > 0 or t.min_referrals > 0],
        "segments": [s.name for s in config.rfm.segments],
        "channels": [c.name for c in config.channels],
    }


# --- the scenario: policies, channels, tiers ------------------------------------------------------


def scenario_levers(scenario) -> list[Lever]:
    """Every control a scenario offers, with its current values: policies, then channels and tiers."""
    cfg = scenario.config
    names = scenario_names(cfg)
    out: list[Lever] = []
    for p in scenario.policies:
        out.extend(policy_levers(p, names))
    for c in cfg.channels:
        v = float(c.daily_spend)
        s = _slider(v, lo=0, floor_hi=max(100.0, 2 * c.saturation * c.cac), step=10)
        out.append(Lever("channel", c.name, ("daily_spend",), "acquisition spend per day", f"{c.name}: daily spend",
                         "SliderFloat", v, s["min"], s["max"], s["step"], (),
                         f"About {c.cac:g} per customer at small spend, at most {c.saturation:g} customers a day."))
    group = "value tier thresholds"
    for t in cfg.tiers:
        s1 = _slider(t.min_annual_spend, lo=0, floor_hi=1000, step=100)
        s2 = _slider(t.min_purchases, lo=0, floor_hi=20, step=1, factor=2, integer=True)
        out.append(Lever("tier", t.name, ("min_annual_spend",), group, f"{t.name}: min annual spend", "SliderFloat",
                         float(t.min_annual_spend), s1["min"], s1["max"], s1["step"], (), "First matching tier wins."))
        out.append(Lever("tier", t.name, ("min_purchases",), group, f"{t.name}: min purchases", "SliderInt",
                         int(t.min_purchases), s2["min"], s2["max"], s2["step"]))
    return out


def _number(value: Any, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise LeverError(f"{what}: a number is needed; got {value!r}") from None
    if not math.isfinite(v) or v < 0:
        raise LeverError(f"{what}: must be a number >= 0; got {value!r}")
    return v


def lever_change(scenario, kind: str, owner: str, path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """One lever move as ``{dotted.path: value}`` for :meth:`~sim.scenario.Scenario.with_values`.

    A value inside a table entry that does not exist yet (a loyalty benefit for a tier that has
    none) is given as the whole new entry. Raises LeverError for a lever the scenario lacks.
    """
    path = tuple(path)
    if not path:
        raise LeverError(f"lever {kind}:{owner}: no parameter named")
    if kind == "policy":
        match = [p for p in scenario.policies if p.name == owner]
        if not match:
            raise LeverError(f"no policy named {owner!r}; the policies are {[p.name for p in scenario.policies]}")
        node: Any = match[0].get_params()
        for i, part in enumerate(path[:-1]):
            if isinstance(node, dict) and node.get(part) is None:
                entry: Any = value
                for inner in reversed(path[i + 1:]):
                    entry = {inner: entry}
                return {f"policies.{owner}.{'.'.join(path[: i + 1])}": entry}
            node = node.get(part) if isinstance(node, dict) else None
        return {f"policies.{owner}.{'.'.join(path)}": value}
    cfg = scenario.config
    if kind == "channel":
        if owner not in [c.name for c in cfg.channels] or path != ("daily_spend",):
            raise LeverError(f"no channel lever {owner!r} {'.'.join(path)}")
        return {f"channels.{owner}.daily_spend": _number(value, f"channel '{owner}' daily spend")}
    if kind == "tier":
        if owner not in [t.name for t in cfg.tiers] or path not in (("min_annual_spend",), ("min_purchases",)):
            raise LeverError(f"no tier threshold {owner!r} {'.'.join(path)}")
        v = _number(value, f"tier '{owner}' {path[-1]}")
        return {f"tiers.{owner}.{path[-1]}": int(round(v)) if path[-1] == "min_purchases" else v}
    raise LeverError(f"unknown lever kind {kind!r}")
