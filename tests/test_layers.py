"""The layers contract (``[tool.importlinter]`` in pyproject.toml): imports point one way down.

``lifecycle`` (the API, the command line, the page) may import ``analysis``, which may import
``sim``, which may import ``scenarios``; never the other way. The contract is checked on the real
tree, and shown to bite: a copy of the packages with one planted upward import must fail it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("lifecycle", "analysis", "sim", "scenarios")


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("lint-imports")
    if not script.is_file():
        pytest.skip("import-linter is not installed (it comes with the test extra)")
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(script), "--config", str(cwd / "pyproject.toml"), "--no-cache"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_tree_keeps_the_layers_contract():
    """lint-imports on the project: every import points down the layers."""
    res = _lint(ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "1 kept, 0 broken" in res.stdout


def test_a_planted_upward_import_breaks_the_contract(tmp_path):
    """The simulation importing the product's face is caught, naming the offending module."""
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "data", "presets"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    model = tmp_path / "sim" / "model.py"
    model.write_text(model.read_text(encoding="utf-8") + "\nimport lifecycle.cli  # planted\n", encoding="utf-8")
    res = _lint(tmp_path)
    assert res.returncode != 0
    assert "BROKEN" in res.stdout and "sim.model" in res.stdout
