"""vote-api: a small FastAPI service that counts votes for cats and dogs.

Configured from the environment only (see app/settings.py); run with ``python3 -m app``.
"""

__version__ = "1.0.0"
