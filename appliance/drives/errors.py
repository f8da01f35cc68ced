"""Typed drive errors; every message says what is wrong and what a person can do."""


class DriveError(Exception):
    """Base class of drive errors."""


class UnknownDriveError(DriveError):
    pass


class ConfirmationMismatchError(DriveError):
    """Format refused: the confirmation does not name this drive's model, serial and size."""


class NotFormattableError(DriveError):
    """Format refused for a reason other than the confirmation (read-only, in use, missing...)."""


class ToolError(DriveError):
    """An external tool (mount, mkfs, fsck, blkid) failed; carries its stderr."""
