"""Root conftest: loads the shared fixtures and the pgTAP collector for sql/tests/."""

import os

pytest_plugins = ["tests.fixtures"]

# Gateways started by tests send no webhooks unless a test asks for it (its own env): a gateway's
# delivery worker would take the lease and the endpoints of the webhook tests, which run their own
# worker with fast retries and an allow-list for 127.0.0.1 (tests/test_webhooks_delivery.py).
os.environ.setdefault("BOOKING_WEBHOOK_POLL_SECONDS", "0")
