"""The instance step ``redact-pixels`` (Clean Pixel Data), run before the attribute actions.

    apply(dataset, None, context)      # dataset: the engine's working copy

- an image whose machine is in the table has its zones blanked in every frame
  (:mod:`gantry_redact.redaction`), Burned In Annotation set to NO, ``clean-pixel-data``
  recorded as used, and a note saying how many zones on how many frames (no values);
- an image no machine matches is flagged for review when it carries a known risk of burned-in
  text (Burned In Annotation YES, or a modality in ``risky_modalities``): the runner then holds it
  rather than pass text it cannot see. The flag names the matching keys, never their values;
- anything else (no Pixel Data, a CT without burned-in annotation) is left alone.
"""

from __future__ import annotations

from typing import Any

from gantry.deid import DeidContext

from gantry_redact.machines import first_match
from gantry_redact.redaction import redact_pixel_data
from gantry_redact.settings import RedactSettings, settings_for_context

CLEAN_PIXEL_DATA = "clean-pixel-data"
PIXEL_DATA = 0x7FE00010
NO_ZONE_FLAG = ("burned-in text risk: no redaction zone matches this image's Manufacturer, Model, "
                "Device Serial Number and size; its pixels were not redacted")


def apply(dataset: Any, element: Any, context: DeidContext) -> None:
    if PIXEL_DATA not in dataset:
        return
    settings = settings_for_context(context)
    machine = first_match(settings.machines, dataset)
    if machine is None:
        if carries_burned_in_risk(dataset, settings):
            context.flags.append(NO_ZONE_FLAG)
        return
    where = f"instance {context.sop_instance_uid}: redaction machine {machine.index}"
    result = redact_pixel_data(dataset, machine.zones, context.kernel, where=where)
    dataset.BurnedInAnnotation = "NO"
    context.used_options.add(CLEAN_PIXEL_DATA)
    context.notes.append(f"pixels redacted: {result.zones} zones on {result.frames} frames")
    if result.lossy_source:
        context.notes.append(f"lossy Pixel Data ({result.lossy_source}) written as Explicit VR Little Endian "
                             "after redaction; Lossy Image Compression kept")


def carries_burned_in_risk(dataset: Any, settings: RedactSettings) -> bool:
    if str(dataset.get("BurnedInAnnotation") or "").strip().upper() == "YES":
        return True
    return str(dataset.get("Modality") or "").strip().upper() in settings.risky_modalities
