"""Area and length units: m², hectares, km² and 亩 (mu).

1 亩 = 10 000 / 15 m² = 666.67 m² (the Chinese market mu).
"""

from __future__ import annotations

from typing import Literal, SupportsFloat, cast

import numpy as np

from .errors import InputError

__all__ = ["AREA_UNITS", "AreaUnit", "M2_PER_HA", "M2_PER_KM2", "M2_PER_MU", "convert_area", "area_column",
           "check_area_unit"]

M2_PER_HA = 10_000.0
M2_PER_KM2 = 1_000_000.0
M2_PER_MU = 10_000.0 / 15.0

AreaUnit = Literal["m2", "ha", "km2", "mu"]
AREA_UNITS: dict[str, float] = {"m2": 1.0, "ha": M2_PER_HA, "km2": M2_PER_KM2, "mu": M2_PER_MU}


def _factor(unit: str) -> float:
    try:
        return AREA_UNITS[unit]
    except KeyError:
        raise InputError(
            f"area unit {unit!r} is not known; use one of {sorted(AREA_UNITS)} "
            "(m2 = square metres, ha = hectares, km2, mu = 亩)"
        ) from None


def check_area_unit(units) -> AreaUnit:
    """Return ``units`` if it names an area unit, else raise.

    Parameters
    ----------
    units : str
        One of ``"m2"`` (square metres), ``"ha"`` (hectares), ``"km2"``, ``"mu"`` (亩).

    Returns
    -------
    str
        ``units``, unchanged.

    Raises
    ------
    InputError
        For any other value, naming the accepted units.

    Examples
    --------
    >>> check_area_unit("ha")
    'ha'
    >>> check_area_unit("acre")
    Traceback (most recent call last):
    ...
    jixi_geo.errors.InputError: units must be one of ['ha', 'km2', 'm2', 'mu'] ...
    """
    if units not in AREA_UNITS:
        raise InputError(
            f"units must be one of {sorted(AREA_UNITS)} (m2 = square metres, ha = hectares, "
            f"km2, mu = 亩); got {units!r}"
        )
    return cast(AreaUnit, units)


def convert_area(value, from_unit: AreaUnit = "m2", to_unit: AreaUnit = "ha"):
    """Convert an area between units.

    Parameters
    ----------
    value : float or array-like
        The area(s) in ``from_unit``.
    from_unit, to_unit : {"m2", "ha", "km2", "mu"}
        Units: square metres, hectares, square kilometres, 亩 (666.67 m²).

    Returns
    -------
    float or numpy.ndarray
        The area(s) in ``to_unit``.

    Examples
    --------
    >>> convert_area(1.0, "ha", "mu")
    15.0
    >>> round(convert_area(1.0, "mu", "m2"), 2)
    666.67
    """
    f = _factor(from_unit) / _factor(to_unit)
    if np.isscalar(value):  # a Python or NumPy scalar (a 0-d array stays an array)
        return float(cast(SupportsFloat, value)) * f
    return np.asarray(value, dtype=float) * f


def area_column(unit: AreaUnit) -> str:
    """Column name carrying the unit, e.g. ``area_ha``.

    Examples
    --------
    >>> area_column("mu")
    'area_mu'
    """
    _factor(unit)
    return f"area_{unit}"
