"""Every error code the gateway knows, as data (registry), and the Problem exception that carries
one to the client (problem). Outside gateway/http so that services can raise problems without
depending on the HTTP layer."""
