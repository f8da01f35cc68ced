"""Diagnostics that work when the daemon does not (the observer model): what the box's daemon,
logs, network and disks look like from the outside, and a support bundle with secrets removed.
Read-only: nothing here changes the box. The page itself is :mod:`appliance.web.diagnostics`."""
