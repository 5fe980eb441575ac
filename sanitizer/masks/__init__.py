"""Masks: pure functions from a batch of values (a polars Series) to masked values.

Importing this package registers every mask; Faker is imported only when a pool is built.
"""

from sanitizer.masks import (  # noqa: F401  (registration)
    basic,
    email,
    ip,
    jsonmask,
    names,
    phone,
    scrub,
    secret,
    url,
    username,
)
from sanitizer.masks.base import MASKS, TABLE_RULES, MaskContext, MaskSpec, get_mask, register
from sanitizer.masks.pools import Pools

__all__ = ["MASKS", "TABLE_RULES", "MaskContext", "MaskSpec", "Pools", "get_mask", "register"]
