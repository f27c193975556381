"""Shared fixtures for the calibration tests: the shipped CDNOW log and its standard fit."""

from __future__ import annotations

from importlib import resources

import pytest

from analysis.calibration import BetaGeoModel, load_transactions, rfm_summary

#: The protocol of Fader, Hardie & Lee (2005): 39-week calibration, 39-week holdout.
CDNOW_CALIBRATION_END = "1997-09-30"
CDNOW_HOLDOUT_END = "1998-06-30"


@pytest.fixture(scope="session")
def cdnow_path():
    """Path of the CDNOW log shipped as package data of ``scenarios``."""
    with resources.as_file(resources.files("scenarios") / "data" / "cdnow.txt") as path:
        yield path


@pytest.fixture(scope="session")
def cdnow_log(cdnow_path):
    """The full CDNOW log (23,570 customers)."""
    return load_transactions(cdnow_path)


@pytest.fixture(scope="session")
def cdnow_summary(cdnow_log):
    """Weekly RFM summary for the standard calibration/holdout split."""
    return rfm_summary(cdnow_log, calibration_end=CDNOW_CALIBRATION_END,
                       holdout_end=CDNOW_HOLDOUT_END, time_unit="week")


@pytest.fixture(scope="session")
def cdnow_bgnbd(cdnow_summary):
    """BG/NBD fitted to the full CDNOW calibration period."""
    return BetaGeoModel().fit(cdnow_summary)
