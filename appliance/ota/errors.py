"""Typed OTA errors. Every refusal names what was wrong; all of them are raised before anything is
written to a root slot (manifest checks even before the download starts)."""

from __future__ import annotations


class OtaError(Exception):
    """Base of every OTA failure; ``reason`` is a short machine-friendly tag for the UI/records."""

    reason = "error"


class ManifestError(OtaError):
    """The release document is not a well-formed manifest."""

    reason = "bad-manifest"


class SignatureError(OtaError):
    """No valid signature by a trusted key."""

    reason = "bad-signature"


class CompatibleError(OtaError):
    """The release is built for another kind of box."""

    reason = "incompatible"


class NotNewerError(OtaError):
    """The release is not newer than the running version (downgrade or re-install)."""

    reason = "not-newer"


class SecurityEpochError(OtaError):
    """The release's security epoch is below the stored one (anti-rollback)."""

    reason = "security-epoch"


class SpaceError(OtaError):
    """Not enough free space to download the bundle."""

    reason = "no-space"


class DownloadError(OtaError):
    """The bundle could not be fetched completely (network, server, truncated)."""

    reason = "download"


class HashMismatchError(DownloadError):
    """The bundle's bytes do not match the signed manifest's size/sha256."""

    reason = "hash-mismatch"


class InstallError(OtaError):
    """RAUC refused or failed the install."""

    reason = "install"


class RaucError(OtaError):
    """A RAUC command failed or returned something unexpected."""

    reason = "rauc"


class BusyError(OtaError):
    """An update is already running."""

    reason = "busy"
