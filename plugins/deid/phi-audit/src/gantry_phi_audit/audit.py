"""``audit_dataset``: one pass over every element of an instance, at every depth.

The walk dispatches on the tag and the VR with set and dict look-ups, and only text values are
looked at closely, so the audit stays cheap enough to run on every output file of a run. A
finding says where (tag path), which rule, and what kind of value (VR, length), never the value.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydicom.datadict import dictionary_VR

from gantry.storage import Finding
from gantry_phi_audit import patterns
from gantry_phi_audit.context import (
    CLEAN_PIXEL_DATA,
    AuditContext,
    allowed_private_for,
    as_audit_context,
    declared_options,
)
from gantry_phi_audit.preamble import preamble_problem
from gantry_phi_audit.profile_lists import ListedAttribute, PrivateKey, attributes_in_force, kept_as_is
from gantry_phi_audit.settings import AuditSettings, checked_rules

FREE_TEXT_VRS = frozenset({"LO", "LT", "SH", "ST", "UC", "UT"})
BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
NUMERIC_VRS = frozenset({"AT", "DS", "FD", "FL", "IS", "SL", "SS", "SV", "UL", "US", "UV"})

#: VRs some rule reads the value of (besides attributes the profile lists, checked by tag).
INSPECTED_VRS = FREE_TEXT_VRS | {"PN", "SQ", "UI"}

TEXT_VALUE = 0x0040A160
BURNED_IN_ANNOTATION = 0x00280301
MODALITY = 0x00080060
IMAGE_PRESENCE = (0x00280010, 0x7FE00010)  # Rows, Pixel Data
#: Gantry's own marking of a de-identified instance: written by the runner, never identifying.
MARKING = frozenset({0x00120062, 0x00120063, 0x00120064, 0x00280303})
#: Text that is coded or technical, not free text: code values ("113100" is a code, not an
#: MRN), versions and build strings.
NOT_FREE_TEXT = frozenset({
    0x00080100, 0x00080102, 0x00080103, 0x00080119,  # Code Value, Coding Scheme, its Version, Long Code Value
    0x00181020,  # Software Versions
    0x00020013,  # Implementation Version Name
})
FILE_META_IDENTITY = {
    0x00020016: "Source Application Entity Title",
    0x00020017: "Sending Application Entity Title",
    0x00020018: "Receiving Application Entity Title",
    0x00020100: "Private Information Creator UID",
    0x00020102: "Private Information",
}
#: UIDs that name software or coding schemes, not instances.
UIDS_NOT_REMAPPED = frozenset({0x00020010, 0x00020012, 0x0008010C, 0x00080117, 0x00080118})


def audit_dataset(dataset: Any, *, rules: Iterable[str] | None = None, context: Any = None,
                  allowed_private: Iterable[PrivateKey] | None = None) -> list[Finding]:
    """Findings for one instance: every element at every level, the File Meta, the preamble.

    ``dataset`` is a pydicom Dataset (a FileDataset's preamble is checked too) or the bytes of
    a Part 10 file. ``rules`` names the rules to run (default: the configured ones, see
    :data:`gantry_phi_audit.rules.RULES`). ``context`` is an :class:`AuditContext` or the
    runner's :class:`gantry.deid.DeidContext`. ``allowed_private`` lists the private attributes
    that may stay, as (group, private creator, element byte); default: Table E.3.10-1 when the
    Retain Safe Private Option is in force, none otherwise.
    """
    audit_context = as_audit_context(context)
    preamble: bytes | None = None
    if isinstance(dataset, (bytes, bytearray, memoryview)):
        dataset, preamble = _parse(bytes(dataset))
    else:
        preamble = getattr(dataset, "preamble", None)
    auditor = _Auditor(dataset, audit_context, rules, allowed_private)
    if preamble is not None and auditor.enabled("preamble-not-blank"):
        problem = preamble_problem(preamble)
        if problem:
            auditor.report("preamble", "preamble-not-blank", problem)
    meta = getattr(dataset, "file_meta", None)
    if meta is not None:
        auditor.walk(meta, "")
    auditor.walk(dataset, "")
    auditor.search_known_names()
    auditor.check_burned_in(dataset)
    return auditor.findings


def _parse(data: bytes) -> tuple[Any, bytes | None]:
    from io import BytesIO

    import pydicom

    dataset = pydicom.dcmread(BytesIO(data), force=True)
    return dataset, getattr(dataset, "preamble", None)


def tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _values(value: Any) -> list[Any] | tuple[Any, ...]:
    """The values of an element, one per value multiplicity, without the empty ones."""
    if type(value) is str:
        return (value,) if value else ()
    if value is None or value == b"":
        return ()
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [item for item in value if item is not None and item != ""]
    return (value,)


class _Auditor:
    """The state of one instance's audit: rules in force, findings, what to search later."""

    def __init__(self, dataset: Any, context: AuditContext, rules: Iterable[str] | None,
                 allowed_private: Iterable[PrivateKey] | None) -> None:
        settings = context.settings
        self.settings: AuditSettings = settings
        self.rules = checked_rules(rules) if rules is not None else settings.rules
        options = context.options if context.options is not None else declared_options(dataset)
        self.options = options
        self.pixels_redacted = (context.pixels_redacted if context.pixels_redacted is not None
                                else CLEAN_PIXEL_DATA in options)
        self.listed: dict[int, ListedAttribute] = (
            attributes_in_force(options) if "patient-identifier-attribute" in self.rules else {})
        self.kept = kept_as_is(options)
        self.allowed_private = allowed_private_for(options, allowed_private)
        self.uid = context.sop_instance_uid or str(dataset.get("SOPInstanceUID", "") or "")
        self.known_names = set(context.known_names)
        self.known_identifiers = context.known_identifiers
        self.findings: list[Finding] = []
        self.free_texts: list[tuple[str, str, bool]] = []
        """(path, upper-case text, is SR text) for the search of names found later in the walk."""
        self.flagged_names: set[str] = set()
        """Paths already reported for a name, so the later search does not repeat them."""
        self.check_names = bool(self.rules & {"free-text-name", "sr-text"})
        self.check_free_text = bool(self.rules & {"free-text-name", "free-text-date",
                                                  "identifier-like", "email", "phone"})
        self.check_uids = "uid-not-remapped" in self.rules and "retain-uids" not in options
        self.check_private = "private-tag-present" in self.rules
        self.check_overlays = "overlay-data" in self.rules and "clean-graphics" not in options
        # Clean Graphics keeps curves as well as overlays (Table E.1-1: (50xx,xxxx) is C there);
        # their text is still read by the free-text rules below.
        self.check_curves = "curve-data" in self.rules and "clean-graphics" not in options

    def enabled(self, rule: str) -> bool:
        return rule in self.rules

    def report(self, path: str, rule: str, note: str) -> None:
        self.findings.append(Finding(sop_instance_uid=self.uid, tag=path, rule=rule, note=note))

    # --- the walk --------------------------------------------------------------------------

    def walk(self, dataset: Any, prefix: str) -> None:
        creators: dict[tuple[int, int], str] = {}
        curve_groups: set[int] = set()
        raw_elements = dataset._dict
        for tag in sorted(raw_elements):  # Dataset.__iter__'s order, without converting yet
            group = tag >> 16
            if tag in MARKING or self.unread(tag, group, raw_elements[tag]):
                continue
            element = dataset[tag]
            if group & 1:
                number = tag & 0xFFFF
                if number < 0x0100:  # group length or a private creator: no patient data
                    if number >= 0x0010:
                        creators[(group, number)] = str(element.value or "").strip()
                    continue
                if self.check_private:
                    self.private_element(element, tag, group, creators, prefix)
            elif group == 0x0002 and tag in FILE_META_IDENTITY:
                self.file_meta_identity(element, tag, prefix)
                continue
            elif 0x5000 <= group <= 0x60FF:
                if 0x5000 <= group <= 0x501E and group not in curve_groups:
                    curve_groups.add(group)
                    if self.check_curves:
                        self.report(prefix + tag_text(tag), "curve-data",
                                    "retired Curve group present (the Basic Profile removes it)")
                elif 0x6000 <= group <= 0x601E and self.check_overlays:
                    self.overlay_element(element, tag, prefix)
            vr = element.VR
            if vr == "SQ":
                self.sequence(element, tag, prefix)
                continue
            values = _values(element.value)
            if not values:
                continue
            listed = self.listed.get(tag)
            if listed is not None:
                self.listed_value(listed, tag, vr, values, prefix)
            if vr in BINARY_VRS or vr in NUMERIC_VRS or tag in self.kept:
                continue
            if vr == "PN":
                self.person_name(tag, values, prefix)
            elif vr in FREE_TEXT_VRS:
                if tag == TEXT_VALUE:
                    self.text_value(tag, values, prefix, sr=True)
                elif self.check_free_text and tag not in NOT_FREE_TEXT:
                    self.text_value(tag, values, prefix, sr=False)
            elif vr == "UI" and self.check_uids and tag not in UIDS_NOT_REMAPPED:
                self.uid_values(tag, values, prefix)

    def unread(self, tag: int, group: int, raw: Any) -> bool:
        """True for an element no rule reads (a standard attribute, not listed in the profile,
        whose VR no rule inspects): it is left as read. Converting every element of a raw
        dataset would cost more than the whole audit."""
        if group & 1 or group == 0x0002 or 0x5000 <= group <= 0x60FF or tag in self.listed:
            return False
        vr = getattr(raw, "VR", None)
        if vr is None:
            try:
                vr = dictionary_VR(tag)
            except KeyError:
                return False
        return vr not in INSPECTED_VRS

    def sequence(self, element: Any, tag: int, prefix: str) -> None:
        items = element.value or ()
        listed = self.listed.get(tag)
        if listed is not None and listed.action == "X" and len(items):
            self.report(prefix + tag_text(tag), "patient-identifier-attribute",
                        f"{listed.name}: sequence of {len(items)} item(s) present; the Basic "
                        f"Profile removes it")
        for index, item in enumerate(items):
            self.walk(item, f"{prefix}{tag_text(tag)}[{index}]>")

    # --- rules on one element ----------------------------------------------------------------

    def listed_value(self, listed: ListedAttribute, tag: int, vr: str, values: Any, prefix: str) -> None:
        if vr in BINARY_VRS:
            # A dummy cannot be told from a real value in bytes, except zeros (what
            # de-identifiers write): only a value the profile removes outright is a sure leftover.
            if listed.action != "X" or _all_zero_bytes(values):
                return
            note = f"{listed.name}: {vr} value of {_length(values)} bytes present; the Basic Profile removes it"
        elif vr in NUMERIC_VRS:
            if all(_is_zero(value) for value in values):
                return
            note = f"{listed.name}: {vr} value present; the Basic Profile action is {listed.action}"
        else:
            is_dummy = self.settings.is_dummy
            texts = [str(value) for value in values]
            if all(is_dummy(text, vr) for text in texts):
                return
            note = (f"{listed.name}: {vr} value of {_characters(sum(map(len, texts)))} present; "
                    f"the Basic Profile action is {listed.action}")
        self.report(prefix + tag_text(tag), "patient-identifier-attribute", note)

    def person_name(self, tag: int, values: Any, prefix: str) -> None:
        is_dummy = self.settings.is_dummy
        names = [str(value) for value in values]
        real = [name for name in names if not is_dummy(name, "PN")]
        if not real:
            return
        if self.enabled("person-name"):
            self.report(prefix + tag_text(tag), "person-name",
                        f"PN value of {_characters(sum(map(len, real)))}")
        if self.check_names:
            for name in real:
                self.known_names.update(part for part in patterns.name_parts(name) if not is_dummy(part))

    def text_value(self, tag: int, values: Any, prefix: str, *, sr: bool) -> None:
        path = prefix + tag_text(tag)
        kinds: dict[str, None] = {}  # ordered set: one finding per rule per element
        uppers = []
        for value in values:
            text = str(value)
            if patterns.might_match(text):
                kinds.update(dict.fromkeys(self.kinds_in(text)))
            upper = text.upper()
            if self.known_identifiers and patterns.contains_word(upper, self.known_identifiers):
                kinds["identifier-like"] = None
            uppers.append(upper)
        length = sum(map(len, uppers))
        if sr and kinds and self.enabled("sr-text"):
            self.report(path, "sr-text", f"SR Text Value of {_characters(length)} holds {_kinds_text(kinds)}")
        elif not sr:
            for kind in kinds:
                if self.enabled(kind):
                    self.report(path, kind, f"free text ({_characters(length)}) holds {_KIND_WORDS[kind]}")
        if "free-text-name" in kinds or (sr and kinds):
            self.flagged_names.add(path)
        else:
            self.free_texts.append((path, "\\".join(uppers), sr))

    def kinds_in(self, text: str) -> list[str]:
        """The rule names whose pattern occurs in ``text``."""
        is_dummy = self.settings.is_dummy
        kinds = []
        if "^" in text:
            names = patterns.name_like_tokens(text, is_dummy)
            if names:
                kinds.append("free-text-name")
                # A name written once as FAMILY^GIVEN is looked for wherever else it is written.
                self.known_names.update(name for name in names
                                        if len(name) >= 3 and name not in patterns.COMMON_WORDS)
        if patterns.has_date(text, is_dummy):
            kinds.append("free-text-date")
        if patterns.has_identifier_like_number(text):
            kinds.append("identifier-like")
        if "@" in text and patterns.has_email(text):
            kinds.append("email")
        if patterns.has_phone_number(text):
            kinds.append("phone")
        return kinds

    def private_element(self, element: Any, tag: int, group: int,
                        creators: dict[tuple[int, int], str], prefix: str) -> None:
        creator = creators.get((group, (tag >> 8) & 0xFF))
        if creator is not None and (group, creator, tag & 0xFF) in self.allowed_private:
            return
        owner = f"private creator {creator!r}" if creator else "no private creator"
        self.report(prefix + tag_text(tag), "private-tag-present",
                    f"private {element.VR} element ({owner})")

    def file_meta_identity(self, element: Any, tag: int, prefix: str) -> None:
        values = _values(element.value)
        if not values or not self.enabled("file-meta-identity"):
            return
        if element.VR not in BINARY_VRS and all(self.settings.is_dummy(str(v), element.VR) for v in values):
            return
        self.report(prefix + tag_text(tag), "file-meta-identity",
                    f"{FILE_META_IDENTITY[tag]} present in the File Meta Information ({element.VR})")

    def overlay_element(self, element: Any, tag: int, prefix: str) -> None:
        values = _values(element.value)
        if not values:
            return
        if tag & 0xFFFF == 0x3000:
            if _all_zero_bytes(values):
                return  # a blanked plane: its size kept, nothing drawn on it
            note = f"Overlay Data of {_length(values)} bytes present"
        elif element.VR in FREE_TEXT_VRS and not all(self.settings.is_dummy(str(v)) for v in values):
            note = f"text in an overlay group ({element.VR}, {_characters(sum(len(str(v)) for v in values))})"
        else:
            return  # geometry (rows, origin, bits): nothing that identifies
        self.report(prefix + tag_text(tag), "overlay-data", note)

    def uid_values(self, tag: int, values: Any, prefix: str) -> None:
        from pydicom.uid import UID_dictionary

        for value in values:
            uid = str(value).strip("\0 ")
            if uid and not uid.startswith(("2.25.", "1.2.840.10008.")) and uid not in UID_dictionary:
                self.report(prefix + tag_text(tag), "uid-not-remapped",
                            f"UID of {_characters(len(uid))} neither well known nor under 2.25")
                return

    # --- after the walk ----------------------------------------------------------------------

    def search_known_names(self) -> None:
        """Person names met anywhere in the instance (or known from its originals), looked for in
        the free text kept during the walk: a name can come after the text that repeats it."""
        if not self.known_names or not self.check_names:
            return
        names = sorted(self.known_names)
        for path, upper, sr in self.free_texts:
            if path in self.flagged_names or not patterns.contains_word(upper, names):
                continue
            rule = "sr-text" if sr else "free-text-name"
            if self.enabled(rule):
                self.report(path, rule, f"text of {_characters(len(upper))} holds a person name of this instance")
            self.flagged_names.add(path)

    def check_burned_in(self, dataset: Any) -> None:
        element = dataset.get(BURNED_IN_ANNOTATION)
        if element is not None and str(element.value or "").strip().upper() == "YES" \
                and self.enabled("burned-in-annotation"):
            self.report(tag_text(BURNED_IN_ANNOTATION), "burned-in-annotation",
                        "Burned In Annotation is YES: text in the pixels")
        modality = dataset.get(MODALITY)
        if modality is None or not self.enabled("burned-in-text-risk") or self.pixels_redacted:
            return
        name = str(modality.value or "").strip().upper()
        if name in self.settings.risky_modalities and any(tag in dataset for tag in IMAGE_PRESENCE):
            self.report(tag_text(MODALITY), "burned-in-text-risk",
                        f"{name} image with no record of pixel redaction (Clean Pixel Data)")


#: What each content rule found, in a note's words.
_KIND_WORDS = {"free-text-name": "a person name", "free-text-date": "a date",
               "identifier-like": "an identifier", "email": "an e-mail address",
               "phone": "a telephone number"}


def _kinds_text(kinds: Iterable[str]) -> str:
    return ", ".join(_KIND_WORDS[kind] for kind in kinds)


def _characters(count: int) -> str:
    return f"{count} character{'' if count == 1 else 's'}"


def _length(values: Any) -> int:
    return sum(len(value) if isinstance(value, (bytes, bytearray, str)) else 1 for value in values)


def _all_zero_bytes(values: Any) -> bool:
    return all(isinstance(value, (bytes, bytearray)) and not value.strip(b"\x00") for value in values)


def _is_zero(value: Any) -> bool:
    try:
        return float(value) == 0
    except (TypeError, ValueError):
        return False
