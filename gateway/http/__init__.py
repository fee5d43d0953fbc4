"""HTTP plumbing: problems, validation, responses, middleware, auth, rate limits, metrics and the
OpenAPI document."""
