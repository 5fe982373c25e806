"""The C-GET SOP classes of the two query/retrieve models and the storage classes a C-GET SCU
offers to receive (levels and key checks are gantry-cfind's)."""

from __future__ import annotations

PATIENT_ROOT_GET = "1.2.840.10008.5.1.4.1.2.1.3"
STUDY_ROOT_GET = "1.2.840.10008.5.1.4.1.2.2.3"
GET_SOP_CLASSES = {"patient": PATIENT_ROOT_GET, "study": STUDY_ROOT_GET}

#: A-ASSOCIATE-RQ holds at most 128 presentation contexts (PS3.8 9.3.2.2): one is the GET SOP
#: class, so the SCU offers pynetdicom's list of common storage classes (120), not all 170.
MAX_CONTEXTS = 128


def offered_storage_classes() -> tuple[str, ...]:
    from pynetdicom.presentation import StoragePresentationContexts

    classes = tuple(str(context.abstract_syntax) for context in StoragePresentationContexts)
    return classes[:MAX_CONTEXTS - 1]
