"""sanitize: clone production databases into certified, PII-free snapshots for test environments."""

__version__ = "0.1.0"
