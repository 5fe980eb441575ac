"""The snapshot store: staging folders, atomic publishing, and the `latest` pointer."""

from sanitizer.store.store import LATEST, Staging, Store, new_snapshot_id

__all__ = ["LATEST", "Staging", "Store", "new_snapshot_id"]
