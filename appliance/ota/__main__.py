"""``python -m appliance.ota``: see :mod:`appliance.ota.cli`."""

from appliance.ota.cli import main

raise SystemExit(main())
