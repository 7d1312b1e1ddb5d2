"""Plates: normalisation, search over distinct plates, ANPR feed ingest, hotlists.

    >>> from workbench.plates import normalise, PlateIndex
    >>> normalise("1-abc-234")
    '1ABC234'
"""

from workbench.plates.plate_format import display, normalise, recognise
from workbench.plates.plate_search import PlateIndex, ocr_distance

__all__ = ["PlateIndex", "display", "normalise", "ocr_distance", "recognise"]
