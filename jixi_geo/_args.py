"""Checks of numeric options: distances and areas (private).

Every distance or area option of the public API (``buffer_m``, ``search_m``,
``tolerance_ha``, ``simplify_m``, ``resolution_m``) goes through
:func:`amount`, so NaN, infinity, negative values, text such as ``"1000"`` and
booleans are refused the same way everywhere. A NaN buffer once turned an
``attention`` site into ``clear`` ("none within nan m"): comparisons with NaN
are always false, so a NaN must never reach a computation.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .errors import InputError

__all__ = ["amount"]

_UNITS = {"m": ("米", "metres"), "ha": ("公顷", "hectares"), "km2": ("平方公里", "km²")}


def amount(value, *, name: str, unit: str = "m", positive: bool = False) -> float:
    """``value`` as a float, or refuse it with a message naming the option.

    Parameters
    ----------
    value : int or float
        The option's value. Text (even ``"1000"``), booleans, NaN, infinity and
        negative numbers are refused; with ``positive=True`` zero is refused too.
    name : str
        The option's name, used in the message (e.g. ``"buffer_m"``).
    unit : {"m", "ha", "km2"}
        The option's unit, named in the message.
    positive : bool
        Require a value > 0 instead of ≥ 0.

    Returns
    -------
    float

    Raises
    ------
    InputError
        The message says what was received and gives an example of a valid value.

    Examples
    --------
    >>> amount(1000, name="buffer_m")
    1000.0
    >>> amount(float("nan"), name="buffer_m")
    Traceback (most recent call last):
    ...
    jixi_geo.errors.InputError: buffer_m 必须是有限的非负数（米）；收到 nan（不是有限数）。/
    buffer_m must be a number ≥ 0 of metres, finite; got nan (not a finite number). Example: buffer_m=1000
    """
    zh_unit, en_unit = _UNITS.get(unit, (unit, unit))
    bound_zh = "正数" if positive else "非负数"
    why_zh = why_en = ""
    number = None
    if isinstance(value, (bool, np.bool_)):
        why_zh, why_en = "是布尔值", "a boolean, not a number"
    elif isinstance(value, (str, bytes)):
        why_zh, why_en = "是文本而不是数字", f"text, not a number; pass {name}={_example(value)} without quotes"
    elif isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            why_zh, why_en = "不是有限数", "not a finite number"
        elif number < 0 or (positive and number == 0):
            why_zh, why_en = ("是负数" if number < 0 else "是零"), ("negative" if number < 0 else "zero")
    else:
        why_zh, why_en = f"类型为 {type(value).__name__}", f"of type {type(value).__name__}, not a number"
    if why_en or number is None:  # number is None only where why_en says why
        raise InputError(
            f"{name} 必须是有限的{bound_zh}（{zh_unit}）；收到 {value!r}（{why_zh}）。/ {name} must be a "
            f"{'positive number' if positive else 'number ≥ 0'} of {en_unit}, finite; got {value!r} ({why_en}). "
            f"Example: {name}="
            f"{1000 if unit == 'm' else 0.01}")
    return number


def _example(text) -> str:
    try:
        v = float(text)
    except (TypeError, ValueError):
        return "1000"
    return f"{v:g}" if math.isfinite(v) and v >= 0 else "1000"
