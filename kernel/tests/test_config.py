"""Site configuration: where it is found, what it may say, and clear errors for the rest."""

from __future__ import annotations

import pytest

from gantry import ConfigError
from gantry.config import load_config, parse_config


def test_no_file_means_defaults(tmp_path):
    config = load_config(env={}, cwd=tmp_path)
    assert config.source is None
    assert (dict(config.disable), config.strict, config.log.format, config.log.phi) == ({}, False, "auto", False)


def test_file_discovery_order(tmp_path):
    (tmp_path / "gantry.toml").write_text('[plugins]\ndisable = ["from-cwd"]\n')
    env_file = tmp_path / "env.toml"
    env_file.write_text('[plugins]\ndisable = ["from-env"]\n')
    explicit = tmp_path / "explicit.yaml"
    explicit.write_text("plugins:\n  disable: [from-flag]\n")
    assert list(load_config(env={}, cwd=tmp_path).disable) == ["from-cwd"]
    assert list(load_config(env={"GANTRY_CONFIG": str(env_file)}, cwd=tmp_path).disable) == ["from-env"]
    assert list(load_config(explicit, env={"GANTRY_CONFIG": str(env_file)}, cwd=tmp_path).disable) == ["from-flag"]


def test_missing_named_files_are_errors(tmp_path):
    with pytest.raises(ConfigError, match="from --config"):
        load_config(tmp_path / "nope.toml", env={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match=r"from \$GANTRY_CONFIG"):
        load_config(env={"GANTRY_CONFIG": str(tmp_path / "nope.toml")}, cwd=tmp_path)


def test_full_file(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text(
        '[plugins]\ndisable = ["x"]\nstrict = true\n'
        '[plugins.priority]\n"vendor-j2k" = 10\n'
        '[plugins.pin.decoder]\n"1.2.840.10008.1.2.4.90" = "ours"\n'
        '[log]\nformat = "json"\nlevel = "debug"\nphi = true\n'
        '[part10]\n'
    )
    config = load_config(path, env={})
    assert config.source == str(path)
    assert dict(config.disable) == {"x": f"{path} plugins.disable"}
    assert config.strict is True
    assert dict(config.priorities) == {"vendor-j2k": 10}
    assert dict(config.pins) == {("decoder", "1.2.840.10008.1.2.4.90"): "ours"}
    assert (config.log.format, config.log.level, config.log.phi) == ("json", "debug", True)
    assert dict(config.sections) == {"part10": {}}


def test_environment_overrides(tmp_path):
    config = parse_config({"log": {"format": "console"}, "plugins": {"disable": ["a"]}}, env={
        "GANTRY_DISABLE": "b,c", "GANTRY_LOG_FORMAT": "json", "GANTRY_LOG_LEVEL": "WARNING",
        "GANTRY_LOG_PHI": "no", "GANTRY_STRICT_PLUGINS": "yes"})
    assert dict(config.disable) == {"a": "configuration plugins.disable", "b": "GANTRY_DISABLE", "c": "GANTRY_DISABLE"}
    assert (config.log.format, config.log.level, config.log.phi, config.strict) == ("json", "warning", False, True)


@pytest.mark.parametrize(
    ("data", "env", "expected"),
    [
        ({"plugins": {"disabled": ["x"]}}, {}, r"\[plugins\] has unknown key\(s\) disabled; allowed: disable, strict, priority, pin"),
        ({"log": {"colour": True}}, {}, r"\[log\] has unknown key\(s\) colour; allowed: format, level, phi"),
        ({"log": {"format": "xml"}}, {}, "log.format = 'xml' is not allowed; choose one of auto, console, json"),
        ({}, {"GANTRY_LOG_FORMAT": "xml"}, "GANTRY_LOG_FORMAT = 'xml' is not allowed"),
        ({"log": {"phi": "yes"}}, {}, "log.phi must be true or false, got 'yes'"),
        ({}, {"GANTRY_LOG_PHI": "maybe"}, "GANTRY_LOG_PHI='maybe' is not a boolean"),
        ({"plugins": {"disable": "x"}}, {}, "plugins.disable must be a list of plugin names"),
        ({"plugins": {"priority": {"x": "high"}}}, {}, "plugins.priority.x must be an integer, got 'high'"),
        ({"plugins": {"pin": {"decoders": {}}}}, {}, "plugins.pin.decoders: unknown family 'decoders'; allowed: reader, decoder"),
        ({"plugins": {"pin": {"decoder": {"1.2": 3}}}}, {}, "plugins.pin.decoder.1.2 must be a provider name"),
        ({"part10": 3}, {}, "top-level key 'part10' must be a section"),
    ],
)
def test_invalid_configuration_names_the_key(data, env, expected):
    with pytest.raises(ConfigError, match=expected):
        parse_config(data, env=env)


def test_syntax_errors_name_the_file(tmp_path):
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[plugins\n")
    with pytest.raises(ConfigError, match="bad.toml: not valid TOML"):
        load_config(bad_toml, env={})
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("plugins: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        load_config(bad_yaml, env={})
    list_yaml = tmp_path / "list.yaml"
    list_yaml.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="the top level must be a table of sections, got list"):
        load_config(list_yaml, env={})
