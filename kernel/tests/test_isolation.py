"""A plugin that fails is recorded with its error and left out; the others go on."""

from __future__ import annotations

import types

import pytest
from kernel_plugins import TS, CodecPlugin

from gantry import Codec, ConfigError, PluginError, Setting, hookimpl


class RaisesWhileDescribing:
    @hookimpl
    def gantry_codecs(self):
        raise RuntimeError("license server unreachable")


class ReturnsWrongType:
    @hookimpl
    def gantry_codecs(self):
        return ["not a descriptor"]


class BadDescriptor:
    @hookimpl
    def gantry_codecs(self):
        return [Codec(name="Bad Name!", transfer_syntaxes=(TS,), decode="m:f")]


class UnknownHook:
    @hookimpl
    def gantry_codec(self):  # misspelt
        return []


class UnknownHookArgument:
    @hookimpl
    def gantry_codecs(self, colour):
        return []


def _module(name: str, api: str | None) -> types.ModuleType:
    module = types.ModuleType(name)
    if api is not None:
        module.GANTRY_API_VERSION = api

    @hookimpl
    def gantry_codecs():
        return [Codec(name=name, transfer_syntaxes=(TS,), decode="kernel_plugins:decode_ok")]

    module.gantry_codecs = gantry_codecs
    return module


@pytest.mark.parametrize(
    ("plugin", "expected"),
    [
        (RaisesWhileDescribing(), "raised while describing itself in gantry_codecs: RuntimeError: license server unreachable"),
        (ReturnsWrongType(), "gantry_codecs must return Codec objects, got 'not a descriptor'"),
        (BadDescriptor(), "Codec.name must be lower-case letters"),
        (UnknownHook(), "implements gantry_codec, which is not a hook of Gantry plugin API 1.0"),
        (UnknownHookArgument(), "colour"),
        (_module("future", "1.7"), "targets Gantry plugin API 1.7 but this gantry-kernel provides only API 1.0; upgrade gantry-kernel"),
        (_module("old", "0.3"), "targets Gantry plugin API 0.3 but this gantry-kernel provides API 1.0"),
        (_module("garbled", "one"), "GANTRY_API_VERSION must look like '1.0'"),
    ],
)
def test_failing_plugin_is_recorded_and_others_go_on(make_kernel, plugin, expected):
    kernel = make_kernel({"good": CodecPlugin("good", 50), "bad": plugin})
    record = kernel.records["bad"]
    assert record.status == "failed"
    assert expected in record.error
    assert kernel.active("decoder", TS).provider == "good"
    assert kernel.call("decoder", TS, b"x") == "ok:b'x'"
    row = {r["name"]: r for r in kernel.report()}["bad"]
    assert (row["status"], row["provides"]) == ("failed", [])
    assert expected in row["error"]


def test_plugin_without_api_declaration_targets_1_0(make_kernel):
    kernel = make_kernel({"plain": _module("plain", None), "minor": _module("minor", "1.0")})
    assert kernel.records["plain"].status == "loaded"
    assert kernel.records["plain"].api_version == "1.0"


def test_strict_mode_turns_a_failure_into_an_error(make_kernel):
    with pytest.raises(PluginError, match="strict plugin mode: bad: raised while describing itself"):
        make_kernel({"good": CodecPlugin("good", 50), "bad": RaisesWhileDescribing()},
                    config={"plugins": {"strict": True}})
    make_kernel({"good": CodecPlugin("good", 50)}, config={"plugins": {"strict": True}})  # all fine: no error


def test_strict_from_environment(make_kernel):
    with pytest.raises(PluginError, match="strict plugin mode"):
        make_kernel({"bad": ReturnsWrongType()}, env={"GANTRY_STRICT_PLUGINS": "1"})


def test_duplicate_provider_name_fails_the_second_plugin(make_kernel):
    kernel = make_kernel({"first": CodecPlugin("same", 50), "second": CodecPlugin("same", 90)})
    assert kernel.records["first"].status == "loaded"
    assert kernel.records["second"].status == "failed"
    assert "provider name 'same' (codec) is already provided by plugin 'first'" in kernel.records["second"].error


def test_disabled_plugin_is_not_registered(make_kernel):
    kernel = make_kernel({"a": CodecPlugin("a", 90), "b": CodecPlugin("b", 10)},
                         config={"plugins": {"disable": ["a"]}})
    assert kernel.records["a"].status == "disabled"
    assert kernel.records["a"].disabled_by == "test configuration plugins.disable"
    assert kernel.active("decoder", TS).provider == "b"
    assert {r["name"]: r["status"] for r in kernel.report()} == {"a": "disabled", "b": "loaded"}


def test_disable_from_environment(make_kernel):
    kernel = make_kernel({"a": CodecPlugin("a", 90), "b": CodecPlugin("b", 10)}, env={"GANTRY_DISABLE": " a , "})
    assert kernel.records["a"].status == "disabled"
    assert kernel.records["a"].disabled_by == "GANTRY_DISABLE"


def test_disabling_an_unknown_plugin_is_an_error(make_kernel):
    with pytest.raises(ConfigError, match="unknown plugin\\(s\\) nosuch; installed plugins: a"):
        make_kernel({"a": CodecPlugin("a", 90)}, config={"plugins": {"disable": ["nosuch"]}})
    with pytest.raises(ConfigError, match="GANTRY_DISABLE: unknown plugin\\(s\\) typo"):
        make_kernel({"a": CodecPlugin("a", 90)}, env={"GANTRY_DISABLE": "typo"})


def test_priority_for_a_provider_of_a_failed_plugin_warns_instead_of_failing(make_kernel):
    kernel = make_kernel({"a": CodecPlugin("a", 90), "bad": RaisesWhileDescribing()},
                         config={"plugins": {"priority": {"vendor-j2k": 5}}})
    assert kernel.active("decoder", TS).provider == "a"
    assert any("vendor-j2k" in warning and "bad" in warning for warning in kernel.warnings)


class Events:
    def __init__(self, log):
        self.log = log

    @hookimpl
    def gantry_instance_stored(self, instance):
        self.log.append(("stored", instance))

    @hookimpl
    def gantry_instance_received(self, dataset, source, kernel):
        self.log.append(("received", source, kernel is not None))


class BrokenListener:
    @hookimpl
    def gantry_instance_stored(self, instance):
        raise RuntimeError("listener bug")


def test_events_fan_out_and_a_failing_listener_is_not_fatal(make_kernel, capsys):
    seen = []
    kernel = make_kernel({"broken": BrokenListener(), "events": Events(seen)})
    kernel.emit("gantry_instance_stored", instance="I1")
    kernel.emit("gantry_instance_received", dataset=None, source="dicom://x")
    assert seen == [("stored", "I1"), ("received", "dicom://x", True)]
    assert "event.listener_failed" in capsys.readouterr().err


class Allow:
    @hookimpl
    def gantry_accept_instance(self, dataset, stage):
        return True if stage == "ingest" else None


class Deny:
    @hookimpl
    def gantry_accept_instance(self, dataset):
        return dataset != "forbidden"


class CrashingFilter:
    @hookimpl
    def gantry_accept_instance(self, dataset):
        raise KeyError("Modality")


def test_every_filter_must_allow(make_kernel):
    kernel = make_kernel({"allow": Allow(), "deny": Deny()})
    assert kernel.allows("fine", "ingest")
    assert not kernel.allows("forbidden", "ingest")
    assert make_kernel({}).allows("anything", "send")  # no filter: allowed


def test_a_filter_that_raises_rejects(make_kernel):
    kernel = make_kernel({"allow": Allow(), "crash": CrashingFilter()})
    assert not kernel.allows("fine", "ingest")


class WithSettings:
    def __init__(self):
        self.configured = None

    @hookimpl
    def gantry_settings(self):
        return [Setting(name="mode", choices=("fast", "safe"), default="safe"),
                Setting(name="workers", type="int", default=2)]

    @hookimpl
    def gantry_configure(self, settings, kernel):
        if settings["workers"] > 64:
            raise ConfigError("workers above 64 make no sense")
        self.configured = settings


def test_plugin_settings_are_validated_and_defaults_filled(make_kernel):
    plugin = WithSettings()
    kernel = make_kernel({"tuned": plugin}, config={"tuned": {"mode": "fast"}})
    assert plugin.configured == {"mode": "fast", "workers": 2}
    assert kernel.settings("tuned") == {"mode": "fast", "workers": 2}


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"speed": 1}, r"\[tuned\] has unknown setting\(s\) speed; allowed: mode, workers"),
        ({"workers": "four"}, r"tuned.workers must be of type int, got 'four'"),
        ({"workers": True}, r"tuned.workers must be of type int, got True"),
        ({"mode": "turbo"}, r"tuned.mode = 'turbo' is not allowed; choose one of 'fast', 'safe'"),
    ],
)
def test_bad_plugin_settings_are_errors_naming_the_key(make_kernel, section, expected):
    with pytest.raises(ConfigError, match=expected):
        make_kernel({"tuned": WithSettings()}, config={"tuned": section})


def test_configure_hook_failure_marks_plugin_failed(make_kernel):
    kernel = make_kernel({"tuned": WithSettings(), "good": CodecPlugin("good", 1)}, config={"tuned": {"workers": 65}})
    assert kernel.records["tuned"].status == "failed"
    assert "workers above 64" in kernel.records["tuned"].error
    assert kernel.records["good"].status == "loaded"


def test_section_for_unknown_plugin_is_an_error(make_kernel):
    with pytest.raises(ConfigError, match=r"unknown section \[tuneed\].*installed plugin \(tuned\)"):
        make_kernel({"tuned": WithSettings()}, config={"tuneed": {"mode": "fast"}})


def test_section_for_plugin_without_settings_is_an_error(make_kernel):
    with pytest.raises(ConfigError, match="none \\(this plugin has no settings\\)"):
        make_kernel({"a": CodecPlugin("a", 1)}, config={"a": {"x": 1}})
