"""jobs domain: per-drive PoST work orchestration — initialization in low-priority worker threads
(pausable, resumable from the last durable label), a plan that sizes units from free space with an
honest measured ETA, proving that pre-empts init, and undervoltage/thermal pauses.

Public surface: :class:`appliance.jobs.manager.JobManager` (``start``/``stop``/``snapshot``,
``async with jobs.proving(drive_id)``) and the dataclasses in :mod:`appliance.jobs.model`.
"""
