"""Sharding by location: the shard directory (which database holds each location) and the router
that picks the database a request goes to (docs/ARCHITECTURE.md, "Sharding by location")."""
