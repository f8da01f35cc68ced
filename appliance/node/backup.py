"""Backups of every identity of an :class:`~appliance.node.identity.IdentityStore` in one file.

The file is a small JSON envelope (format name, version, a list) of per-identity blobs made by
:func:`~appliance.node.identity.export_encrypted` (argon2id → XSalsa20-Poly1305), base64 each. A
restore checks every entry — format, password, and that no *different* key already has its name —
before it writes any, so a bad file or password changes nothing.

A backup is the one copy of the keys that leaves the box, and whoever holds the file can guess its
password offline, at their own pace; so the password must be stronger than the admin password
(which the box's limiter protects): :data:`MIN_BACKUP_PASSWORD` characters, not just one or two
characters repeated. Restoring takes whatever password the file was made with.

:class:`IdentityBackups` is the feature as the page offers it (``appliance.web.services``'
``IdentityService``): off the loop, with refusals a person can act on.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import Iterator

from appliance.errors import ServiceError
from appliance.node import identity as ident
from appliance.node.identity import Identity, IdentityStore

BACKUP_FORMAT = "smeshbox-identities"
MAX_BACKUP_IDENTITIES = 64
MIN_BACKUP_PASSWORD = 12  # the admin password needs 8 and is guarded online; a backup is not
MIN_DISTINCT_CHARACTERS = 5
MAX_BACKUP_PASSWORD = 256


class BackupPasswordError(ident.BackupError):
    """The password chosen for a new backup is too weak; the message says what it needs."""


class NoIdentitiesError(ident.IdentityError):
    pass


class BackupFormatError(ident.BackupError):
    """Not a Smeshbox identity backup (damaged, or another file)."""


class BackupConflictError(ident.IdentityError):
    """The box already has a *different* key under a name in the backup."""


def check_backup_password(password: str) -> None:
    if not isinstance(password, str) or not MIN_BACKUP_PASSWORD <= len(password) <= MAX_BACKUP_PASSWORD:
        raise BackupPasswordError(
            f"the backup password must be {MIN_BACKUP_PASSWORD} to {MAX_BACKUP_PASSWORD} characters long: "
            "whoever gets the file can try passwords offline, without the box slowing them down"
        )
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise BackupPasswordError(
            f"the backup password needs at least {MIN_DISTINCT_CHARACTERS} different characters"
        )
    try:
        password.encode()
    except UnicodeEncodeError as exc:
        raise BackupPasswordError("the backup password holds text that is not valid Unicode") from exc


def export_backup(store: IdentityStore, password: str) -> bytes:
    """Blocking (argon2id per identity): the encrypted backup of every identity in ``store``."""
    check_backup_password(password)
    identities = store.load_all()
    if not identities:
        raise NoIdentitiesError("this box has no identity yet (it makes one per drive)")
    blobs = [base64.b64encode(ident.export_encrypted(i, password)).decode() for i in identities]
    return json.dumps({"format": BACKUP_FORMAT, "version": 1, "identities": blobs}).encode()


def restore_backup(store: IdentityStore, blob: bytes, password: str) -> list[Identity]:
    """Blocking: checks every entry of ``blob``, then stores them all (or nothing)."""
    try:
        envelope = json.loads(blob)
        entries = envelope["identities"]
        if envelope.get("format") != BACKUP_FORMAT or envelope.get("version") != 1:
            raise ValueError("unknown format")
        if not isinstance(entries, list) or not 0 < len(entries) <= MAX_BACKUP_IDENTITIES:
            raise ValueError("bad entry list")
        raw = [base64.b64decode(e, validate=True) for e in entries]
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise BackupFormatError("not a Smeshbox identity backup (damaged or another file)") from exc
    restored = [ident.import_encrypted(r, password) for r in raw]
    for identity in restored:  # all checked before anything is written
        if store.exists(identity.name) and store.load(identity.name).seed != identity.seed:
            raise BackupConflictError(
                f"this box already has a different identity named {identity.name!r}; nothing was restored"
            )
    for identity in restored:
        store.save(identity)
    return restored


class IdentityBackups:
    """Export and restore of the box's identities: argon2id is slow, so each runs in a worker
    thread; the typed errors above become :class:`~appliance.errors.ServiceError` refusals of the
    kind that says what went wrong (the web layer re-checks the admin password before an export)."""

    def __init__(self, store: IdentityStore) -> None:
        self.store = store

    async def export_backup(self, password: str) -> bytes:
        with _refusals():
            return await asyncio.to_thread(export_backup, self.store, password)

    async def import_backup(self, blob: bytes, password: str) -> list[str]:
        with _refusals():
            restored = await asyncio.to_thread(restore_backup, self.store, blob, password)
        return [i.node_id.hex() for i in restored]


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except NoIdentitiesError as exc:
        raise ServiceError(str(exc), "not_found") from exc
    except BackupConflictError as exc:
        raise ServiceError(str(exc), "conflict") from exc
    except ident.BackupError as exc:
        raise ServiceError(str(exc), "invalid") from exc
    except ident.IdentityError as exc:  # a damaged key file on the box: say which
        raise ServiceError(str(exc), "conflict") from exc
