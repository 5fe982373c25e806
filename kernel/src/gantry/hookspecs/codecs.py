"""Pixel codecs: decode a frame to an array, encode an array to a frame, per transfer syntax."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gantry.hookspecs import hookspec

if TYPE_CHECKING:
    from gantry.descriptors import Codec


@hookspec
def gantry_codecs() -> list[Codec]:
    """Return the :class:`~gantry.Codec` descriptors this plugin provides.

    Ranking: a *ranked chain* per transfer syntax UID, separately for decoding and encoding. The
    highest priority wins (ties by name); a site can pin a provider or override a priority. When
    the active decoder raises on a frame, the next-ranked one is tried and the failure is logged;
    when all fail, a :class:`~gantry.CodecError` names every provider tried. A decoder must raise
    rather than return bytes it did not decode: nothing is passed through unverified.

    A vendor's private codec is the same descriptor with a higher ``priority`` in its own wheel.

    Contract for the referenced callables:

    - ``decode(frame: bytes, info) -> numpy.ndarray`` of shape (rows, columns[, samples]).
    - ``encode(array: numpy.ndarray, info) -> bytes``, one frame.

    ``info`` carries the pixel description (rows, columns, samples per pixel, bits allocated and
    stored, pixel representation, photometric interpretation, planar configuration).
    """
