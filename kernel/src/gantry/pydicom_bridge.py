"""Make pydicom decode through Gantry's ranked decoders.

    from gantry.pydicom_bridge import activate
    activate(kernel)          # ds.pixel_array, iter_pixels ... now use the kernel's decoders
    deactivate()              # back to pydicom's own plugins

``activate`` adds a decoding plugin labelled ``gantry`` to pydicom's decoder for every transfer
syntax the kernel can decode, ahead of pydicom's own plugins, which stay as pydicom's fallback.
pydicom's decoders are process-wide, so the bridge serves one kernel at a time: the last one
activated.

pydicom 3's plugin interface is public (``Decoder.add_plugin``, ``is_available``,
``DECODER_DEPENDENCIES``, a ``(src, runner)`` function), but it has no way to say which plugin
goes first; :func:`activate` reorders the decoder's table of available plugins for that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gantry.pixels import PixelInfo, decode_frame

if TYPE_CHECKING:
    from gantry.kernel import Kernel

LABEL = "gantry"
_kernel: Kernel | None = None
_syntaxes: list[str] = []

# pydicom lists these when the plugin is unavailable for a syntax.
DECODER_DEPENDENCIES: dict[str, tuple[str, ...]] = {}


def is_available(uid: str) -> bool:
    return _kernel is not None and _kernel.active("decoder", str(uid)) is not None


def decode_for_pydicom(src: bytes, runner: Any) -> bytes:
    """pydicom's decoding-plugin function: one encoded frame in, native little-endian bytes out."""
    if _kernel is None:
        raise RuntimeError("the Gantry pydicom bridge is not active")
    info = PixelInfo(
        rows=runner.rows, columns=runner.columns, samples_per_pixel=runner.samples_per_pixel,
        bits_allocated=runner.bits_allocated, bits_stored=runner.bits_stored,
        pixel_representation=runner.pixel_representation,
        photometric_interpretation=str(runner.photometric_interpretation),
        planar_configuration=runner.get_option("planar_configuration", 0) or 0,
        number_of_frames=1, transfer_syntax=str(runner.transfer_syntax),
    )
    array = decode_frame(_kernel, src, info, what="pydicom pixel data")
    # Tell pydicom what our decoders return (gantry.pixels): interleaved samples, RGB for the
    # JPEG 2000 colour transforms, full-resolution YBR for 4:2:2.
    runner.set_option("planar_configuration", 0)
    photometric = info.photometric_interpretation
    if photometric in ("YBR_RCT", "YBR_ICT"):
        runner.set_option("photometric_interpretation", "RGB")
    elif photometric == "YBR_FULL_422":
        runner.set_option("photometric_interpretation", "YBR_FULL")
    runner.set_option("bits_allocated", array.dtype.itemsize * 8)
    return array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()


def activate(kernel: Kernel) -> list[str]:
    """Route pydicom's decoding through ``kernel``; returns the transfer syntaxes bridged."""
    from pydicom.pixels.decoders.base import get_decoder

    global _kernel, _syntaxes
    deactivate()
    _kernel = kernel
    for (family, syntax), _offers in kernel.capabilities().items():
        if family != "decoder":
            continue
        try:
            decoder = get_decoder(syntax)
        except NotImplementedError:
            continue  # a syntax pydicom does not know: nothing to bridge
        DECODER_DEPENDENCIES[syntax] = ("gantry-kernel",)
        decoder.add_plugin(LABEL, ("gantry.pydicom_bridge", "decode_for_pydicom"))
        available = decoder._available  # no public ordering: put ours first, keep the others after
        if LABEL in available:
            decoder._available = {LABEL: available[LABEL], **{k: v for k, v in available.items() if k != LABEL}}
            _syntaxes.append(syntax)
    return list(_syntaxes)


def deactivate() -> None:
    """Remove the bridge from pydicom; pydicom's own plugins decode again."""
    from pydicom.pixels.decoders.base import get_decoder

    global _kernel, _syntaxes
    for syntax in _syntaxes:
        decoder = get_decoder(syntax)
        if LABEL in decoder._available or LABEL in decoder._unavailable:
            decoder.remove_plugin(LABEL)
    _kernel, _syntaxes = None, []
