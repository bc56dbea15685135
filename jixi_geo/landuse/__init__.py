"""Land-use tables of the Jidong Economic Development Zone (鸡东经济开发区).

Load the five published land-use tables (or a planner's own table), check them,
and derive shares, current/planned comparisons, the GB 50137-2011 structure check
and the mapping to the 2023 land-use classification.

Areas are hectares (公顷, hm²) throughout; shares are percentages.

The table model
---------------
:func:`load_table` returns one row per printed table row, in printed order, with
the published text kept next to the parsed values (``code_published`` and
``code``, ``area_ha_published`` and ``area_ha`` …). Rows are ``class`` /
``subclass`` / ``non_construction`` / ``other`` rows, or ``subtotal`` / ``total``
rows. Two derived columns describe what sums into what:

- ``block``: a subtotal closes a block (the chemical park's current table has
  the land inside the construction-land boundary in block 0 and the land outside
  it in block 1);
- ``parent_row``: the row this row adds up into. A subclass adds into the nearest
  earlier row of its block with its parent code (M2 into M); a row without one is
  top-level and adds into the block's subtotal, or else into the total; a subtotal
  adds into the total.

Where the 大类 and 中类 are printed in one cell (``H H4``), ``code`` is the finer
code (``H4``) and ``code_published`` keeps both.

Bad input
---------
Problems that make a table unusable raise: an unknown park or stage, a file that
cannot be found or decoded (:class:`~jixi_geo.errors.EncodingError`), text that is
not CSV, missing columns (:class:`~jixi_geo.errors.SchemaError`), no row with a
numeric area. Problems *in the content* do not raise at load time: a non-numeric
or negative area, an unknown or duplicated code, a missing total row, sums that do
not close. They are reported by :func:`validate` as findings, because a reviewer
wants all of them at once, with the published text that caused them.
:func:`shares`, :func:`compare` and :func:`crosswalk` refuse tables whose class
rows lack numeric areas (InputError naming the rows).

Everything except the ``load_*`` functions is pure: no file is read or written
other than the bundled rule tables.

The package
-----------
``codes`` (GB 50137-2011 codes and names, number and code-cell parsing),
``layout`` (column layouts → the published layout), ``table`` (rows, blocks,
parents, class areas), ``io`` (a user's CSV, decoded by :mod:`jixi_geo._text`),
``load`` (the ``load_*`` functions), ``checks`` (the validation rules),
``validation`` (:func:`validate`), ``summary`` (:func:`shares`, :func:`compare`),
``standards`` (:func:`check_structure`, :func:`crosswalk`).
"""

from __future__ import annotations

from .findings import FINDING_COLUMNS, RULES as _RULES
from .codes import LEVELS
from .load import (PARK_NAMES, PARKS, STAGES, TABLE_COLUMNS, load_function_zones, load_parks, load_table,
                   published_tables)
from .standards import check_structure, crosswalk
from .summary import compare, shares
from .validation import validate

__all__ = [
    "PARKS",
    "STAGES",
    "LEVELS",
    "TABLE_COLUMNS",
    "FINDING_COLUMNS",
    "RULES",
    "PARK_NAMES",
    "published_tables",
    "load_table",
    "load_function_zones",
    "load_parks",
    "validate",
    "shares",
    "compare",
    "check_structure",
    "crosswalk",
]

#: The validation rules: rule id → (usual severity, what the rule checks). A
#: figure that closes only within the table's rounding is reported as ``info``.
RULES = dict(_RULES)
