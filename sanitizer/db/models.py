"""Reading an application's SQLAlchemy models (`pkg.module:Base`) as a schema, with no database."""

from __future__ import annotations

import importlib
import os
import sys

import sqlalchemy as sa

from sanitizer.db.reflect import schema_from_metadata
from sanitizer.errors import SanitizeError
from sanitizer.schema import SchemaInfo


def load_metadata(spec: str) -> sa.MetaData:
    """Import ``module:attribute`` and return its ``MetaData``.

    The attribute may be a ``MetaData``, or anything with a ``metadata`` attribute that is
    one (a declarative ``Base``, a model class). The working folder is importable, as it is
    for ``python -m``.

    Raises:
        SanitizeError: when the module cannot be imported or holds no MetaData there.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise SanitizeError(
            f"--models `{spec}` must be `module:attribute` (e.g. myapp.models:Base)"
        )
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except Exception as e:  # the application's own import-time errors, whatever they are
        raise SanitizeError(
            f"cannot import `{module_name}` for --models: {type(e).__name__}: {str(e)[:200]}"
        ) from None
    obj: object = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise SanitizeError(f"`{module_name}` has no attribute `{attr}` (--models {spec})")
        obj = getattr(obj, part)
    if isinstance(obj, sa.MetaData):
        return obj
    metadata = getattr(obj, "metadata", None)
    if isinstance(metadata, sa.MetaData):
        return metadata
    raise SanitizeError(
        f"`{spec}` is a {type(obj).__name__}, not a SQLAlchemy MetaData or declarative Base"
    )


def schema_from_models(spec: str, dialect_name: str = "default") -> SchemaInfo:
    """The SchemaInfo of the models at ``module:attribute``.

    Raises:
        SanitizeError: see ``load_metadata``; also when the metadata has no tables.
    """
    metadata = load_metadata(spec)
    if not metadata.tables:
        raise SanitizeError(f"`{spec}` holds no tables (are the model modules imported?)")
    return schema_from_metadata(metadata, dialect_name)
