"""Apply a :class:`~gantry_deid.plan.Plan` to one dataset, at every nesting level.

    out = deidentify_dataset(dataset, plan, context)

The input is never changed: the engine reads it (raw elements are decoded into fresh objects,
never inside the input) and builds a new dataset. What it does, per dataset (the top level and
every sequence item, depth first, up to :data:`MAX_DEPTH` levels):

- a standard element gets the plan's rule for its tag. Kept elements that are not sequences
  are carried over as they were read, still encoded (no decoding, no copy), while our own K is
  the active one; removed ones are dropped the same way while our own X is active; anything
  else is decoded into a fresh DataElement, put in the new dataset, and handed to the action's
  provider (``apply(new_dataset, element, context)``);
- a sequence kept (K), replaced by UIDs (U) or cleaned (C) has its items cleaned with the same
  plan first; X and Z of our own throw the items away without looking at them; D of our own
  replaces content items and codes by one dummy item without cleaning them, and keeps any other
  items cleaned with the plan (:func:`gantry_deid.dummies.dummy_items`): never an empty item;
- private elements (odd groups) are removed; with retain-safe-private, those listed in Table
  E.3.10-1 for their private creator are kept, an unlisted private sequence is cleaned item by
  item and kept when something survives (PS3.15 E.3.10), and a Private Creator element is kept
  only when a kept element of its block needs it;
- with Clean Structured Content, an item that is a content item (Value Type and Concept Name
  Code Sequence) is looked up in Table E.3.4-1 by its concept: X removes the whole item, any
  other code replaces the rule of the attribute holding its value (Text Value, Person Name,
  Date, UID, Referenced SOP Sequence ...); the value of a TEXT item not in the table is cleaned
  (C); a Content Sequence left without items is removed (Type 1C: never present and empty);
- at the top level, command (0000) and File Meta (0002) elements found in the body are removed
  (the File Meta is rebuilt), and every element replaced or removed is copied into
  ``context.originals`` (a top-level sequence when anything inside it changed, as PS3.15 E.1.1
  asks for the encrypted originals).

Then the instance steps after the attribute actions run (``encrypt-originals``), the dataset is
marked (:mod:`gantry_deid.marking`) and given a rebuilt File Meta (:mod:`gantry_deid.meta`).

Errors are :class:`gantry.DeidError` naming the instance (its original SOP Instance UID), the
element (tag, keyword and nesting path such as ``(0040,0275)[0]>(0040,0009)``), the action and
its provider. A provider's own message is repeated only when it is a Gantry error (whose
messages carry no patient data by convention); any other exception is named by type and
chained, since its text may quote a value.
"""

from __future__ import annotations

import copy
from typing import Any

from gantry import DeidError, GantryError
from gantry.deid import DATE_VRS, SHIFT, DeidContext
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence

from gantry_deid.actions import replacement_value
from gantry_deid.clean import gather_identifying_values
from gantry_deid.elements import charset_of, copy_element, element_at, text_values
from gantry_deid.marking import mark
from gantry_deid.meta import build_file_meta
from gantry_deid.overrides import template_fields
from gantry_deid.plan import CONTENT_VALUE_TAGS, Plan, ResolvedAction, Rule
from gantry_deid.tables import tag_text

MAX_DEPTH = 32
VALUE_TYPE, CONCEPT_NAME_CODES = 0x0040A040, 0x0040A043
CODE_VALUE_TAGS = (0x00080100, 0x00080119, 0x00080120)  # Code Value, Long Code Value, URN Code Value
CODING_SCHEME = 0x00080102
CONTENT_SEQUENCE = 0x0040A730
#: Sequences that may not be present without items (Type 1C, PS3.3 C.17.3): removed when every
#: item they had is removed (Clean Structured Content removes content items whole).
NOT_EMPTY_WHEN_PRESENT = frozenset({CONTENT_SEQUENCE})
MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"
DIRECTORY_RECORD_SEQUENCE = 0x00041220
_PRIVATE_GROUP_BIT = 0x00010000
_FIRST_BODY_TAG = 0x00030000  # groups 0000 (command) and 0002 (File Meta) do not belong in a body

Path = tuple[tuple[int, int], ...]


def deidentify_dataset(dataset: Any, plan: Plan, context: DeidContext) -> Dataset:
    """A de-identified copy of ``dataset`` (which is left as it was), marked, with new File Meta."""
    where = f"instance {context.sop_instance_uid}"
    _refuse_directory(dataset, where)
    if plan.needs_identifying_values and not context.identifying_values:
        context.identifying_values = gather_identifying_values(dataset)
    source = dataset
    if plan.steps_before:
        source = _working_copy(dataset)
        for step in plan.steps_before:
            _call_step(step, source, context, where)
    walk = _Walk(plan, context)
    out, _changed = walk.dataset(source, (), top=True)
    for step in plan.steps_after:
        _call_step(step, out, context, where)
    context.originals.sort(key=lambda element: element.tag)  # dataset order, private ones included
    mark(out, plan.profile, plan.options, plan.longitudinal)
    # The working copy's syntax: a step before the actions (redaction) may have changed it.
    out.file_meta = build_file_meta(out, _transfer_syntax(source), where)
    return out


def _refuse_directory(dataset: Any, where: str) -> None:
    meta = getattr(dataset, "file_meta", None)
    sop_class = meta.get("MediaStorageSOPClassUID") if meta is not None else None
    if sop_class == MEDIA_STORAGE_DIRECTORY or DIRECTORY_RECORD_SEQUENCE in dataset._dict:
        raise DeidError(f"{where}: a DICOMDIR is not de-identified; build a new one from the de-identified "
                        "files (PS3.15 E.1.1)")


def _transfer_syntax(dataset: Any) -> str:
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    meta = getattr(dataset, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax:
        return str(syntax)
    implicit, little = dataset.original_encoding
    if implicit:
        return str(ImplicitVRLittleEndian)
    return str(ExplicitVRBigEndian if little is False else ExplicitVRLittleEndian)


def _working_copy(dataset: Any) -> Dataset:
    """A top-level copy for steps that run before the attribute actions (pixel redaction)."""
    elements = {tag: element if isinstance(element, RawDataElement) else copy_element(element)
                for tag, element in dataset._dict.items()}
    working = _empty_like(dataset, elements)
    meta = getattr(dataset, "file_meta", None)
    if meta is not None:
        working.file_meta = copy.deepcopy(meta)
    return working


def _empty_like(source: Any, elements: dict[int, Any] | None = None) -> Dataset:
    """A new dataset that encodes like ``source`` (so raw elements can be written as they are)."""
    out = Dataset(elements if elements is not None else {})
    implicit, little = source.original_encoding
    out.set_original_encoding(implicit, little, source.original_character_set)
    out._parent_encoding = source._parent_encoding
    out.is_undefined_length_sequence_item = getattr(source, "is_undefined_length_sequence_item", False)
    return out


def _call_step(step: ResolvedAction, dataset: Dataset, context: DeidContext, where: str) -> None:
    try:
        step.apply(dataset, None, context)
    except Exception as err:
        raise DeidError(f"{where}: instance step {step.code} ({step.provider}) failed: {_reason(err)}") from err


def _reason(err: BaseException) -> str:
    # A Gantry error's text carries no patient data by convention; anything else may quote a value.
    if isinstance(err, GantryError):
        return str(err)
    return f"{type(err).__name__} (message withheld: it may quote a value; see the chained exception)"


def path_text(path: Path, tag: int) -> str:
    """``(0040,0275)[0]>(0040,0009)``: where an element sits."""
    return "".join(f"{tag_text(parent)}[{index}]>" for parent, index in path) + tag_text(tag)


class _Walk:
    """One instance's walk: the plan's lookups bound to locals, the context, the originals."""

    def __init__(self, plan: Plan, context: DeidContext) -> None:
        self.plan = plan
        self.context = context
        self.rules = plan._resolved
        self.fast_keep = plan.actions["K"].builtin
        self.fast_remove = plan.actions["X"].builtin
        self.originals: list[Any] | None = context.originals if plan.keep_originals else None
        self.used = context.used_options
        self.fields: dict[str, str] | None = None
        self.depth = 0

    # -- one dataset ------------------------------------------------------------------------

    def dataset(self, source: Any, path: Path, top: bool,
                content: tuple[int, Rule] | None = None) -> tuple[Dataset, bool]:
        """The cleaned copy of ``source`` and whether anything in it changed.

        ``content``: for a content item under Clean Structured Content, its value attribute's tag
        and the Table E.3.4-1 rule that replaces that attribute's own rule.
        """
        out = _empty_like(source)
        out_elements = out._dict
        elements = source._dict
        rules = self.rules
        rule_for = self.plan.rule_for
        fast_keep, fast_remove, used = self.fast_keep, self.fast_remove, self.used
        changed = False
        privates: list[tuple[int, Any]] = []
        charset = None
        # Plain int tags: sorting and the plan's dict lookups then compare in C (BaseTag's
        # comparisons are Python methods, called thousands of times per file otherwise).
        for tag, element in sorted(zip(map(int, elements), elements.values())):
            if tag & _PRIVATE_GROUP_BIT:
                privates.append((tag, element))
                continue
            if top and tag < _FIRST_BODY_TAG:
                self.note_original(source, tag, element, top)
                changed = True
                continue
            if content is not None and tag == content[0]:
                rule = content[1]
            else:
                rule = rules.get(tag) or rule_for(tag)
            if rule.option is not None:
                used.add(rule.option)
            code = rule.code
            vr = element.VR or rule.vr
            if vr == "UN" and rule.vr == "SQ":
                vr = "SQ"  # a sequence written as UN: its items must be cleaned like any other
            if vr != "SQ":
                if code == "K" and fast_keep and rule.template is None:
                    out_elements[element.tag] = element if type(element) is RawDataElement else copy_element(element)
                    continue
                if code == "X" and fast_remove:
                    if top and self.originals is not None:
                        self.note_original(source, tag, element, top)
                    changed = True
                    continue
                if charset is None:
                    charset = charset_of(source)
                changed |= self.element(out, source, tag, element, rule, path, top, charset)
            else:
                if charset is None:
                    charset = charset_of(source)
                changed |= self.sequence(out, source, tag, element, rule, code, path, top, charset)
        if privates:
            changed |= self.private_elements(out, source, privates, path, top)
        return out, changed

    # -- one element ------------------------------------------------------------------------

    def element(self, out: Dataset, source: Any, tag: int, element: Any, rule: Rule, path: Path, top: bool,
                charset: Any) -> bool:
        """Apply ``rule`` to a non-sequence element; True when it was replaced or removed."""
        if rule.template is None and rule.code in ("Z", "D") and type(element) is RawDataElement:
            action = self.plan.actions.get(rule.code)
            vr = element.VR or rule.vr
            if action is not None and action.builtin and vr and " " not in vr and vr != "UI":
                # Our Z and D never look at the old value (D only at the length of bytes): skip
                # decoding it, and set what they would set (replacement_value) directly.
                value = replacement_value(rule.code, vr, element.value)
                new = DataElement(element.tag, vr, value, already_converted=True)
                out._dict[new.tag] = new
                changed = rule.code == "D" or bool(element.length)
                if changed:
                    self.note_original(source, tag, element, top)
                return changed
        new = element_at(source, tag, charset, element)
        vr = new.VR
        before = list(new.value) if isinstance(new.value, MultiValue | list) else new.value
        key = new.tag
        out._dict[key] = new
        if rule.template is not None:
            if self.fields is None:
                self.fields = template_fields(self.context.secret, self.context.patient_key)
            new.value = rule.template.render(self.fields)
        else:
            code = rule.code
            if code == "D" and vr == "UI":
                code = "U"  # a dummy UID must be the same in every instance: U's job
            elif code == "C" and vr in DATE_VRS:
                code = SHIFT  # cleaning a date shifts it (gantry.deid.DATE_VRS)
            self.run(self.action(code, path, tag), out, new, path, tag)
        after = out._dict.get(key)
        changed = after is None or after is not new or after.VR != vr or (
            (list(after.value) if isinstance(after.value, MultiValue | list) else after.value) != before)
        if changed:
            self.note_original(source, tag, element, top)
        return changed

    def sequence(self, out: Dataset, source: Any, tag: int, element: Any, rule: Rule, code: str, path: Path,
                 top: bool, charset: Any) -> bool:
        """Apply ``rule`` to a sequence: clean its items first unless the action replaces them."""
        if code == "U":
            action = None  # U on a sequence: the UIDs inside are replaced by their own rows
        elif code == "K" and self.fast_keep:
            action = None
        else:
            action = self.action(code, path, tag)
        undefined = (element.length == 0xFFFFFFFF if type(element) is RawDataElement
                     else element.is_undefined_length)
        if action is not None and action.replaces_sequence_items:
            # Our X and Z: the items are thrown away unread.
            self.put_sequence(out, tag, Sequence(), undefined, action, path)
            self.note_original(source, tag, element, top)
            return True
        # Items are only read: a raw sequence decodes into fresh items, a decoded one is read in place.
        decoded = element_at(source, tag, charset, element) if type(element) is RawDataElement else element
        if decoded.VR != "SQ":
            raise DeidError(f"instance {self.context.sop_instance_uid}: element {path_text(path, tag)} "
                            f"{_keyword(tag)}: a sequence that cannot be decoded (VR {decoded.VR})")
        items = decoded.value or ()
        if action is not None and action.replaces_items(items):
            # Our D on content items or codes: the action reads what kind of items they are and
            # writes one dummy item instead; nothing of theirs reaches the output.
            self.put_sequence(out, tag, Sequence(list(items)), undefined, action, path)
            self.note_original(source, tag, element, top)
            return True
        if self.depth >= MAX_DEPTH:
            raise DeidError(f"instance {self.context.sop_instance_uid}: element {path_text(path, tag)}: "
                            f"sequences nested deeper than {MAX_DEPTH} levels")
        self.depth += 1
        cleaned = []
        changed = False
        for index, item in enumerate(items):
            content = self.content_rule(item) if self.plan.content_rules else None
            if content is not None and content[1].code == "X":
                self.used.add(content[1].option or "clean-structured-content")
                changed = True  # Table E.3.4-1 says remove: the whole content item goes
                continue
            item_out, item_changed = self.dataset(item, (*path, (tag, index)), False, content)
            cleaned.append(item_out)
            changed |= item_changed
        self.depth -= 1
        if items and not cleaned and tag in NOT_EMPTY_WHEN_PRESENT:
            # Every item was removed: a Content Sequence may not be present without items
            # (Type 1C), so it goes too, and its parent becomes a leaf.
            self.note_original(source, tag, element, top)
            return True
        new = self.put_sequence(out, tag, Sequence(cleaned), undefined, action, path)
        if action is not None:
            changed = changed or code != "K" or out._dict.get(new.tag) is not new
        if changed:
            self.note_original(source, tag, element, top)
        return changed

    def put_sequence(self, out: Dataset, tag: int, items: Sequence, undefined: bool,
                     action: ResolvedAction | None, path: Path) -> DataElement:
        """Put a new sequence element into ``out`` and hand it to ``action`` (None: kept as is)."""
        new = DataElement(tag, "SQ", items)
        new.is_undefined_length = undefined
        out._dict[new.tag] = new
        if action is not None:
            self.run(action, out, new, path, tag)
        return new

    # -- private elements ---------------------------------------------------------------------

    def private_elements(self, out: Dataset, source: Any, privates: list[tuple[int, Any]], path: Path,
                         top: bool) -> bool:
        """Remove private elements, or keep the safe ones with their creators (retain-safe-private)."""
        plan = self.plan
        if not plan.retain_safe_private:
            if top and self.originals is not None:
                for tag, element in privates:
                    self.note_original(source, tag, element, top)
            return True
        charset = charset_of(source)
        creators: dict[tuple[int, int], str] = {}
        for tag, element in privates:
            number = tag & 0xFFFF
            if 0x0010 <= number <= 0x00FF:
                value = element_at(source, tag, charset, element).value
                if isinstance(value, str):
                    creators[(tag >> 16, number)] = value.strip()
        kept_blocks: set[tuple[int, int]] = set()
        changed = False
        rule = plan.safe_private_rule
        for tag, element in privates:
            number = tag & 0xFFFF
            if number < 0x1000:
                continue  # creators are decided below; (gggg,0000-000F) and (gggg,0100-0FFF) go
            group, block = tag >> 16, number >> 8
            creator = creators.get((group, block))
            vr = element.VR
            if creator is not None and (group, creator, number & 0xFF) in plan.safe_private:
                self.used.add("retain-safe-private")
                if vr == "SQ":
                    changed |= self.sequence(out, source, tag, element, rule, "K", path, top, charset)
                elif self.fast_keep:
                    out._dict[element.tag] = element if type(element) is RawDataElement else copy_element(element)
                else:
                    changed |= self.element(out, source, tag, element, rule, path, top, charset)
                if element.tag in out._dict:
                    kept_blocks.add((group, block))
            elif vr == "SQ":
                # Not known to be safe as a whole: its items are cleaned on their own merits (E.3.10).
                changed |= self.sequence(out, source, tag, element, rule, "K", path, top, charset)
                if any(len(item) for item in out._dict[element.tag].value):
                    kept_blocks.add((group, block))
                else:
                    del out._dict[element.tag]
                    changed = True
            else:
                self.note_original(source, tag, element, top)
                changed = True
        for tag, element in privates:
            number = tag & 0xFFFF
            if 0x0010 <= number <= 0x00FF and (tag >> 16, number) in kept_blocks:
                out._dict[element.tag] = element if type(element) is RawDataElement else copy_element(element)
            elif number < 0x1000:
                self.note_original(source, tag, element, top)
                changed = True
        return changed

    # -- content items (Clean Structured Content) ---------------------------------------------

    def content_rule(self, item: Any) -> tuple[int, Rule] | None:
        """The Table E.3.4-1 rule of a content item (an item with Value Type and Concept Name
        Code Sequence), with the tag of the attribute holding its value; None for other items."""
        elements = item._dict
        if VALUE_TYPE not in elements or CONCEPT_NAME_CODES not in elements:
            return None
        value_type = "".join(text_values(element_at(item, VALUE_TYPE))).strip()
        concepts = element_at(item, CONCEPT_NAME_CODES).value
        if not concepts:
            return None
        concept = concepts[0]
        code = next((concept[tag].value for tag in CODE_VALUE_TAGS if tag in concept and concept[tag].value), "")
        scheme = concept[CODING_SCHEME].value if CODING_SCHEME in concept else ""
        rule = self.plan.content_rules.get((str(scheme).strip(), str(code).strip(), value_type))
        if rule is None and value_type == "TEXT":
            rule = self.plan.content_text_rule
        if rule is None:
            return None
        return CONTENT_VALUE_TAGS.get(value_type, -1), rule

    # -- helpers ------------------------------------------------------------------------------

    def action(self, code: str, path: Path, tag: int) -> ResolvedAction:
        action = self.plan.actions.get(code)
        if action is None:
            raise DeidError(f"instance {self.context.sop_instance_uid}: element {path_text(path, tag)} "
                            f"{_keyword(tag)}: action {code!r} has no active provider (install the plugin "
                            "that offers it)")
        return action

    def run(self, action: ResolvedAction, out: Dataset, element: DataElement, path: Path, tag: int) -> None:
        try:
            action.apply(out, element, self.context)
        except Exception as err:
            raise DeidError(f"instance {self.context.sop_instance_uid}: element {path_text(path, tag)} "
                            f"{_keyword(tag)}: action {action.code} ({action.provider}) failed: "
                            f"{_reason(err)}") from err

    def note_original(self, source: Any, tag: int, element: Any, top: bool) -> None:
        if top and self.originals is not None:  # a copy, decoded: see Plan.keep_originals
            self.originals.append(element_at(source, tag, None, element))


def _keyword(tag: int) -> str:
    from pydicom.datadict import keyword_for_tag

    return keyword_for_tag(tag) or ("(private)" if tag & _PRIVATE_GROUP_BIT else "(unknown)")
