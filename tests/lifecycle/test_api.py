"""The public API (lifecycle/__init__.py): every exported name resolves, and importing it is cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest

import lifecycle


@pytest.mark.parametrize("name", lifecycle.__all__)
def test_every_public_name_resolves(name):
    """Each name in __all__ is importable from lifecycle."""
    assert getattr(lifecycle, name) is not None


def test_importing_the_api_does_not_import_the_scientific_stack():
    """``import lifecycle`` stays fast: the workflows' modules load on first use."""
    code = "import sys, lifecycle; print(any(m.startswith(('numba', 'statsmodels', 'analysis')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_an_unknown_name_is_an_attribute_error():
    """A typo is an AttributeError naming it."""
    with pytest.raises(AttributeError, match="no attribute 'rnu'"):
        lifecycle.rnu  # noqa: B018


def test_register_allows_the_same_class_again_and_refuses_a_different_one():
    """Re-registering a class (or a re-run cell's redefinition) works; another class under its kind does not."""

    def define(body: int):
        class Echo(lifecycle.Policy):
            kind = "echo_test_policy"

            def apply(self, day):
                return body

        return Echo

    first = lifecycle.register(define(1))
    assert lifecycle.register(first) is first
    again = lifecycle.register(define(2))  # same module and qualified name: a redefinition
    from sim.policies import REGISTRY

    assert REGISTRY["echo_test_policy"] is again

    class Other(lifecycle.Policy):
        kind = "echo_test_policy"

    with pytest.raises(ValueError, match="different policy class is already registered as 'echo_test_policy'"):
        lifecycle.register(Other)
    REGISTRY.pop("echo_test_policy")
