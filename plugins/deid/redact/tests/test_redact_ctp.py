"""CTP DicomPixelAnonymizer scripts into the machine table; what cannot be said is reported by line."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from gantry.cli import make_app
from gantry_redact.ctp import import_ctp_script
from gantry_redact.settings import RedactSettings

SCRIPT = """\
// Ultrasound scanners seen at the site
{ Manufacturer.containsIgnoreCase("GE") * ManufacturerModelName.containsIgnoreCase("LOGIQ")
  * Rows.equals("480") * Columns.equals("640") }
(0,0,640,40) (0,440,200,40)   // banner and the bottom-left corner

// Two vendors, same layout
{ [0008,0070].startsWith("Philips") + Manufacturer.equals("ATL") }
(10,20,100,30)

// Not expressible: negation
{ Manufacturer.contains("Siemens") * !ManufacturerModelName.contains("Acuson") }
(0,0,10,10)
"""


def test_three_rules_become_machines_and_the_one_gantry_cannot_say_is_reported_by_line():
    result = import_ctp_script(SCRIPT)
    assert result.rules == 3
    assert result.machines == [
        {"match": {"Manufacturer": "*GE*", "ManufacturerModelName": "*LOGIQ*", "Rows": 480, "Columns": 640},
         "zones": [[0, 0, 40, 640], [440, 0, 480, 200]]},
        {"match": {"Manufacturer": "Philips*"}, "zones": [[20, 10, 50, 110]]},
        {"match": {"Manufacturer": "ATL"}, "zones": [[20, 10, 50, 110]]},
    ]
    assert [(p.line, p.reason) for p in result.problems] == [
        (11, "negation (!) cannot be expressed as a machine match")]
    RedactSettings.from_mapping({"machines": result.machines})  # a valid table


def test_other_methods_elements_and_bad_regions_are_reported_not_misread():
    script = """{ Modality.matches("U.") }
(0,0,1,1)
{ SoftwareVersions.equals("1") }
(0,0,1,1)
{ Manufacturer.equals("A") * Manufacturer.equals("B") }
(0,0,1,1)
{ Rows.equals("10") }
(0,0,20,20)
{ Manufacturer.equals("A") }
(0,0,one,1)
{ Modality.equals("US") }
"""
    result = import_ctp_script(script)
    assert result.machines == []
    assert [(p.line, p.reason) for p in result.problems] == [
        (1, "the method matches on Modality"),
        (3, "a condition on SoftwareVersions; machines match on Manufacturer, ManufacturerModelName, "
            "DeviceSerialNumber, Modality, Rows, Columns"),
        (5, "two conditions on Manufacturer in one alternative"),
        (7, "machines[0]: zones[0]: bottom (20) lies below the image's 10 rows"),
        (9, "the region on line 10 is not four whole numbers (x, y, width, height)"),
        (11, "the rule has no region"),
    ]


def test_the_command_prints_or_writes_the_yaml_and_lists_problems_on_stderr(tmp_path):
    script = tmp_path / "DicomPixelAnonymizer.script"
    script.write_text(SCRIPT)
    runner = CliRunner()
    printed = runner.invoke(make_app(), ["redact", "import-ctp", str(script)])
    assert printed.exit_code == 0, printed.output
    assert "line 11: rule skipped: negation" in printed.stderr
    document = yaml.safe_load(printed.stdout)
    assert len(document["redaction"]["machines"]) == 3
    out = tmp_path / "machines.yaml"
    written = runner.invoke(make_app(), ["redact", "import-ctp", str(script), "--out", str(out)])
    assert written.exit_code == 0 and yaml.safe_load(out.read_text()) == document
    from gantry_deid.config_file import load_config

    assert load_config(out).redaction == document["redaction"]  # usable as a configuration to extend
