"""gantry-redact: the Clean Pixel Data step (``redact-pixels``) and CTP pixel script import."""

from __future__ import annotations

__all__ = ["__version__"]
__version__ = "0.1.0"
