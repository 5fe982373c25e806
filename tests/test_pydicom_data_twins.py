"""Every compressed file pydicom-data ships (and every one bundled with pydicom) decodes through
Gantry to the same array as its uncompressed twin: bit-exact for lossless, within the tolerance
pydicom's own tests use for lossy.

The twin table is ``tests/pydicom_data_twins.py``: pairs, tolerances, where each comes from, and
the files that have no twin with the reason. The twin is decoded by pydicom itself (native
transfer syntaxes only), the compressed file frame by frame through ``gantry.frames.open_pixels``
with every installed plugin.

A syntax no installed provider decodes fails, naming the missing decoder; while the codec plugin
meant for it (``plugins/codecs/<name>``) is not installed, that test is an expected failure
instead (not strict, so it passes as soon as a decoder appears).
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import os
import sys
import tomllib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from pydicom.filereader import read_file_meta_info
from pydicom.uid import UID

from gantry.errors import GantryError
from gantry.frames import open_pixels
from gantry.pixels import PixelInfo, check_decoded

REPO = Path(__file__).resolve().parents[1]


def _load_table() -> Any:
    """The twin table module, imported by path (tests/ is not on sys.path under importlib mode)."""
    name = "pydicom_data_twins"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


table = _load_table()
Twin = table.Twin

#: What Gantry's decoders return for each stored photometric interpretation (gantry.pixels).
DECODED_AS = {"YBR_FULL_422": "YBR_FULL", "YBR_RCT": "RGB", "YBR_ICT": "RGB"}


# -- where the files are ------------------------------------------------------------------------


@functools.cache
def roots() -> dict[str, Path]:
    """The folder of each package's test files, found the way pydicom finds them."""
    found: dict[str, Path] = {table.PYDICOM: Path(pydicom.__file__).parent / "data" / "test_files"}
    for entry in importlib.metadata.entry_points(group="pydicom.data.external_sources"):
        if entry.name == "pydicom-data":
            found[table.PYDICOM_DATA] = Path(entry.load()().data_path)
    if table.PYDICOM_DATA not in found:
        pytest.fail("pydicom-data is not installed (it is in the dev dependency group: make install)")
    return found


@functools.cache
def index() -> dict[str, list[tuple[str, Path]]]:
    """Top-level file name -> [(package, path)] over both packages."""
    names: dict[str, list[tuple[str, Path]]] = {}
    for origin, root in roots().items():
        for path in sorted(root.iterdir()):
            if path.is_file():
                names.setdefault(path.name, []).append((origin, path))
    return names


def locate(name: str) -> Path:
    places = index().get(name, [])
    if len(places) != 1:
        pytest.fail(f"{name}: found {len(places)} times in pydicom-data and pydicom's test files: {places}")
    return places[0][1]


def file_transfer_syntax(path: Path) -> str:
    """The Transfer Syntax UID of a Part 10 file ("" for anything without a DICM preamble)."""
    with open(path, "rb") as handle:
        if handle.read(132)[128:] != b"DICM":
            return ""  # README, JSON, ICC profile, gzip, datasets with no File Meta (implicit LE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return str(read_file_meta_info(path).get("TransferSyntaxUID", ""))


@functools.cache
def compressed_files(origin: str) -> frozenset[str]:
    """Every file (path relative to the package's folder) whose transfer syntax is encapsulated.
    A Part 10 file whose File Meta cannot be read fails the test rather than being skipped."""
    root = roots()[origin]
    return frozenset(
        path.relative_to(root).as_posix() for path in root.rglob("*")
        if path.is_file() and (syntax := file_transfer_syntax(path)) and UID(syntax).is_encapsulated)


@functools.cache
def header(path: Path) -> Any:
    with warnings.catch_warnings():  # some test files are deliberately odd (implicit VR in explicit)
        warnings.simplefilter("ignore", UserWarning)
        return pydicom.dcmread(path, stop_before_pixels=True)


def geometry(dataset: Any) -> dict[str, int]:
    return {
        "rows": int(dataset.Rows),
        "columns": int(dataset.Columns),
        "samples": int(dataset.get("SamplesPerPixel") or 1),
        "frames": int(dataset.get("NumberOfFrames") or 1),
    }


def syntax_of(path: Path) -> str:
    return str(header(path).file_meta.TransferSyntaxUID)


def describe_syntax(syntax: str) -> str:
    return f"{syntax} ({UID(syntax).name})"


@functools.cache
def twin_frames(path: Path) -> np.ndarray:
    """The twin's pixels as pydicom decodes them, frames first, in the stored colour space."""
    array = pydicom.pixels.pixel_array(os.fspath(path), as_rgb=False)
    if geometry(header(path))["frames"] == 1:
        array = array[np.newaxis]
    array.flags.writeable = False
    return array


def expected_conversion(compressed: Path, twin: Path) -> str:
    """The colour conversion that makes Gantry's output comparable with the twin ("" if none)."""
    decoded = DECODED_AS.get(header(compressed).PhotometricInterpretation,
                             header(compressed).PhotometricInterpretation)
    stored = header(twin).PhotometricInterpretation
    return "" if decoded == stored else f"{decoded}->{stored}"


def jpeg_ls_near_values(frame: bytes) -> list[int]:
    """The NEAR parameter of every scan in a JPEG-LS codestream (walking its marker segments)."""
    values: list[int] = []
    position, end = 2, len(frame)  # after SOI
    while position + 4 <= end:
        if frame[position] != 0xFF:
            raise ValueError(f"no marker at byte {position}")
        marker = frame[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xD9:  # EOI
            break
        length = int.from_bytes(frame[position + 2 : position + 4], "big")
        if marker == 0xDA:  # SOS: Ls, Ns, (Ci, Tmi) * Ns, NEAR, ILV, Al/Ah
            components = frame[position + 4]
            values.append(frame[position + 5 + 2 * components])
            position += 2 + length
            # Skip the scan's coded data: in JPEG-LS a marker is 0xFF followed by a byte >= 0x80.
            while position + 1 < end and not (frame[position] == 0xFF and frame[position + 1] >= 0x80):
                position += 1
        else:
            position += 2 + length
    return values


# -- the kernel -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A kernel over every installed plugin: no site configuration, no GANTRY_* variables."""
    with pytest.MonkeyPatch.context() as patch:
        for key in list(os.environ):
            if key.startswith("GANTRY_"):
                patch.delenv(key)
        patch.chdir(tmp_path_factory.mktemp("cwd"))
        from gantry import Kernel

        yield Kernel.from_config()


def codec_plugin_state(kernel: Any, syntax: str) -> tuple[str, bool]:
    """(description, installed) of the codec plugin folder meant to decode ``syntax``."""
    name = table.CODEC_PLUGIN_FOR_SYNTAX.get(syntax)
    if name is None:
        return "no codec plugin is planned for it", False
    folder = REPO / "plugins" / "codecs" / name
    project = folder / "pyproject.toml"
    if not project.is_file():
        return f"plugins/codecs/{name} does not exist yet", False
    distribution = tomllib.loads(project.read_text(encoding="utf-8")).get("project", {}).get("name", "")
    if not distribution:
        return f"plugins/codecs/{name}/pyproject.toml names no project yet", False
    loaded = {row["distribution"] for row in kernel.report()}
    if distribution in loaded:
        return f"{distribution} (plugins/codecs/{name}) is installed", True
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return f"plugins/codecs/{name} ({distribution}) is not installed here", False
    return f"{distribution} (plugins/codecs/{name}) is installed but the kernel loaded no plugin from it", True


def require_decoder(kernel: Any, syntax: str) -> Any:
    """The active decoder offer; fails naming the missing decoder, or is an expected failure
    while the codec plugin meant for the syntax is not installed."""
    offer = kernel.active("decoder", syntax)
    if offer is not None:
        return offer
    state, installed = codec_plugin_state(kernel, syntax)
    if installed or syntax not in table.CODEC_PLUGIN_FOR_SYNTAX:
        pytest.fail(f"no installed Gantry provider decodes {describe_syntax(syntax)}: {state}")
    pytest.xfail(f"codec plugin for {describe_syntax(syntax)} not installed yet: {state}")


# -- comparing ------------------------------------------------------------------------------------


def describe(pair: Any, info: PixelInfo, provider: str) -> str:
    return (f"{pair.compressed} (syntax {describe_syntax(info.transfer_syntax)}, photometric "
            f"{info.photometric_interpretation}, bits allocated/stored {info.bits_allocated}/"
            f"{info.bits_stored}, pixel representation {info.pixel_representation}, decoder {provider})")


def compare(pair: Any, info: PixelInfo, decoded: list[np.ndarray], provider: str) -> list[str]:
    """Every way ``decoded`` differs from the twin beyond the pair's tolerance."""
    from pydicom.pixels import convert_color_space

    expected = twin_frames(locate(pair.twin))
    what = describe(pair, info, provider)
    if len(decoded) != len(expected):
        return [f"{what}: {len(decoded)} frames decoded, the twin {pair.twin} holds {len(expected)}"]
    problems = []
    for number, (array, reference) in enumerate(zip(decoded, expected), start=1):
        if pair.convert:
            source, target = pair.convert.split("->")
            array = convert_color_space(array, source, target)
        if array.shape != reference.shape:
            problems.append(f"{what} frame {number}: shape {array.shape}, twin {pair.twin} {reference.shape}")
            continue
        difference = np.abs(array.astype(np.int64) - reference.astype(np.int64))
        largest = int(difference.max()) if difference.size else 0
        if largest > pair.tolerance:
            where = np.unravel_index(int(difference.argmax()), difference.shape)
            over = int((difference > pair.tolerance).sum())
            compared = f" (compared as {pair.convert.split('->')[1]})" if pair.convert else ""
            problems.append(
                f"{what} frame {number}/{len(expected)}{compared}: max difference {largest} "
                f"(tolerance {pair.tolerance}) at {tuple(int(i) for i in where)}: Gantry "
                f"{array[where]}, twin {pair.twin} {reference[where]}; {over} of {difference.size} "
                f"samples over the tolerance")
    return problems


# -- the table itself -----------------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["pydicom-data", "pydicom"])
def test_every_compressed_file_is_paired_or_explained(origin: str) -> None:
    """Nothing is skipped silently: each compressed file has a twin or a stated reason."""
    covered = {pair.compressed for pair in table.TWINS} | set(table.NO_TWIN)
    uncovered = sorted(compressed_files(origin) - covered)
    assert not uncovered, (f"compressed files in {origin} neither paired in TWINS nor listed in "
                           f"NO_TWIN (tests/pydicom_data_twins.py): {uncovered}")


def test_table_is_consistent() -> None:
    every = compressed_files(table.PYDICOM_DATA) | compressed_files(table.PYDICOM)
    paired = {pair.compressed for pair in table.TWINS}
    assert not paired & set(table.NO_TWIN), "a file is both paired and listed as having no twin"
    stale = sorted((paired | set(table.NO_TWIN)) - every)
    assert not stale, f"names in the twin table that are no compressed file of either package: {stale}"
    ids = [pair.id for pair in table.TWINS]
    assert len(ids) == len(set(ids)), "a pair is listed twice"
    assert all(reason.strip() for reason in table.NO_TWIN.values())


@pytest.mark.parametrize("pair", table.TWINS, ids=lambda pair: pair.id)
def test_twin_matches_in_geometry_and_kind(pair: Any) -> None:
    """The pairing is plausible: same rows, columns, samples and frames; the twin is native; a
    lossless syntax is compared bit for bit; the colour conversion is the one the headers need."""
    compressed, twin = locate(pair.compressed), locate(pair.twin)
    assert UID(syntax_of(compressed)).is_encapsulated, f"{pair.compressed} is not compressed"
    assert not UID(syntax_of(twin)).is_encapsulated, f"{pair.twin} is not native"
    assert geometry(header(compressed)) == geometry(header(twin))
    assert header(compressed).BitsAllocated == header(twin).BitsAllocated
    if syntax_of(compressed) in table.LOSSLESS_SYNTAXES:
        assert pair.tolerance == 0, f"{pair.compressed} is lossless: its tolerance must be 0"
    assert pair.convert == expected_conversion(compressed, twin), (
        f"{pair.compressed} is decoded as {DECODED_AS.get(header(compressed).PhotometricInterpretation)}, "
        f"{pair.twin} is {header(twin).PhotometricInterpretation}: convert must say so")
    assert pair.convert in ("", "YBR_FULL->RGB")
    if syntax_of(compressed) == "1.2.840.10008.1.2.4.81":  # JPEG-LS near-lossless
        from pydicom.encaps import generate_frames

        dataset = pydicom.dcmread(compressed)
        frames = generate_frames(dataset.PixelData, number_of_frames=geometry(dataset)["frames"])
        near = {value for frame in frames for value in jpeg_ls_near_values(frame)}
        assert near == {pair.tolerance}, f"{pair.compressed}: NEAR {near}, tolerance {pair.tolerance}"




# -- decoding through Gantry ------------------------------------------------------------------------


@pytest.mark.parametrize("pair", table.TWINS, ids=lambda pair: pair.id)
def test_decodes_like_its_twin(pair: Any, kernel: Any) -> None:
    """What Gantry decodes (its ranked decoders, with fallback) matches the twin."""
    path = locate(pair.compressed)
    offer = require_decoder(kernel, syntax_of(path))
    try:
        with open_pixels(kernel, path) as pixels:
            info = pixels.info
            decoded = list(pixels.arrays())
    except GantryError as err:
        if pair.damaged:
            return  # refusing a damaged file is allowed; decoding it wrongly is not
        pytest.fail(f"{pair.compressed} ({describe_syntax(syntax_of(path))}, active decoder "
                    f"{offer.provider}) could not be decoded: {err}")
    problems = compare(pair, info, decoded, offer.provider)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("pair", table.TWINS, ids=lambda pair: pair.id)
def test_each_installed_decoder_matches_the_twin(pair: Any, kernel: Any) -> None:
    """Every installed provider of the syntax on its own (no fallback), so that a mismatch is
    pinned on the plugin that produced it."""
    path = locate(pair.compressed)
    syntax = syntax_of(path)
    require_decoder(kernel, syntax)
    try:
        with open_pixels(kernel, path) as pixels:
            info = pixels.info
            frames = list(pixels.encoded_frames())
    except GantryError as err:
        if pair.damaged:
            return
        raise
    problems = []
    for offer in kernel.providers("decoder", syntax):
        decoded = []
        try:
            for number, frame in enumerate(frames, start=1):
                decoded.append(kernel.call("decoder", syntax, frame, info, offers=[offer],
                                           what=f"{pair.compressed} frame {number}",
                                           check=lambda array: check_decoded(array, info)))
        except GantryError as err:
            problems.append(f"{describe(pair, info, offer.provider)}: {err}")
            continue
        problems += compare(pair, info, decoded, offer.provider)
    assert not problems, "\n".join(problems)


def test_comparison_catches_a_one_unit_error() -> None:
    """The comparison itself is not blind: one sample off by one, beyond a tolerance of 0, is
    reported with its frame, place and values."""
    pair = next(pair for pair in table.TWINS if pair.compressed == "emri_small_RLE.dcm")
    twin = locate(pair.twin)
    info = PixelInfo.from_dataset(header(twin), transfer_syntax=syntax_of(locate(pair.compressed)))
    decoded = [frame.copy() for frame in twin_frames(twin)]
    assert compare(pair, info, decoded, "control") == []
    decoded[4][10, 20] += 1
    problems = compare(pair, info, decoded, "control")
    assert len(problems) == 1
    assert "frame 5/10" in problems[0] and "max difference 1 (tolerance 0) at (10, 20)" in problems[0]
    assert compare(Twin(pair.compressed, pair.twin, 1, "control"), info, decoded, "control") == []
