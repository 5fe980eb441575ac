#!/usr/bin/env python3
"""Count phone fakes that ring when a system reads them as numbers stored without their `+`.

Usage:
    python scripts/phone_ring_check.py [--per-country 50] [--region DE --region GB ...]

Builds valid mobile numbers of 22 countries (libphonenumber's example number of each, its
last four digits varied) stored as digits with their country code and no `+`
(`4915123456789`), masks them with the `phone` mask in each region given (default: 16
regions), and counts the fakes that are a valid number once a `+` is put before their digits:
what an SMS gateway or a dialler does to such a column. Prints one line per region and the
total; exit 0 always (a measurement, not a test: the test suite holds the cases that must
not ring).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import phonenumbers
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sanitizer.masks import MaskContext, Pools
from sanitizer.masks.phone import mask_phone

COUNTRIES = [
    "DE",
    "FR",
    "GB",
    "IT",
    "ES",
    "NL",
    "PL",
    "BR",
    "IN",
    "JP",
    "US",
    "MX",
    "AU",
    "SE",
    "RU",
    "CN",
    "KR",
    "ZA",
    "NG",
    "EG",
    "TR",
    "AR",
]
REGIONS = [
    "US",
    "DE",
    "GB",
    "FR",
    "IT",
    "BR",
    "IN",
    "ES",
    "NL",
    "PL",
    "JP",
    "RU",
    "MX",
    "AU",
    "SE",
    "CN",
]


def stored_without_plus(per_country: int, seed: int = 3) -> list[str]:
    """Valid mobile numbers, as digits with their country code and no `+`."""
    rng = random.Random(seed)
    out = []
    for region in COUNTRIES:
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        head = str(example.national_number)[:-4]
        for _ in range(per_country):
            number = f"{example.country_code}{head}{rng.randrange(10_000):04d}"
            if phonenumbers.is_valid_number(phonenumbers.parse("+" + number)):
                out.append(number)
    return out


def rings_with_plus(value: str) -> bool:
    digits = "".join(ch for ch in value if ch.isdigit())
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse("+" + digits)))
    except phonenumbers.NumberParseException:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-country", type=int, default=50)
    parser.add_argument("--region", action="append", dest="regions")
    args = parser.parse_args(argv)
    numbers = stored_without_plus(args.per_country)
    total = ringing = 0
    for region in args.regions or REGIONS:
        ctx = MaskContext(secret=b"phone-ring-check", pools=Pools(), region=region)
        fakes = mask_phone(pl.Series("p", numbers), ctx).to_list()
        found = sum(rings_with_plus(f) for f in fakes)
        print(f"{region}: {found} of {len(fakes)} fakes ring read with a +")
        total += len(fakes)
        ringing += found
    print(f"total: {ringing} of {total} ({100 * ringing / max(total, 1):.2f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
