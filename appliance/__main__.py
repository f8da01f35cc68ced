"""``python -m appliance``: the command line entry point."""

from appliance.cli import main

raise SystemExit(main())
