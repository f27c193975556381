"""How big a run may get: a memory estimate checked before any customer is created.

Core functions: :func:`run_memory_estimate` (bytes a model of a scenario will need at its
largest, from its customers, the arrivals its channels are expected to bring over the run and
its days), :func:`memory_limit` (the limit in force: ``LIFECYCLE_MAX_MEMORY``, e.g. ``32G``, or
half of this machine's memory) and :func:`check_memory` (a ConfigError with the estimate and the
way to raise the limit, instead of an out-of-memory kill half-way through a run).

The estimate is deliberately generous: about 1 kB per customer (the state columns are 267 bytes,
capacity grows in steps, the per-customer tables and outcomes built at the end add a few hundred
more) plus the per-day records, plus a fixed 300 MB for the interpreter and the scientific stack.
A one-year run of a million customers of the default preset peaks at about 0.7 GiB.
"""

from __future__ import annotations

import os
import re

from scenarios.errors import ConfigError

__all__ = ["run_memory_estimate", "memory_limit", "check_memory", "parse_size", "MEMORY_ENV"]

MEMORY_ENV = "LIFECYCLE_MAX_MEMORY"
BYTES_PER_CUSTOMER = 1_000
BASE_BYTES = 300 * 2**20
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_size(text: str) -> int:
    """``"512M"``, ``"32G"``, ``"1.5T"`` or a number of bytes -> bytes; ConfigError otherwise."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*", str(text), re.IGNORECASE)
    if not m:
        raise ConfigError(f"memory limit '{text}': expected a size such as 512M, 32G or 1.5T")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def memory_limit() -> int:
    """The memory a run may plan for: ``LIFECYCLE_MAX_MEMORY`` if set, else half the machine's memory."""
    text = os.environ.get(MEMORY_ENV)
    if text:
        return parse_size(text)
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not a POSIX system
        total = 8 * 2**30
    return total // 2


def run_memory_estimate(*, initial_customers: int, expected_arrivals_per_day: float, days: int, stages: int) -> int:
    """Bytes a run needs at its largest (see the module docstring)."""
    customers = initial_customers + expected_arrivals_per_day * days
    per_day = days * (stages * stages * 4 + 64 * (stages + 16))  # flows table and daily records
    return int(BASE_BYTES + BYTES_PER_CUSTOMER * customers + per_day)


def check_memory(estimate: int, what: str) -> None:
    """Raise ConfigError if ``estimate`` bytes exceed :func:`memory_limit`, with both in the message."""
    limit = memory_limit()
    if estimate > limit:
        raise ConfigError(
            f"{what} would need about {_gib(estimate)} of memory; the limit is {_gib(limit)}. Use fewer customers "
            f"or days, or raise the limit on purpose ({MEMORY_ENV}=64G, or --max-memory 64G on the command line)"
        )


def _gib(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB"
