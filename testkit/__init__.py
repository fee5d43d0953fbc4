"""What tests/ and bench/ both need to run against real servers: throwaway PostgreSQL and Redis
servers, free ports, the /proc view of a server's processes, and seeded catalogues.

A development aid, not part of the service: gateway/ never imports it (tests/test_layout.py checks).
"""
