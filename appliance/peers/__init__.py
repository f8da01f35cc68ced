"""Box ↔ LAN-computer work: other computers of the owner compute PoST label ranges for the box.

The only package that imports the engine's libraries (celery, redis). The box runs a Redis broker
(``redisd``), leases work units to paired helpers over Celery with JSON messages only
(``engine``), takes their results over its HTTP API, checks them by sampling (``units``) and hands
them in index order to the existing resumable writer (``coordinator``). ``pairing`` owns the
helpers' credentials; ``helper`` is the program a PC runs.
"""
