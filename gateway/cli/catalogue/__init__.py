"""The catalogue as a file: `booking catalogue apply FILE` creates or updates a whole location
(resources, weekly hours, services, eligible resources, exceptions) through the api.* functions
in one transaction, and `booking catalogue export` writes one back. The demo salon is such a file.

model.py says what a file holds, durations.py how a duration is written, files.py reads and
writes YAML and JSON, references.py checks the file against itself, apply.py and export.py talk
to the database, run.py is what the commands call.
"""
