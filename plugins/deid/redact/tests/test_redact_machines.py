"""The machine table: matching, and every mistake named by machine index and key or zone."""

from __future__ import annotations

import pytest
from pydicom import Dataset

from gantry import ConfigError
from gantry_redact.machines import first_match, parse_machines
from gantry_redact.settings import RedactSettings


def _image(**values) -> Dataset:
    dataset = Dataset()
    dataset.Manufacturer, dataset.ManufacturerModelName = "GE Healthcare", "LOGIQ E9"
    dataset.DeviceSerialNumber, dataset.Rows, dataset.Columns = "SN-1", 480, 640
    for keyword, value in values.items():
        setattr(dataset, keyword, value)
    return dataset


def _table(*matches):
    return parse_machines([{"match": match, "zones": [[0, 0, 10, 10]]} for match in matches])


def test_text_matches_whole_values_without_case_or_with_wildcards():
    machines = _table({"Manufacturer": "ge healthcare"}, {"ManufacturerModelName": "logiq*"})
    assert first_match(machines, _image()).index == 0
    assert first_match(machines, _image(Manufacturer="GE")).index == 1  # "GE" is not the whole value
    assert first_match(machines, _image(Manufacturer="GE", ManufacturerModelName="Vivid")) is None
    assert first_match(_table({"Manufacturer": "*health*"}), _image()) is not None
    assert first_match(_table({"Manufacturer": "GE"}), _image()) is None  # no implicit substring


def test_every_key_must_match_and_sizes_are_exact():
    machines = _table({"Manufacturer": "GE*", "Rows": 480, "Columns": 640})
    assert first_match(machines, _image()) is not None
    assert first_match(machines, _image(Rows=481)) is None
    missing = _image()
    del missing.Manufacturer
    assert first_match(machines, missing) is None  # an absent attribute never matches


def test_the_first_matching_machine_wins():
    machines = _table({"DeviceSerialNumber": "SN-1"}, {"Manufacturer": "GE*"})
    assert first_match(machines, _image()).index == 0
    assert first_match(machines, _image(DeviceSerialNumber="SN-2")).index == 1


@pytest.mark.parametrize(("entry", "message"), [
    ({"zones": [[0, 0, 1, 1]]}, r"'match' must name"),
    ({"match": {}, "zones": [[0, 0, 1, 1]]}, r"'match' must name"),
    ({"match": {"StationName": "X"}, "zones": [[0, 0, 1, 1]]}, r"unknown match key 'StationName'"),
    ({"match": {"Rows": "480"}, "zones": [[0, 0, 1, 1]]}, r"match.Rows must be a positive"),
    ({"match": {"Manufacturer": ""}, "zones": [[0, 0, 1, 1]]}, r"match.Manufacturer must be non-empty"),
    ({"match": {"Manufacturer": "X"}}, r"'zones' must be a non-empty list"),
    ({"match": {"Manufacturer": "X"}, "zones": [[0, 0, 1]]}, r"zones\[0\] must be four whole numbers"),
    ({"match": {"Manufacturer": "X"}, "zones": [[0, 0, 1, 1], [5, 0, 5, 1]]},
     r"zones\[1\]: top \(5\) must be less than bottom \(5\)"),
    ({"match": {"Manufacturer": "X"}, "zones": [[0, 9, 1, 2]]}, r"zones\[0\]: left \(9\) must be less than right"),
    ({"match": {"Manufacturer": "X"}, "zones": [[-1, 0, 1, 1]]}, r"must not be negative"),
    ({"match": {"Rows": 480}, "zones": [[0, 0, 481, 10]]}, r"zones\[0\]: bottom \(481\) lies below the image's 480"),
    ({"match": {"Columns": 640}, "zones": [[0, 0, 10, 641]]}, r"right \(641\) lies beyond the image's 640"),
    ({"match": {"Manufacturer": "X"}, "zones": [[0, 0, 1, 1]], "extra": 1}, r"unknown key 'extra'"),
])
def test_a_bad_machine_is_a_config_error_naming_its_index_and_key(entry, message):
    good = {"match": {"Manufacturer": "ok"}, "zones": [[0, 0, 1, 1]]}
    with pytest.raises(ConfigError, match=r"^redact: machines\[1\]\W.*" + message):
        parse_machines([good, entry])


def test_the_section_refuses_unknown_settings_and_bad_modality_lists():
    with pytest.raises(ConfigError, match="unknown setting 'zones'"):
        RedactSettings.from_mapping({"zones": []})
    with pytest.raises(ConfigError, match="risky_modalities"):
        RedactSettings.from_mapping({"risky_modalities": "US"})
    with pytest.raises(ConfigError, match="'machines' must be a list"):
        RedactSettings.from_mapping({"machines": {"match": {}}})


def test_the_kernel_refuses_a_bad_table_at_start_up(make_kernel):
    import gantry_redact.plugin as redact_plugin

    kernel = make_kernel({"redact": redact_plugin},
                         config={"redact": {"machines": [{"match": {"Rows": 10}, "zones": [[0, 0, 11, 1]]}]}})
    assert "machines[0]: zones[0]" in str(kernel.records["redact"].error)
