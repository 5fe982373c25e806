"""The planted-PHI corpus really plants what it says, where it says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom

from gantry.testing.phi_corpus import BURNED_IN_ZONE, US_MACHINE, write_phi_corpus

TABLE_SAMPLE = ["(0010,0010)", "(0010,0020)", "(0008,0050)", "(0008,0080)", "(0010,0030)",
                "(0008,0090)", "(0020,0010)", "(0008,1030)", "(60xx,4000)", "(0000,1000)",
                "(0018,1000)", "(0040,0275)"]


def test_every_token_is_in_some_file_and_the_structure_is_there(tmp_path):
    corpus = write_phi_corpus(tmp_path, TABLE_SAMPLE)
    everything = b"".join(Path(path).read_bytes() for path in corpus.files)
    missing = [token for token in corpus.tokens if token.encode() not in everything]
    assert missing == []
    assert "(0000,1000)" in corpus.unknown_tags  # command group: never in a file's dataset
    ct = pydicom.dcmread(corpus.files[0])
    assert ct.PatientName.family_name.startswith("PHI")
    assert Path(corpus.files[0]).read_bytes()[:3] == b"PHI"  # the preamble carries text
    assert ct.file_meta.SourceApplicationEntityTitle.startswith("PHI")
    nested = [element for element in ct.iterall() if element.VR == "PN"]
    assert len(nested) >= 2  # the name at the top level and three levels down
    assert any(element.tag.is_private for element in ct)
    assert 0x60004000 in ct or 0x60000022 in ct


def test_the_ultrasound_has_text_burned_into_its_zone(tmp_path):
    corpus = write_phi_corpus(tmp_path, TABLE_SAMPLE, patients=1)
    (path, zone), = corpus.burned_in.items()
    assert zone == BURNED_IN_ZONE
    us = pydicom.dcmread(path)
    assert us.BurnedInAnnotation == "YES" and us.Manufacturer == US_MACHINE["Manufacturer"]
    top, left, bottom, right = zone
    pixels = us.pixel_array
    assert (pixels[top:bottom, left:right] == 255).sum() > 100
    outside = np.ones_like(pixels, dtype=bool)
    outside[top:bottom, left:right] = False
    assert pixels[outside].max() < 255
