"""Descriptors validate themselves, so a plugin's mistake is caught when it describes itself."""

from __future__ import annotations

import attrs
import pytest

from gantry import Codec, DeidAction, DeidProfile, DimseService, Reader, StorageBackend, Transport

TS = "1.2.840.10008.1.2.4.90"


def test_design_example_works_as_written():
    from gantry.uids import JPEG2000, JPEG2000_LOSSLESS

    codec = Codec(name="j2k-openjpeg", transfer_syntaxes=(JPEG2000_LOSSLESS, JPEG2000), priority=50,
                  decode="gantry_j2k.codec:decode", encode="gantry_j2k.codec:encode")
    assert list(codec.capabilities()) == [
        ("decoder", JPEG2000_LOSSLESS, "decode"), ("encoder", JPEG2000_LOSSLESS, "encode"),
        ("decoder", JPEG2000, "decode"), ("encoder", JPEG2000, "encode"),
    ]


def test_descriptors_are_frozen():
    codec = Codec(name="c", transfer_syntaxes=TS, decode="m:f")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        codec.priority = 99  # type: ignore[misc]
    assert codec.transfer_syntaxes == (TS,)  # a lone string is taken as one key


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Codec(name="", transfer_syntaxes=(TS,), decode="m:f"), "name must be lower-case"),
        (lambda: Codec(name="c", transfer_syntaxes=(TS,), decode="m.f"), "must be a 'package.module:attribute' string, got 'm.f'"),
        (lambda: Codec(name="c", transfer_syntaxes=(TS,), decode="m:f", priority="9"), "priority must be an int, got str"),
        (lambda: Codec(name="c", transfer_syntaxes=(TS,), decode="m:f", priority=True), "priority must be an int, got bool"),
        (lambda: Codec(name="c", transfer_syntaxes=(), decode="m:f"), "must name at least one key"),
        (lambda: Codec(name="c", transfer_syntaxes=(TS, " "), decode="m:f"), "empty or non-string key"),
        (lambda: Codec(name="c", transfer_syntaxes=(TS,)), "has neither decode nor encode"),
        (lambda: Transport(name="t", schemes=("x",), factory="m:f", operations=("echo", "teleport")), "unknown operations ['teleport']"),
        (lambda: DimseService(name="d", service="C-ECHO"), "has neither scu nor scp"),
        (lambda: DimseService(name="d", service="echo", scu="m:f"), "service"),
    ],
)
def test_invalid_descriptors_raise_clear_errors(make, message):
    with pytest.raises((ValueError, TypeError)) as caught:
        make()
    assert message in str(caught.value)


def test_every_family_reports_its_capabilities():
    assert list(Reader(name="r", read="m:f", sources=("path",)).capabilities()) == [("reader", "path", "read")]
    assert list(Transport(name="t", schemes=("dicom", "dicoms"), factory="m:f").capabilities()) == [
        ("transport", "dicom", "factory"), ("transport", "dicoms", "factory")]
    assert list(DimseService(name="s", service="C-STORE", scu="m:a", scp="m:b").capabilities()) == [
        ("dimse-scu", "C-STORE", "scu"), ("dimse-scp", "C-STORE", "scp")]
    assert list(DeidAction(name="x", codes=("X", "Z"), apply="m:f").capabilities()) == [
        ("deid-action", "X", "apply"), ("deid-action", "Z", "apply")]
    assert list(DeidProfile(name="p", profile="basic", rules="m:f").capabilities()) == [
        ("deid-profile", "basic", "rules")]
    assert list(StorageBackend(name="s", schemes="sqlite", open="m:f").capabilities()) == [("storage", "sqlite", "open")]
