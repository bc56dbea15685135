"""The jixi_geo error family.

Every error raised on purpose by jixi_geo derives from :class:`JixiGeoError`, and
each subclass also inherits the built-in exception a caller would expect
(``ValueError``, ``KeyError``), so ``except ValueError`` keeps working.
Messages name the value received and the fix.
"""

from __future__ import annotations

__all__ = [
    "JixiGeoError",
    "CRSError",
    "InputError",
    "EncodingError",
    "InvalidGeometryError",
    "LayerNotFoundError",
    "UnknownCodeError",
    "SchemaError",
    "BuildError",
    "OutputError",
    "JixiGeoWarning",
]


class JixiGeoError(Exception):
    """Root of every error jixi_geo raises on purpose.

    An error that gathers several problems of one input (a layer, a sites file) also
    carries them one by one as ``problems``, a list of texts.
    """

    problems: list[str]


class CRSError(JixiGeoError, ValueError):
    """A coordinate reference system is missing, wrong or unsuitable for the operation."""


class InputError(JixiGeoError, ValueError):
    """An input file or table cannot be used as given (format, columns, values)."""


class EncodingError(InputError):
    """Text in an input file is not in the encoding it claims (or no encoding fits)."""


class InvalidGeometryError(JixiGeoError, ValueError):
    """Geometries are empty, invalid or of the wrong type."""


class SchemaError(InputError):
    """A user layer or table lacks the columns or values a bundled schema requires."""


class _KeyErrorMessage(KeyError):
    # KeyError quotes its argument in str(); keep the message readable.
    def __str__(self) -> str:  # pragma: no cover - trivial
        return str(self.args[0]) if self.args else ""


class LayerNotFoundError(JixiGeoError, _KeyErrorMessage):
    """A layer name is not in the catalogue."""


class UnknownCodeError(JixiGeoError, _KeyErrorMessage):
    """A land-use code, activity or other key is not in the registry."""


class BuildError(JixiGeoError, RuntimeError):
    """The layer build step could not produce a layer that meets its checks."""


class OutputError(JixiGeoError, OSError):
    """An output file or folder cannot be written (a file in the way, read-only, disk full).

    The message reads "无法写入 <what>：<why and fix> / cannot write to <what>: <why and
    fix>", where *what* is the path, or the command-line option (``OUT``) that named it.

    Attributes
    ----------
    path : pathlib.Path
        The output that could not be written.
    detail_zh, detail_en : str
        Why, and what to do, in 中文 and English.
    """

    def __init__(self, path, detail_zh: str, detail_en: str, *, label: str | None = None):
        from pathlib import Path

        self.path = Path(path)
        self.detail_zh, self.detail_en = detail_zh, detail_en
        self.label = label
        what = label or str(path)
        super().__init__(f"无法写入 {what}：{detail_zh} / cannot write to {what}: {detail_en}")

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def relabel(self, label: str) -> OutputError:
        """The same error, naming the option ``label`` (e.g. ``"OUT"``) instead of the path."""
        return OutputError(self.path, self.detail_zh, self.detail_en, label=label)


class JixiGeoWarning(UserWarning):
    """Something worth knowing that does not stop the computation."""
