"""Site overrides: per attribute (keyword, tag or tag mask), an action code and optionally a value.

    {"PatientName": ("D", "ANON^{patient_hash}"),     # a site dummy, from a template
     "(0008,1030)": "K",                               # keep Study Description
     "(60xx,3000)": "X",                               # a mask
     "InstitutionName": {"action": "D", "value": "RESEARCH SITE"}}

Values are small templates: literal text with ``{field}`` placeholders from :data:`FIELDS`
(``{{`` and ``}}`` for literal braces); nothing is evaluated, and every field is derived with
the site secret so no original value can be copied through. A value is allowed with ``D`` only,
on a single attribute whose VR is text, number, date or time (not UI, sequences or bytes), and
it is checked against the VR when the plan is compiled.

Every problem is a :class:`gantry.ConfigError` naming the override key and what is allowed.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import string
from collections.abc import Collection, Mapping
from typing import Any

import attrs

from gantry import ConfigError
from gantry_deid.tables import parse_tag_text, tag_text

#: Template fields: name -> what it is. All are keyed with the site secret.
FIELDS: dict[str, str] = {
    "patient_hash": "10 upper-case hex digits of HMAC-SHA256(site secret, patient key): the same for "
                    "every instance of a patient, meaningless without the secret",
}
_SAMPLE_FIELDS = {"patient_hash": "0123456789"}
SPECIFIC_CHARACTER_SET = 0x00080005

#: VRs whose value an override may set (a template renders text).
VALUE_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM",
                       "UC", "UR", "UT"})


@attrs.frozen
class ValueTemplate:
    """Literal text with placeholders; ``render`` fills them from a field mapping."""

    text: str
    parts: tuple[tuple[bool, str], ...]
    """(is a field, literal text or field name), in order."""

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(name for is_field, name in self.parts if is_field)

    def render(self, fields: Mapping[str, str]) -> str:
        return "".join(fields[name] if is_field else name for is_field, name in self.parts)


def parse_template(text: str, where: str) -> ValueTemplate:
    parts: list[tuple[bool, str]] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as err:  # a lone '{' or '}'
        raise ConfigError(f"{where}: value {text!r} is not a valid template ({err}); write {{{{ and "
                          "}} for literal braces") from err
    for literal, field, spec, conversion in parsed:
        if literal:
            parts.append((False, literal))
        if field is None:
            continue
        if field not in FIELDS or spec or conversion:
            raise ConfigError(f"{where}: value {text!r} uses {{{field}{'!' + conversion if conversion else ''}"
                              f"{':' + spec if spec else ''}}}; allowed fields: "
                              + ", ".join(f"{{{name}}}" for name in FIELDS) + " (no formats or conversions)")
        parts.append((True, field))
    return ValueTemplate(text=text, parts=tuple(parts))


def template_fields(secret: bytes, patient_key: str) -> dict[str, str]:
    """The values of :data:`FIELDS` for one instance."""
    digest = hmac.new(secret, b"gantry-deid:patient:" + patient_key.encode("utf-8"), hashlib.sha256)
    return {"patient_hash": digest.hexdigest()[:10].upper()}


@attrs.frozen
class Override:
    key: str
    """The key as the site wrote it (for messages)."""
    mask: int
    value: int
    code: str
    template: ValueTemplate | None = None
    name: str = ""

    @property
    def is_plain(self) -> bool:
        return self.mask == 0xFFFFFFFF


def parse_overrides(overrides: Mapping[Any, Any] | None, codes: Collection[str]) -> tuple[Override, ...]:
    """Validate ``overrides``; ``codes`` are the action codes a site may name (those with a provider
    or built in)."""
    if not overrides:
        return ()
    if not isinstance(overrides, Mapping):
        raise ConfigError(f"deid overrides must be a mapping of attribute -> action, got {type(overrides).__name__}")
    parsed: list[Override] = []
    seen: dict[tuple[int, int], str] = {}
    for key, spec in overrides.items():
        where = f"deid override {key!r}"
        mask, value, name, vr = _target(key, where)
        if (mask, value) in seen:
            raise ConfigError(f"{where}: the same attribute is already overridden as {seen[(mask, value)]!r}")
        seen[(mask, value)] = str(key)
        code, text = _action(spec, where)
        if code not in codes:
            raise ConfigError(f"{where}: unknown action {code!r}; allowed: {', '.join(sorted(codes))}")
        template = None
        if text is not None:
            template = _checked_template(text, code, mask, vr, where)
        parsed.append(Override(key=str(key), mask=mask, value=value, code=code, template=template, name=name))
    return tuple(parsed)


def _target(key: Any, where: str) -> tuple[int, int, str, str | None]:
    """(mask, value, attribute name, dictionary VR or None) of an override key."""
    from pydicom.datadict import dictionary_description, dictionary_VR, keyword_dict

    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise ConfigError(f"{where}: a key is a keyword (PatientName), a tag ((0010,0010)) or a mask "
                          f"((60xx,3000)), got {type(key).__name__}")
    if isinstance(key, int):
        if not 0 <= key <= 0xFFFFFFFF:
            raise ConfigError(f"{where}: {key:#x} is not a tag")
        mask, value = 0xFFFFFFFF, key
    elif key in keyword_dict:
        mask, value = 0xFFFFFFFF, keyword_dict[key]
    else:
        try:
            mask, value = parse_tag_text(key)
        except ValueError:
            close = difflib.get_close_matches(key, keyword_dict, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(f"{where}: not a DICOM keyword, tag like (0010,0010) or mask like "
                              f"(60xx,3000){hint}") from None
    group_mask, group = mask >> 16, value >> 16
    if group_mask == 0xFFFF and group in (0x0002, 0x0004):
        raise ConfigError(f"{where}: group {group:04X} is not overridable (File Meta is rebuilt and group "
                          "0004 is always removed, PS3.15 E.1.1)")
    if mask == 0xFFFFFFFF and value == SPECIFIC_CHARACTER_SET:
        raise ConfigError(f"{where}: Specific Character Set is not overridable: kept text is written in the "
                          "character set it was read in")
    if group_mask & 1 and group & 1:
        raise ConfigError(f"{where}: private attributes are handled by the private rule (removed, or safe "
                          "ones kept with the retain-safe-private option), not per tag")
    if mask != 0xFFFFFFFF:
        return mask, value, str(key), None
    try:
        return mask, value, dictionary_description(value), str(dictionary_VR(value))
    except KeyError:
        return mask, value, tag_text(value), None


def _action(spec: Any, where: str) -> tuple[str, str | None]:
    if isinstance(spec, str):
        return spec.strip(), None
    if isinstance(spec, Mapping):
        unknown = sorted(set(spec) - {"action", "value"})
        if unknown or "action" not in spec:
            raise ConfigError(f"{where}: a mapping needs 'action' and optionally 'value'"
                              + (f" (unknown keys: {', '.join(map(str, unknown))})" if unknown else ""))
        action, text = spec["action"], spec.get("value")
    elif isinstance(spec, (tuple, list)) and len(spec) in (1, 2):
        action, text = spec[0], spec[1] if len(spec) == 2 else None
    else:
        raise ConfigError(f"{where}: expected an action code (\"X\"), (code, value) or "
                          f"{{action, value}}, got {spec!r}")
    if not isinstance(action, str):
        raise ConfigError(f"{where}: the action must be a code such as \"X\", got {action!r}")
    if text is not None and not isinstance(text, str):
        raise ConfigError(f"{where}: the value must be text, got {type(text).__name__}")
    return action.strip(), text


def _checked_template(text: str, code: str, mask: int, vr: str | None, where: str) -> ValueTemplate:
    from pydicom import config
    from pydicom.valuerep import validate_value

    if code != "D":
        raise ConfigError(f"{where}: a value goes with action D (a site dummy), not {code!r}")
    if mask != 0xFFFFFFFF:
        raise ConfigError(f"{where}: a value needs a single attribute, not a mask")
    if vr is None or vr not in VALUE_VRS:
        raise ConfigError(f"{where}: a value cannot be set on VR {vr or 'unknown'}; values are allowed for "
                          f"{', '.join(sorted(VALUE_VRS))} (UIDs are replaced by action U)")
    template = parse_template(text, where)
    sample = template.render(_SAMPLE_FIELDS)
    if not sample.strip():
        raise ConfigError(f"{where}: D needs a non-empty value")
    try:
        validate_value(vr, sample, config.RAISE)
    except ValueError as err:
        raise ConfigError(f"{where}: value {text!r} is not valid for VR {vr}: {err}") from err
    return template
