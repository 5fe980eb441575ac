"""Reserved domains (RFC 2606 / RFC 6761): the only places a masked email may point to."""

from __future__ import annotations

import re

RESERVED_SECOND_LEVEL = ("example.com", "example.net", "example.org")
RESERVED_TLDS = ("test", "example", "invalid", "localhost")

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def is_reserved_domain(domain: str) -> bool:
    """True when ``domain`` (or a parent of it) is reserved and can never receive mail."""
    d = domain.strip().lower().rstrip(".")
    if not d or any(not _LABEL.fullmatch(label) for label in d.split(".")):
        return False
    if d in RESERVED_SECOND_LEVEL or any(d.endswith("." + r) for r in RESERVED_SECOND_LEVEL):
        return True
    return d.rsplit(".", 1)[-1] in RESERVED_TLDS


def parse_reserved_domain(value: object) -> str:
    """Rules option parser: a reserved domain, lower-cased."""
    if not isinstance(value, str):
        raise ValueError("must be a domain name such as example.com")
    if not is_reserved_domain(value):
        raise ValueError(
            f"`{value}` is not a reserved domain; use example.com, example.net, example.org "
            "or a name under .test, .example, .invalid or .localhost (RFC 2606)"
        )
    return value.strip().lower().rstrip(".")
