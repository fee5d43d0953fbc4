"""`python -m gateway.cli`: the booking command."""

from gateway.cli.main import main

raise SystemExit(main())
