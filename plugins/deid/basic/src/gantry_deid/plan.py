"""Compile a profile, the options in force and the site's overrides into a :class:`Plan`, once per run.

The plan answers "which action for this tag?" with one dict lookup: plain tags of Table E.1-1
sit in ``exact``; masked rows (``(50xx,xxxx)``, ``(60xx,3000)`` ...) and masked overrides are
tried only for a tag not seen before, and the answer is remembered per tag. Private attributes
(odd groups) never reach the plan's tag rules: the engine applies the private policy to them
with their private creator in hand.

How a row's code is chosen, in order:

1. a site override (exact tag, keyword or mask) wins over everything, except that group 0002
   (File Meta, rebuilt) and group 0004 (always removed, PS3.15 E.1.1) cannot be overridden, and
   the rules that keep the output valid (below) apply to overridden rules too;
2. an option in force whose column names the row replaces the Basic Profile code ("a requirement
   for an Option ... overrides any requirement for the underlying Profile"). When two options in
   force both name a row, the most retaining code wins: K (keep) over C (clean); between equal
   codes the first option in :data:`gantry.deid.OPTIONS` order is recorded as the one used. The
   only overlaps in the 2026c table are K/K (retain-uids with retain-device-identity) and C/C
   (retain-patient-characteristics with clean-descriptors); the two longitudinal options are
   mutually exclusive (PS3.15 E.3.6) and refused together;
3. a combined code (X/Z, X/D, Z/D, X/Z/D, X/Z/U*) resolves by the attribute's Type when the
   caller gives ``attribute_type`` (:data:`gantry.deid.COMBINED_BY_TYPE`), else by
   :data:`gantry.deid.COMBINED_SAFE`, the choice valid whatever the Type is (we have no IOD
   tables: the Type depends on the IOD and on the nesting, so a Type-aware plan is one plan per
   SOP class, which ``attribute_type`` allows);
4. an attribute that is not in the table, not private and not overridden gets ``unlisted``
   (default K: Table E.1-1 lists the attributes that can carry identity, and the standard lets
   a de-identifier keep the rest; ``unlisted="X"`` keeps only what the table says to keep).

Special rows: the profile's supplementary rows (:data:`gantry_deid.tables.SUPPLEMENTARY_ROWS`:
Overlay Description and Overlay Label, treated like Overlay Comments) come after the table's;
group 0004 (Directory) is removed everywhere; (0008,0300) Private Data Element
Characteristics Sequence is removed unless retain-safe-private is in force (it describes private
blocks, which are all gone otherwise).

Rules that keep the output valid, applied after everything above (overrides included):

- **repeating groups** (:data:`gantry_deid.tables.REPEATING_GROUPS`): when the rule for an
  overlay's Overlay Data (60xx,3000) or a curve's Curve Data (50xx,3000) is X or Z, every element
  of that group is removed: an overlay without its data is invalid (Type 1), and PS3.15 E.1.1
  wants identifying overlays removed, not half removed;
- **condition pairs** (:data:`gantry_deid.tables.CONDITIONAL_PAIRS`): when the rule for the
  condition attribute of a Type 1C attribute removes it, the 1C attribute is removed too (it may
  not be present without its condition).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

import attrs

from gantry import ConfigError, DeidError
from gantry.deid import COMBINED_BY_TYPE, COMBINED_SAFE, DATE_VRS, INSTANCE_STEPS, OPTIONS, SHIFT
from gantry_deid.overrides import Override, ValueTemplate, parse_overrides
from gantry_deid.tables import (
    CONDITIONAL_PAIRS,
    REPEATING_GROUPS,
    ContentItemRow,
    RepeatingGroup,
    RuleTable,
    TableRow,
    tag_text,
)

#: The single action codes of Table E.1-1a: a site may name these, and any other code that has
#: an active provider (``shift``, ``remap`` ...).
BASIC_CODES = ("X", "Z", "D", "K", "C", "U")
#: Codes in an option column, from most to least retaining (see the module docstring).
RETENTION = {"K": 2, "C": 1}
#: What an attribute that is not in the table may get.
UNLISTED_CODES = ("K", "X")
#: Options with no Table E.1-1 column, done by an instance step instead.
OPTION_STEPS = {"clean-pixel-data": "redact-pixels"}
UNSUPPORTED_OPTIONS = {
    "clean-recognizable-visual-features": "no Gantry action removes recognizable visual features from "
                                          "pixel data; do not claim this option",
}
#: Where a content item keeps its value, by Value Type (PS3.3 C.17.3), for Table E.3.4-1.
CONTENT_VALUE_TAGS = {"TEXT": 0x0040A160, "PNAME": 0x0040A123, "DATE": 0x0040A121, "TIME": 0x0040A122,
                      "DATETIME": 0x0040A120, "UIDREF": 0x0040A124, "CODE": 0x0040A168, "NUM": 0x0040A300,
                      "IMAGE": 0x00081199, "COMPOSITE": 0x00081199, "WAVEFORM": 0x00081199}
#: Value types that reference instances: their "dummy" is the reference with its UIDs replaced.
REFERENCE_VALUE_TYPES = frozenset({"IMAGE", "COMPOSITE", "WAVEFORM"})
PRIVATE_CHARACTERISTICS = 0x00080300
DIRECTORY_GROUP = 0x0004
#: The codes that leave no value (X removes, Z empties): an overlay's or a curve's data under one
#: of them takes its whole group along; so does a "present with a value" condition its 1C attribute.
VALUE_GONE_CODES = frozenset({"X", "Z"})

#: ``attribute_type(tag) -> "1" | "1C" | "2" | "2C" | "3" | None``
AttributeType = Callable[[int], "str | None"]


@attrs.frozen
class Rule:
    """The action for one attribute, and why."""

    code: str
    name: str
    source: str
    """``basic``, ``option``, ``override``, ``unlisted``, ``directory`` (group 0004), ``private``,
    ``content item`` (Table E.3.4-1), ``profile`` (a row the profile adds to the table),
    ``overlay group`` / ``curve group`` (removed with the group's data), ``condition`` (a 1C
    attribute whose condition attribute is removed)."""
    option: str | None = None
    """The option that decided this rule (recorded in ``context.used_options`` when applied)."""
    template: ValueTemplate | None = None
    """A site value (override with D): written by the engine instead of calling D."""
    vr: str | None = None
    """The dictionary VR when known (implicit-VR datasets carry none)."""
    table_code: str | None = None
    """The code as the table writes it (a combined code before resolution)."""


@attrs.frozen
class ResolvedAction:
    """An action code's active provider, loaded once per run."""

    code: str
    provider: str
    plugin: str
    apply: Callable[..., None]

    @property
    def replaces_sequence_items(self) -> bool:
        """Whether the action throws any sequence's items away (our X and Z): the engine need not
        read them."""
        return getattr(self.apply, "replaces_sequence_items", False) is True

    def replaces_items(self, items: Any) -> bool:
        """Whether the action replaces these items whatever they hold (our D on content items or
        codes): the engine need not clean them first. A provider says so with a
        ``replaces_sequence_items`` attribute, True or a function of the items."""
        flag = getattr(self.apply, "replaces_sequence_items", False)
        return bool(flag(items)) if callable(flag) else flag is True

    @property
    def builtin(self) -> bool:
        return getattr(self.apply, "__module__", "") == "gantry_deid.actions"


@attrs.define(eq=False)
class Plan:
    """A compiled rule plan: read-only once built, shared by every instance of a run."""

    profile: str
    edition: str
    options: frozenset[str]
    exact: dict[int, Rule]
    masked: tuple[tuple[int, int, Rule], ...]
    unlisted: Rule
    retain_safe_private: bool
    safe_private: frozenset[tuple[int, str, int]]
    safe_private_rule: Rule
    actions: dict[str, ResolvedAction]
    steps_before: tuple[ResolvedAction, ...] = ()
    steps_after: tuple[ResolvedAction, ...] = ()
    longitudinal: str = "REMOVED"
    needs_identifying_values: bool = False
    keep_originals: bool = True
    content_rules: dict[tuple[str, str, str], Rule] = attrs.field(factory=dict)
    """Clean Structured Content: (scheme, code value, value type) of a content item's concept -> the
    rule for the item (X removes the whole item; anything else applies to its value attribute)."""
    content_text_rule: Rule | None = None
    """Clean Structured Content: the rule for the value of a TEXT item not in Table E.3.4-1."""
    _resolved: dict[int, Rule] = attrs.field(factory=dict, repr=False)

    def rule_for(self, tag: int) -> Rule:
        """The rule for a standard (even-group) tag; remembered per tag."""
        rule = self._resolved.get(tag)
        if rule is None:
            rule = self._resolve(tag)
            self._resolved[tag] = rule
        return rule

    def _resolve(self, tag: int) -> Rule:
        rule = _lookup(self.exact, self.masked, self.unlisted, tag)
        group = tag >> 16
        for repeating in REPEATING_GROUPS:
            if repeating.matches(group):
                data = (group << 16) | repeating.data
                data_rule = rule if tag == data else _lookup(self.exact, self.masked, self.unlisted, data)
                if data_rule.code in VALUE_GONE_CODES:
                    rule = _group_rule(repeating, data_rule, rule)
                break
        if rule.vr is None:
            vr = dictionary_vr(tag)
            if vr is not None:
                rule = attrs.evolve(rule, vr=vr)
        return rule

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(self.actions)

    def describe(self) -> list[dict[str, Any]]:
        """Every rule of the plan, for a conformance statement or ``--explain``."""
        rows = [{"tag": tag_text(tag), "name": rule.name, "code": rule.code, "table_code": rule.table_code,
                 "source": rule.source, "option": rule.option,
                 "value": rule.template.text if rule.template else None}
                for tag, rule in sorted(self.exact.items())]
        rows += [{"tag": _mask_text(mask, value), "name": rule.name, "code": rule.code,
                  "table_code": rule.table_code, "source": rule.source, "option": rule.option, "value": None}
                 for mask, value, rule in self.masked]
        for repeating in REPEATING_GROUPS:
            data_rule = self.rule_for((repeating.first << 16) | repeating.data)
            if data_rule.source == repeating.name:
                rows.append({"tag": repeating.text, "name": data_rule.name, "code": "X", "table_code": None,
                             "source": repeating.name, "option": None, "value": None})
        private = ("kept when listed in Table E.3.10-1 (with their private creators), else removed"
                   if self.retain_safe_private else "removed")
        rows.append({"tag": "(gggg,eeee) gggg odd", "name": "Private Attributes", "code": private,
                     "table_code": None, "source": "private", "option": None, "value": None})
        rows.append({"tag": "any other", "name": "attributes not in the table", "code": self.unlisted.code,
                     "table_code": None, "source": "unlisted", "option": None, "value": None})
        return rows


def _lookup(exact: Mapping[int, Rule], masked: Iterable[tuple[int, int, Rule]], unlisted: Rule, tag: int) -> Rule:
    """The rule of a tag's row: exact, else the first mask that matches, else ``unlisted``."""
    rule = exact.get(tag)
    if rule is not None:
        return rule
    for mask, value, candidate in masked:
        if tag & mask == value:
            return candidate
    return unlisted


def _group_rule(repeating: RepeatingGroup, data_rule: Rule, own: Rule) -> Rule:
    """X for an element of an overlay or curve group whose data the plan removes or empties."""
    return Rule(code="X", name=f"{repeating.name.capitalize()} element: the group goes with its "
                               f"{repeating.data_name} ({data_rule.code}, {data_rule.source})",
                source=repeating.name, vr=own.vr, table_code=own.table_code)


def _condition_rules(exact: dict[int, Rule], masked: tuple[tuple[int, int, Rule], ...], unlisted: Rule) -> None:
    """Remove each 1C attribute whose condition attribute the plan removes (CONDITIONAL_PAIRS)."""
    for pair in CONDITIONAL_PAIRS:
        condition = _lookup(exact, masked, unlisted, pair.condition)
        if condition.code not in (VALUE_GONE_CODES if pair.needs_value else ("X",)):
            continue
        dependent = _lookup(exact, masked, unlisted, pair.dependent)
        if dependent.code == "X":
            continue
        exact[pair.dependent] = Rule(
            code="X", name=f"{_name(pair.dependent)} (Type 1C, PS3.3 {pair.where}: may not be present without "
                           f"{_name(pair.condition)}, which is {condition.code})",
            source="condition", vr=dictionary_vr(pair.dependent), table_code=dependent.table_code)


def _name(tag: int) -> str:
    from pydicom.datadict import dictionary_description

    try:
        return str(dictionary_description(tag))
    except KeyError:
        return tag_text(tag)


def dictionary_vr(tag: int) -> str | None:
    from pydicom.datadict import dictionary_VR

    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return None


def _mask_text(mask: int, value: int) -> str:
    digits = "".join("x" if not (mask >> shift) & 0xF else f"{(value >> shift) & 0xF:X}"
                     for shift in range(28, -4, -4))
    return f"({digits[:4]},{digits[4:]})"


def compile_plan(
    kernel: Any,
    profile: str = "basic",
    options: Iterable[str] | str = (),
    overrides: Mapping[Any, Any] | None = None,
    *,
    unlisted: str = "K",
    attribute_type: AttributeType | None = None,
    steps: Iterable[str] = (),
    keep_originals: bool | None = None,
) -> Plan:
    """Compile the rule plan for one run and resolve every action's provider once.

    ``options`` are names from :data:`gantry.deid.OPTIONS`; ``overrides`` see
    :mod:`gantry_deid.overrides`; ``steps`` instance steps to run besides those options imply
    (``encrypt-originals``); ``keep_originals`` fills ``context.originals`` with copies of the
    top-level elements replaced or removed (default: when ``encrypt-originals`` runs, the one
    step that reads them; decoding ~200 originals per CT file costs more than the rest of the
    de-identification). Raises :class:`gantry.ConfigError` for a bad
    option, override or setting and :class:`gantry.DeidError` when the profile or an action
    the plan needs has no active provider, before anything is de-identified.
    """
    chosen = _checked_options(options)
    if unlisted not in UNLISTED_CODES:
        raise ConfigError(f"deid unlisted = {unlisted!r}: allowed: {', '.join(UNLISTED_CODES)}")
    table = _rule_table(kernel, profile)
    overridden = parse_overrides(overrides, _nameable_codes(kernel))
    columns = {OPTIONS[name][2]: name for name in OPTIONS if name in chosen and OPTIONS[name][2]}

    exact: dict[int, Rule] = {}
    table_masked: list[tuple[int, int, Rule]] = []
    rows = [(row, False) for row in table.rows] + [(row, True) for row in table.supplementary]
    for row, added_by_profile in rows:
        if row.is_plain and row.value >> 16 == DIRECTORY_GROUP:
            continue  # the group rule below removes it
        rule = _row_rule(row, columns, attribute_type)
        if added_by_profile and rule.option is None:
            rule = attrs.evolve(rule, source="profile")
        if row.is_plain:
            exact[row.value] = rule
        else:
            table_masked.append((row.mask, row.value, rule))
    retain_safe_private = _private_option(table, columns)
    exact.setdefault(PRIVATE_CHARACTERISTICS, Rule(
        code="K" if retain_safe_private else "X", name="Private Data Element Characteristics Sequence",
        source="private", option="retain-safe-private" if retain_safe_private else None, vr="SQ"))

    masked_overrides = []
    for item in overridden:
        rule = _override_rule(item)
        if item.is_plain:
            exact[item.value] = rule
        else:
            masked_overrides.append((item.mask, item.value, rule))
            for tag in list(exact):  # a masked override beats a plain table row it covers
                if tag & item.mask == item.value and exact[tag].source != "override":
                    exact[tag] = attrs.evolve(rule, vr=exact[tag].vr)
    directory = (0xFFFF0000, DIRECTORY_GROUP << 16,
                 Rule(code="X", name="Directory (group 0004)", source="directory"))
    masked = (directory, *masked_overrides, *table_masked)  # group 0004 goes, whatever a mask says

    unlisted_rule = Rule(code=unlisted, name="attribute not in Table E.1-1", source="unlisted")
    _condition_rules(exact, masked, unlisted_rule)
    safe_rule = Rule(code="K", name="safe private attribute (Table E.3.10-1)", source="private",
                     option="retain-safe-private")
    content_rules: dict[tuple[str, str, str], Rule] = {}
    content_text_rule = None
    if "clean-structured-content" in chosen:
        content_rules = {item.key: _content_rule(item, columns) for item in table.content_items}
        content_text_rule = Rule(code="C", name="TEXT content item not in Table E.3.4-1", source="content item",
                                 option="clean-structured-content", vr="UT")
    step_actions_before, step_actions_after = _steps(kernel, chosen, steps)
    rules = [*exact.values(), *(rule for _m, _v, rule in masked), unlisted_rule, *content_rules.values(),
             *([content_text_rule] if content_text_rule else [])]
    actions = _resolve_actions(kernel, rules)
    needs_identifying_values = any(rule.code == "C" and rule.vr not in DATE_VRS for rule in rules) or any(
        step.code == "redact-pixels" for step in step_actions_before)
    return Plan(
        profile=profile, edition=table.edition, options=chosen, exact=exact, masked=masked,
        unlisted=unlisted_rule, retain_safe_private=retain_safe_private,
        safe_private=frozenset(entry.key for entry in table.safe_private) if retain_safe_private else frozenset(),
        safe_private_rule=safe_rule, actions=actions, steps_before=step_actions_before,
        steps_after=step_actions_after, longitudinal=_longitudinal(chosen),
        needs_identifying_values=needs_identifying_values,
        content_rules=content_rules, content_text_rule=content_text_rule,
        keep_originals=(keep_originals if keep_originals is not None
                        else any(step.code == "encrypt-originals" for step in step_actions_after)),
    )


def _checked_options(options: Iterable[str] | str) -> frozenset[str]:
    names = [options] if isinstance(options, str) else list(options)
    unknown = [name for name in names if name not in OPTIONS]
    if unknown:
        raise ConfigError(f"unknown de-identification option(s) {', '.join(map(repr, unknown))}; "
                          f"allowed: {', '.join(OPTIONS)}")
    chosen = frozenset(names)
    if {"retain-long-full-dates", "retain-long-modified-dates"} <= chosen:
        raise ConfigError("options retain-long-full-dates and retain-long-modified-dates exclude each "
                          "other (PS3.15 E.3.6): choose one")
    for name in sorted(chosen & set(UNSUPPORTED_OPTIONS)):
        raise DeidError(f"option {name}: {UNSUPPORTED_OPTIONS[name]}")
    return chosen


def _rule_table(kernel: Any, profile: str) -> RuleTable:
    offer = kernel.active("deid-profile", profile)
    if offer is None:
        known = sorted(key for family, key in kernel.capabilities() if family == "deid-profile")
        raise DeidError(f"no active provider for de-identification profile {profile!r} "
                        f"(profiles: {', '.join(known) or 'none installed'})")
    table = kernel.load(offer.ref)()
    if not isinstance(table, RuleTable):
        raise DeidError(f"profile {profile!r} from {offer.provider} returned a {type(table).__name__}, "
                        "not a gantry_deid.tables.RuleTable")
    return table


def _nameable_codes(kernel: Any) -> set[str]:
    offered = {key for family, key in kernel.capabilities() if family == "deid-action"}
    return (set(BASIC_CODES) | offered) - set(INSTANCE_STEPS)


def _row_rule(row: TableRow, columns: Mapping[str, str], attribute_type: AttributeType | None) -> Rule:
    code, option = row.basic, None
    best = -1
    for column, name in columns.items():  # in OPTIONS order
        candidate = row.options.get(column)
        if candidate is not None and RETENTION.get(candidate, 0) > best:
            code, option, best = candidate, name, RETENTION.get(candidate, 0)
    table_code = code
    if code in COMBINED_SAFE:
        kind = attribute_type(row.value) if attribute_type is not None and row.is_plain else None
        code = COMBINED_BY_TYPE[code].get(kind, COMBINED_SAFE[code]) if kind else COMBINED_SAFE[code]
    vr = dictionary_vr(row.value) if row.is_plain else None
    return Rule(code=code, name=row.name, source="option" if option else "basic", option=option, vr=vr,
                table_code=table_code)


def _content_rule(item: ContentItemRow, columns: Mapping[str, str]) -> Rule:
    """A Table E.3.4-1 row as a rule for the item's value (chosen like a Table E.1-1 row).

    Combined codes resolve as COMBINED_SAFE says; D on an instance reference (IMAGE, COMPOSITE,
    WAVEFORM) keeps the reference with its UIDs replaced (U on the Referenced SOP Sequence).
    """
    code, option = item.basic, "clean-structured-content"
    best = -1
    for column, name in columns.items():
        candidate = item.options.get(column)
        if candidate is not None and RETENTION.get(candidate, 0) > best:
            code, option, best = candidate, name, RETENTION.get(candidate, 0)
    table_code = code
    code = COMBINED_SAFE.get(code, code)
    if code == "D" and item.value_type in REFERENCE_VALUE_TYPES:
        code = "U"
    value_tag = CONTENT_VALUE_TAGS.get(item.value_type)
    return Rule(code=code, name=f"content item {item.meaning} ({item.scheme} {item.code_value}, {item.value_type})",
                source="content item", option=option, vr=dictionary_vr(value_tag) if value_tag else None,
                table_code=table_code)


def _private_option(table: RuleTable, columns: Mapping[str, str]) -> bool:
    """Whether an option in force keeps safe private attributes (its column names the private row)."""
    row = table.private_row
    return row is not None and any(row.options.get(column) for column in columns)


def _override_rule(item: Override) -> Rule:
    return Rule(code=item.code, name=item.name or item.key, source="override", template=item.template,
                vr=dictionary_vr(item.value) if item.is_plain else None, table_code=None)


def _steps(kernel: Any, chosen: Collection[str], steps: Iterable[str]) -> tuple[tuple[ResolvedAction, ...],
                                                                              tuple[ResolvedAction, ...]]:
    asked = list(steps)
    for name in asked:
        if name not in INSTANCE_STEPS:
            raise ConfigError(f"unknown instance step {name!r}; allowed: {', '.join(INSTANCE_STEPS)}")
        if name in OPTION_STEPS.values() and not any(OPTION_STEPS.get(o) == name for o in chosen):
            option = next(o for o, s in OPTION_STEPS.items() if s == name)
            raise ConfigError(f"instance step {name!r} runs with the {option} option: ask for the option")
    wanted = {OPTION_STEPS[o] for o in chosen if o in OPTION_STEPS} | set(asked)
    resolved = {}
    for name in sorted(wanted):
        offer = kernel.active("deid-action", name)
        if offer is None:
            why = next((f"option {o}" for o, s in OPTION_STEPS.items() if s == name and o in chosen), "asked")
            raise DeidError(f"instance step {name!r} ({why}) has no active provider: install a plugin that "
                            "offers it")
        resolved[name] = ResolvedAction(code=name, provider=offer.provider, plugin=offer.plugin,
                                        apply=kernel.load(offer.ref))
    before = tuple(resolved[n] for n in INSTANCE_STEPS if n in resolved and n == "redact-pixels")
    after = tuple(resolved[n] for n in INSTANCE_STEPS if n in resolved and n != "redact-pixels")
    return before, after


def _resolve_actions(kernel: Any, rules: Iterable[Rule]) -> dict[str, ResolvedAction]:
    """Load the provider of every code the plan can apply; a missing one is an error now."""
    needed: dict[str, list[str]] = {"X": ["private attributes"], "K": ["kept attributes"]}
    for rule in rules:
        if rule.template is not None:
            continue  # the engine writes a site value itself
        if rule.code == "U" and rule.vr == "SQ":
            continue  # U on a sequence = replace the UIDs inside it, which their own rows do
        needed.setdefault(rule.code, []).append(rule.name)
        if rule.code == "D" and rule.vr == "UI":
            needed.setdefault("U", []).append(rule.name)  # a dummy UID is a replaced UID
        if rule.code == "C" and rule.vr in DATE_VRS:
            needed.setdefault(SHIFT, []).append(rule.name)  # cleaning a date shifts it (gantry.deid)
    actions: dict[str, ResolvedAction] = {}
    missing = []
    # U and shift are also loaded when only an attribute of unknown VR could need them.
    for code in sorted(set(needed) | {"U", SHIFT}):
        offer = kernel.active("deid-action", code)
        if offer is None:
            if code in needed:
                missing.append(code)
            continue
        actions[code] = ResolvedAction(code=code, provider=offer.provider, plugin=offer.plugin,
                                       apply=kernel.load(offer.ref))
    if missing:
        detail = "; ".join(f"{code} (needed by {', '.join(needed[code][:3])}"
                           f"{' ...' if len(needed[code]) > 3 else ''})" for code in missing)
        raise DeidError(f"no active provider for de-identification action(s) {detail}: install the plugin "
                        "that offers them (U: gantry-uidmap, shift: gantry-dateshift)")
    return actions


def _longitudinal(chosen: Collection[str]) -> str:
    """Longitudinal Temporal Information Modified (0028,0303), PS3.15 E.2 and E.3.6."""
    if "retain-long-full-dates" in chosen:
        return "UNMODIFIED"
    if "retain-long-modified-dates" in chosen:
        return "MODIFIED"
    return "REMOVED"
