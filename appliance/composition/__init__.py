"""The one composition root of the appliance daemon (``python -m appliance run``).

Every domain below keeps its own logic; this package only makes the managers, hands each the
others it needs, and starts and stops them in dependency order — after Home Assistant
supervisor's ``bootstrap.py`` (a flat list, one line per manager) and ``coresys.py`` (one typed
holder of the managers):

- :mod:`.box` — :class:`~.box.Box`, the running box: every manager, typed;
- :mod:`.bootstrap` — ``initialize()`` makes the core, ``start()`` is the start list;
- :mod:`.network` — which chain the node smeshes on (the devnet with ``--dev``, ``network.json``);
- :mod:`.node`, :mod:`.senses`, :mod:`.webapp` — the steps of the list that need more than a line;
- :mod:`.daemon` — the command line, the state folder lock, signals and systemd notify.

The web layer's adapters (``appliance.web.drives``, ``.node``, ``.box``, ``.updates``) sit in the
web layer; this package is the only place besides it and the command line that imports it.
"""
