#!/usr/bin/env python3
"""Write sanitizer/masks/phone_tables.json: the answers the phone mask would otherwise ask
libphonenumber for in every run (most of a second): the NANP area codes where libphonenumber
accepts a 0XX/1XX exchange, each region's unallocated NSN prefix, and per region the area codes
whose unassignable numbers, written without +1, are valid numbers there. They hold for one
release of phonenumbers, which the file names; with any other release the mask computes
them itself. Run after upgrading phonenumbers (tests/test_phone_safe.py says when).

Usage:
    python scripts/phone_tables.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's package


def compute(ringing: list[str] | None = None) -> dict[str, object]:
    """The tables, computed with the installed phonenumbers (`nanp_ringing` for the regions
    ``ringing`` only, if given: it takes most of a second per region)."""
    import phonenumbers

    from sanitizer.masks import phone

    codes = [str(n) for n in range(200, 1000)]
    return {
        "phonenumbers": phonenumbers.__version__,
        "nanp_valid_0_1": [c for c in codes if not phone._exchange_0_1_invalid(c)],
        "unallocated_prefix": {
            r: phone._search_unallocated_prefix(r) for r in sorted(phonenumbers.SUPPORTED_REGIONS)
        },
        "nanp_in_use": sorted(phone._nanp_in_use_asked()),
        "nanp_ringing": {
            r: sorted(phone._nanp_ringing_asked(r))
            for r in (ringing or sorted(phonenumbers.SUPPORTED_REGIONS))
        },
    }


def main() -> int:
    path = ROOT / "sanitizer" / "masks" / "phone_tables.json"
    path.write_text(json.dumps(compute(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
