"""The YAML side of celeryfix: compose files, their services and their commands."""
