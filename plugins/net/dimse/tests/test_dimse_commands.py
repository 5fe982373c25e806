"""gantry_dimse.commands: command sets byte-equal to pydicom's encoding, and read back as pydicom reads them."""

from __future__ import annotations

from io import BytesIO

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pynetdicom import dimse_messages, dimse_primitives, dsutils
from pynetdicom.dimse import _RQ_TO_MESSAGE, _RSP_TO_MESSAGE

from gantry_dimse import commands, pynetdicom_setup  # noqa: F401 -- installs the codec

CT = "1.2.840.10008.5.1.4.1.1.2"
SOP = "1.2.826.0.1.3680043.10.1432.7.1"  # odd length: padded


def primitive(name: str, **fields: object) -> object:
    item = getattr(dimse_primitives, name)()
    for key, value in fields.items():
        setattr(item, key, value)
    return item


IDENTIFIER = BytesIO(b"\x10\x00\x20\x00\x04\x00\x00\x00ABCD")
MESSAGES = [
    primitive("C_STORE", MessageID=7, AffectedSOPClassUID=CT, AffectedSOPInstanceUID=SOP, Priority=2,
              MoveOriginatorApplicationEntityTitle="ORTHANC", MoveOriginatorMessageID=3, DataSet=IDENTIFIER),
    primitive("C_STORE", MessageIDBeingRespondedTo=7, AffectedSOPClassUID=CT, AffectedSOPInstanceUID=SOP,
              Status=0xA700, ErrorComment="out of resources", OffendingElement=[0x00100010, 0x00100020]),
    primitive("C_STORE", MessageIDBeingRespondedTo=8, Status=0x0000),
    primitive("C_FIND", MessageID=1, AffectedSOPClassUID="1.2.840.10008.5.1.4.1.2.2.1", Priority=0,
              Identifier=IDENTIFIER),
    primitive("C_FIND", MessageIDBeingRespondedTo=1, AffectedSOPClassUID="1.2.840.10008.5.1.4.1.2.2.1",
              Status=0xFF00, Identifier=IDENTIFIER),
    primitive("C_GET", MessageIDBeingRespondedTo=2, Status=0xFF00, NumberOfRemainingSuboperations=10,
              NumberOfCompletedSuboperations=5, NumberOfFailedSuboperations=1, NumberOfWarningSuboperations=0),
    primitive("C_MOVE", MessageID=3, AffectedSOPClassUID="1.2.840.10008.5.1.4.1.2.2.2", Priority=1,
              MoveDestination="DEST_AE", Identifier=IDENTIFIER),
    primitive("C_ECHO", MessageID=65535, AffectedSOPClassUID="1.2.840.10008.1.1"),
    primitive("C_ECHO", MessageIDBeingRespondedTo=65535, AffectedSOPClassUID="1.2.840.10008.1.1", Status=0),
    primitive("N_EVENT_REPORT", MessageID=4, AffectedSOPClassUID="1.2.840.10008.1.20.1",
              AffectedSOPInstanceUID="1.2.840.10008.1.20.1.1", EventTypeID=1, EventInformation=IDENTIFIER),
    primitive("N_GET", MessageID=5, RequestedSOPClassUID="1.2.840.10008.5.1.1.16",
              RequestedSOPInstanceUID="1.2.840.10008.5.1.1.17", AttributeIdentifierList=[0x21100010, 0x00080016]),
    primitive("N_ACTION", MessageID=6, RequestedSOPClassUID="1.2.840.10008.1.20.1",
              RequestedSOPInstanceUID="1.2.840.10008.1.20.1.1", ActionTypeID=1, ActionInformation=IDENTIFIER),
    primitive("N_ACTION", MessageIDBeingRespondedTo=6, Status=0x0110, ErrorComment="failed",
              AffectedSOPClassUID="1.2.840.10008.1.20.1"),
    primitive("N_DELETE", MessageID=9, RequestedSOPClassUID=CT, RequestedSOPInstanceUID=SOP),
]


def command_set(item: object) -> Dataset:
    message_class = _RQ_TO_MESSAGE if item.MessageIDBeingRespondedTo is None else _RSP_TO_MESSAGE
    message = message_class[item.__class__]()
    message.primitive_to_message(item)
    return message.command_set


def read_back(encoded: bytes, decoder: object) -> list[tuple[object, ...]]:
    return [(element.tag, element.VR, element.value) for element in decoder(BytesIO(encoded), True, True)]


def test_pynetdicom_uses_these_for_command_sets() -> None:
    assert dimse_messages.encode is commands.encode_command_set
    assert dimse_messages.decode is commands.decode_command_set


@pytest.mark.parametrize("item", MESSAGES, ids=lambda item: type(item).__name__)
def test_every_message_type_encodes_as_pydicom_does_and_reads_back_the_same(
        item: object, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = command_set(item)
    theirs = dsutils.encode(ds, True, True)
    expected = read_back(theirs, dsutils.decode)

    def not_called(*args: object) -> None:
        raise AssertionError("fell back to pydicom")

    monkeypatch.setattr(dsutils, "encode", not_called)  # these all take the direct path
    monkeypatch.setattr(dsutils, "decode", not_called)
    ours = commands.encode_command_set(ds, True, True)
    assert ours == theirs and len(ours) > 40
    assert ds.CommandGroupLength == len(ours) - 12  # the group length excludes its own element
    assert read_back(ours, commands.decode_command_set) == expected


def test_a_received_message_becomes_the_same_primitive() -> None:
    sent = MESSAGES[1]
    encoded = commands.encode_command_set(command_set(sent), True, True)
    message = _RSP_TO_MESSAGE[type(sent)]()
    message.command_set = commands.decode_command_set(BytesIO(encoded), True, True)
    received = message.message_to_primitive()
    assert received.Status == 0xA700 and received.ErrorComment == "out of resources"
    assert received.AffectedSOPInstanceUID == SOP and received.OffendingElement == [0x00100010, 0x00100020]


def test_what_it_does_not_know_is_left_to_pydicom() -> None:
    odd = Dataset()
    odd.MessageID = 1
    odd.PatientName = "not^a command"  # group 0010
    assert commands.encode_command_set(odd, True, True) == dsutils.encode(odd, True, True)
    nested = Dataset()
    nested.ReferencedSOPSequence = Sequence([Dataset()])
    assert commands.encode_command_set(nested, True, True) == dsutils.encode(nested, True, True)
    explicit = command_set(MESSAGES[0])
    assert commands.encode_command_set(explicit, False, True) == dsutils.encode(explicit, False, True)


@pytest.mark.filterwarnings("ignore:End of file reached")  # pydicom's, on the undefined length
@pytest.mark.parametrize("damage", ["truncated value", "truncated header", "undefined length"])
def test_damaged_bytes_read_as_pydicom_reads_them(damage: str) -> None:
    encoded = commands.encode_command_set(command_set(MESSAGES[0]), True, True)
    broken = {"truncated value": encoded[:-3], "truncated header": encoded + b"\x00\x00\x10",
              "undefined length": encoded + b"\x00\x00\x00\x09\xff\xff\xff\xff"}[damage]

    def outcome(decoder: object) -> object:
        try:
            return read_back(broken, decoder)
        except Exception as err:  # noqa: BLE001 -- the comparison is the point
            return type(err)

    assert outcome(commands.decode_command_set) == outcome(dsutils.decode)
