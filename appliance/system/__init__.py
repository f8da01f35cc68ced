"""system domain: the appliance's seam to the operating system — atomic durable files
(:mod:`.files`), the single-instance lock (:mod:`.lock`), systemd notify + watchdog
(:mod:`.notify`) and journald-or-stderr logging (:mod:`.logs`). Only this package imports
``systemd``."""
