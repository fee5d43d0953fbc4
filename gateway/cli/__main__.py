"""`python -m gateway.cli`: the booking command."""

from gateway.cli import main

raise SystemExit(main())
