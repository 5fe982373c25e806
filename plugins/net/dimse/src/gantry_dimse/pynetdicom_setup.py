"""The pynetdicom settings Gantry runs with: imported by every module that opens associations.

pynetdicom's "standard" event logging binds handlers that describe every association, PDU and
DIMSE message for its logger, and it formats every C-FIND/C-GET/C-MOVE identifier for it,
whether or not anything is logged: on the receiving side that was a seventh of the CPU per small
instance and a tenth per C-FIND answer. Those descriptions also carry patient names, IDs, UIDs
and AE titles, which Gantry keeps out of its logs by default; Gantry logs what it does itself
(with patient data redacted). pynetdicom's own warnings and errors still reach its logger.
"""

from pynetdicom import _config

_config.LOG_HANDLER_LEVEL = "none"
_config.LOG_REQUEST_IDENTIFIERS = False
_config.LOG_RESPONSE_IDENTIFIERS = False

# Its reactor threads wait on their work rather than polling every millisecond (see wakeups).
from gantry_dimse import wakeups  # noqa: E402 -- after the settings above, which it does not touch

wakeups.install()

# Command sets encoded and split directly, not through pydicom's writer and reader (see commands).
from gantry_dimse import commands  # noqa: E402

commands.install()
