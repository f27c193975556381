"""Results do not move when code moves: ``lifecycle run --json`` matches digests stored before.

``tests/data/run_digests.json`` holds the SHA-256 of the canonical JSON (sorted keys) printed by
``lifecycle run PRESET --customers N --days D --seed S --engine E --json`` for every preset on
both engines, recorded on the code as it stood before the packages were re-layered. Any change
of a number in any metric, uncertainty, channel or ROI field changes the digest.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lifecycle.cli import main

DIGESTS = json.loads((Path(__file__).resolve().parents[2] / "data" / "run_digests.json").read_text())


def _args(case: str) -> list[str]:
    preset, *fields = case.split("|")
    opts = dict(f.split("=") for f in fields)
    return ["run", preset, "--customers", opts["customers"], "--days", opts["days"], "--seed", opts["seed"],
            "--engine", opts["engine"], "--json"]


@pytest.mark.parametrize("case", sorted(DIGESTS))
def test_run_json_is_bit_identical_to_the_stored_digest(case):
    """Every preset, both engines: the run's JSON hashes to the digest recorded before the move."""
    result = CliRunner().invoke(main, _args(case))
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    assert hashlib.sha256(blob).hexdigest() == DIGESTS[case]
