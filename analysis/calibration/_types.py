"""Type aliases shared by the calibration modules (``ParamsLike``, ``DateLike``, ``ArrayLike``)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Union

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = ["ArrayLike", "DateLike", "ParamsLike"]

#: Model parameters: a mapping by name, or a sequence in the model's parameter order.
ParamsLike = Union[Mapping[str, float], Sequence[float], np.ndarray]
#: Anything ``pandas.Timestamp`` accepts as a calendar day.
DateLike = Union[str, datetime.date, pd.Timestamp, np.datetime64]
