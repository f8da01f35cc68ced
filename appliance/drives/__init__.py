"""drives domain: block devices that "just work" — detection (pyudev kernel/udev monitor bridged
into asyncio plus an initial scan), probing (sysfs, udev properties, ``blkid -p``, mountinfo), the
adopt/offer/format policy, and mounts under ``<state>/drives/<fs-uuid>``.

Public surface: :class:`appliance.drives.manager.DriveManager` and the snapshot dataclasses in
:mod:`appliance.drives.model`. Only this package imports ``pyudev``.
"""
