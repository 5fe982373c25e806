"""Ranking, pinning, priority overrides and run-time fallback."""

from __future__ import annotations

import pytest
from kernel_plugins import CALLS, OTHER_TS, TS, CodecPlugin

from gantry import CodecError, ConfigError, Kernel, PluginError, TransportError, Transport, hookimpl


def test_highest_priority_wins(make_kernel):
    kernel = make_kernel({"low": CodecPlugin("low", 10), "high": CodecPlugin("high", 90)})
    assert [o.provider for o in kernel.providers("decoder", TS)] == ["high", "low"]
    assert kernel.active("decoder", TS).provider == "high"


def test_ties_break_by_name_whatever_the_registration_order(make_kernel):
    for order in (("b", "a", "c"), ("c", "b", "a")):
        kernel = make_kernel({name: CodecPlugin(f"codec-{name}", 50) for name in order})
        assert [o.provider for o in kernel.providers("decoder", TS)] == ["codec-a", "codec-b", "codec-c"]


def test_keys_are_ranked_independently(make_kernel):
    kernel = make_kernel({"j2k": CodecPlugin("j2k", 90), "rle": CodecPlugin("rle", 10, syntaxes=(OTHER_TS,))})
    assert kernel.active("decoder", TS).provider == "j2k"
    assert kernel.active("decoder", OTHER_TS).provider == "rle"
    assert kernel.active("encoder", TS) is None  # decode-only codecs offer no encoder


def test_site_priority_override_reorders(make_kernel):
    plugins = {"low": CodecPlugin("low", 10), "high": CodecPlugin("high", 90)}
    kernel = make_kernel(plugins, config={"plugins": {"priority": {"low": 95}}})
    assert kernel.active("decoder", TS).provider == "low"
    assert kernel.active("decoder", TS).priority == 95


def test_pin_beats_priority(make_kernel):
    plugins = {"low": CodecPlugin("low", 10), "high": CodecPlugin("high", 90)}
    kernel = make_kernel(plugins, config={"plugins": {"pin": {"decoder": {TS: "low"}}}})
    active = kernel.active("decoder", TS)
    assert (active.provider, active.pinned) == ("low", True)
    assert [o.provider for o in kernel.providers("decoder", TS)] == ["low", "high"]


def test_pin_to_a_provider_that_does_not_offer_the_key_is_an_error(make_kernel):
    plugins = {"j2k": CodecPlugin("j2k", 50), "rle": CodecPlugin("rle", 50, syntaxes=(OTHER_TS,))}
    with pytest.raises(ConfigError, match=r"plugins\.pin\.decoder\.1\.2\.840\.10008\.1\.2\.4\.90 = 'rle'.*providers that do: j2k"):
        make_kernel(plugins, config={"plugins": {"pin": {"decoder": {TS: "rle"}}}})


def test_priority_for_unknown_provider_is_an_error(make_kernel):
    with pytest.raises(ConfigError, match="unknown provider 'nosuch'.*known providers: a"):
        make_kernel({"a": CodecPlugin("a", 50)}, config={"plugins": {"priority": {"nosuch": 1}}})


def test_call_uses_the_best_provider(make_kernel):
    kernel = make_kernel({"low": CodecPlugin("low", 10, "kernel_plugins:decode_also_ok"), "high": CodecPlugin("high", 90)})
    assert kernel.call("decoder", TS, b"x") == "ok:b'x'"
    assert CALLS == ["ok"]


def test_fallback_to_next_provider_when_one_raises(make_kernel):
    kernel = make_kernel({"vendor": CodecPlugin("vendor", 100, "kernel_plugins:decode_raises"),
                          "ours": CodecPlugin("ours", 50)})
    assert kernel.call("decoder", TS, b"frame") == "ok:b'frame'"
    assert CALLS == ["raises", "ok"]


def test_check_rejects_a_result_and_the_next_provider_is_tried(make_kernel):
    kernel = make_kernel({"sloppy": CodecPlugin("sloppy", 100, "kernel_plugins:decode_none"),
                          "ours": CodecPlugin("ours", 50)})

    def must_not_be_none(result):
        if result is None:
            raise ValueError("decoder returned nothing")

    assert kernel.call("decoder", TS, b"f", check=must_not_be_none) == "ok:b'f'"
    assert CALLS == ["none", "ok"]


def test_all_failing_names_every_provider_tried(make_kernel):
    kernel = make_kernel({"a": CodecPlugin("a", 60, "kernel_plugins:decode_raises"),
                          "b": CodecPlugin("b", 50, "kernel_plugins:missing_function"),
                          "c": CodecPlugin("c", 40, "no_such_module_anywhere:decode")})
    with pytest.raises(CodecError) as caught:
        kernel.call("decoder", TS, b"f", what="file x.dcm frame 3")
    message = str(caught.value)
    assert "decoder 1.2.840.10008.1.2.4.90 for file x.dcm frame 3" in message
    assert [name for name, _ in caught.value.attempts] == ["a", "b", "c"]
    for expected in ("a: ValueError: corrupt codestream at byte 12", "b: PluginError", "c: PluginError",
                     "no_such_module_anywhere"):
        assert expected in message


def test_no_provider_is_a_clear_error(make_kernel):
    kernel = make_kernel({})
    with pytest.raises(CodecError, match="no provider for decoder 1.2.3.4"):
        kernel.call("decoder", "1.2.3.4", b"")


class _TransportPlugin:
    def __init__(self, name, priority, factory):
        self.name, self.priority, self.factory = name, priority, factory

    @hookimpl
    def gantry_transports(self):
        return [Transport(name=self.name, schemes=("dicom",), priority=self.priority, factory=self.factory)]


def test_single_provider_families_do_not_fall_back(make_kernel):
    # A URL means one peer: a failing transport must not quietly hand over to another one.
    kernel = make_kernel({"first": _TransportPlugin("first", 90, "kernel_plugins:decode_raises"),
                          "second": _TransportPlugin("second", 10, "kernel_plugins:decode_ok")})
    with pytest.raises(TransportError) as caught:
        kernel.call("transport", "dicom", b"url")
    assert [name for name, _ in caught.value.attempts] == ["first"]
    assert CALLS == ["raises"]


def test_two_kernels_in_one_process_are_independent(make_kernel):
    one = make_kernel({"a": CodecPlugin("a", 10)})
    two = make_kernel({"b": CodecPlugin("b", 10)})
    assert [o.provider for o in one.providers("decoder", TS)] == ["a"]
    assert [o.provider for o in two.providers("decoder", TS)] == ["b"]
    assert one.pm is not two.pm


def test_provider_refs_load_once_per_kernel(make_kernel):
    kernel = make_kernel({"a": CodecPlugin("a", 10)})
    assert kernel.load("kernel_plugins:decode_ok") is kernel.load("kernel_plugins:decode_ok")
    with pytest.raises(PluginError, match="cannot load provider 'kernel_plugins:nope'"):
        kernel.load("kernel_plugins:nope")


def test_kernel_is_importable_lazily_from_package():
    import gantry

    assert gantry.Kernel is Kernel
