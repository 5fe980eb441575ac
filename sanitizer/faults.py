"""A test hook: named points in a run where a test can kill the process or pause it.

Not a feature. The fault tests (``tests/test_faults.py``) use it to stop a real `sanitize`
process at a known step, without guessing at timings:

- ``SANITIZE_FAULT_AT=<point>`` sends the process SIGKILL when it reaches ``<point>``
  (as the OOM killer or a power cut would: no cleanup, no ``finally``).
- ``SANITIZE_FAULT_PAUSE=<point>`` makes the process write the file named by
  ``SANITIZE_FAULT_MARKER`` when it reaches ``<point>`` and then wait (up to 120 s) until the
  test deletes that file: the test then breaks something from outside (terminates a
  database backend, fills a disk) at a step it knows.

``<point>`` is a name such as ``publish.renamed``; ``clone.batch#3`` means its third hit in
the process. With neither variable set a point costs one dict lookup.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

FAULT_AT = "SANITIZE_FAULT_AT"
FAULT_PAUSE = "SANITIZE_FAULT_PAUSE"
FAULT_MARKER = "SANITIZE_FAULT_MARKER"
PAUSE_LIMIT = 120.0  # seconds a paused process waits for the test at most

_hits: dict[str, int] = {}


def _matches(wanted: str | None, name: str, hit: int) -> bool:
    if not wanted:
        return False
    point, _, nth = wanted.partition("#")
    return point == name and (not nth or hit == int(nth))


def fault_point(name: str) -> None:
    """Kill or pause the process here when a fault test asks for it; else nothing."""
    environ = os.environ
    if FAULT_AT not in environ and FAULT_PAUSE not in environ:
        return
    hit = _hits[name] = _hits.get(name, 0) + 1
    if _matches(environ.get(FAULT_AT), name, hit):
        os.kill(os.getpid(), signal.SIGKILL)
    if _matches(environ.get(FAULT_PAUSE), name, hit):
        marker = Path(environ.get(FAULT_MARKER, "sanitize-fault-paused"))
        marker.write_text(f"{os.getpid()} {name}\n", encoding="utf-8")
        deadline = time.monotonic() + PAUSE_LIMIT
        while marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
