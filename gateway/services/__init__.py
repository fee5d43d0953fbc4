"""What routes and the realtime relay call: the engine (the only code that speaks SQL), the
connection pool, the availability cache and its versions."""
