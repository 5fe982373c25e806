"""Gantry's one error hierarchy.

Every error says what went wrong and where, in words a person can act on. Errors raised
after trying several providers carry ``attempts``: each provider tried and why it failed.
"""

from __future__ import annotations

from collections.abc import Sequence


class GantryError(Exception):
    """Base of every error Gantry raises on purpose.

    ``attempts`` is empty unless the error closes a ranked chain, where it holds
    ``(provider name, error)`` for every provider that was tried, best first.
    """

    def __init__(self, message: str, attempts: Sequence[tuple[str, BaseException]] = ()) -> None:
        self.attempts = tuple(attempts)
        if self.attempts:
            tried = "; ".join(f"{name}: {_describe(err)}" for name, err in self.attempts)
            message = f"{message} (tried {len(self.attempts)}: {tried})"
        super().__init__(message)


class ConfigError(GantryError):
    """The site configuration is invalid: the message names the key and what is allowed."""


class PluginError(GantryError):
    """A plugin could not be loaded, described itself wrongly, or no provider is available."""


class ReaderError(GantryError):
    """A source could not be read as DICOM."""


class NotDicomError(ReaderError):
    """The source is not DICOM at all (told apart from a damaged DICOM file)."""


class CodecError(GantryError):
    """A frame could not be decoded or encoded."""


class DeidError(GantryError):
    """De-identification could not be applied."""


class TransportError(GantryError):
    """A network or file transport operation failed."""


class StorageError(GantryError):
    """A storage backend operation failed."""


class InstanceConflict(StorageError):
    """Different content arrived under a SOP Instance UID that is already stored."""


def _describe(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


__all__ = [
    "CodecError",
    "ConfigError",
    "DeidError",
    "GantryError",
    "NotDicomError",
    "PluginError",
    "ReaderError",
    "StorageError",
    "TransportError",
]
