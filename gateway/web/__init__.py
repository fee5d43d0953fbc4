"""What a browser gets besides the API: the live demo page (/demo), the interactive API docs
(/docs, Swagger UI from the swagger-ui-bundle-v2 package's own files), the JavaScript client
(/static/booking-client.js), and, only while tokens are signed with the development secret, the
demo customers' token endpoint (/demo/tokens)."""
