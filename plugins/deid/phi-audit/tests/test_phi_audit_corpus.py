"""The kernel's planted-PHI corpus: every value planted there is found (UIDs by the optional
rule), and a Basic Profile output of its CT images raises nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydicom
import pytest

from gantry.testing.phi_corpus import write_phi_corpus
from gantry_phi_audit import RULES, audit_dataset
from gantry_phi_audit.profile_lists import basic_profile_attributes
from gantry_phi_audit.testing import simulated_basic_output


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tags = [f"({tag >> 16:04X},{tag & 0xFFFF:04X})" for tag in basic_profile_attributes()]
    return write_phi_corpus(tmp_path_factory.mktemp("corpus"), tags + ["(60xx,3000)", "(50xx,xxxx)"], patients=1)


def holders(dataset: Any, tokens: list[str], prefix: str = "") -> set[str]:
    """Tag paths of every element whose value holds a planted token."""
    found = set()
    for element in dataset:
        path = f"{prefix}({element.tag.group:04X},{element.tag.element:04X})"
        if element.VR == "SQ":
            for index, item in enumerate(element.value):
                found |= holders(item, tokens, f"{path}[{index}]>")
        elif any(token in str(element.value) for token in tokens):
            found.add(path)
    return found


def test_every_element_holding_a_planted_value_is_found(corpus: Any) -> None:
    for path in corpus.files:
        data = Path(path).read_bytes()
        dataset = pydicom.dcmread(path)
        findings = audit_dataset(data, rules=sorted(RULES))
        planted = holders(dataset.file_meta, corpus.tokens) | holders(dataset, corpus.tokens)
        assert planted - {finding.tag for finding in findings} == set(), path
        if data[:3] == b"PHI":
            assert "preamble" in {finding.tag for finding in findings}
        text = repr(findings)
        assert [token for token in corpus.tokens if token in text] == []


def test_the_burned_in_ultrasound_is_flagged(corpus: Any) -> None:
    (path,) = corpus.burned_in
    rules = {finding.rule for finding in audit_dataset(pydicom.dcmread(path))}
    assert {"burned-in-annotation", "burned-in-text-risk"} <= rules


def test_a_basic_output_of_the_ct_images_is_clean(corpus: Any) -> None:
    for path in corpus.files:
        dataset = pydicom.dcmread(path)
        if dataset.Modality == "CT":
            assert audit_dataset(simulated_basic_output(dataset), rules=sorted(RULES)) == [], path
