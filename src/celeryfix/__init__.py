"""celeryfix: fix the Celery startup warnings of Django/Celery repositories."""

__version__ = "0.1.0"
