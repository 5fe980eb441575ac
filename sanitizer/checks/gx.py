"""Great Expectations, run for real: the only module that imports it.

An ephemeral context (nothing written but GE's own temporary folder, which it removes), no
progress bars, analytics off. The sanitized SQLite file is read through GE's SQL data source,
opened read-only; derived frames (phone numbers read back) through its pandas data source.
Results are read as counts only: the partial lists of unexpected values are switched off.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from sanitizer.checks.model import GE, CheckResult
from sanitizer.checks.suite import Expectation

if TYPE_CHECKING:
    from sanitizer.db.catalog import Table

RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class GreatExpectations:
    """One ephemeral GE context for one run's checks."""

    def __init__(self) -> None:
        t0 = time.monotonic()
        os.environ["GX_ANALYTICS_ENABLED"] = "false"
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.import_seconds = time.monotonic() - t0
        self.version = str(gx.__version__)
        self._gx = gx
        self.ctx = gx.get_context(mode="ephemeral")
        self.ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        self._n = 0
        self._pandas: Any = None
        self.run_seconds = 0.0  # time spent in GE validations
        # the suite runs in a thread beside the scan, whose phone frames GE checks too: one
        # validation at a time (a GE context is not made for threads)
        self._lock = threading.RLock()

    def _name(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}_{self._n}"

    def _expectation(self, spec: Expectation) -> Any:
        import great_expectations.expectations as gxe

        cls = getattr(gxe, spec.type)
        return cls(**dict(spec.kwargs))

    def _run(self, batch_definition: Any, specs: list[Expectation], **params: Any) -> list[Any]:
        gx = self._gx
        with self._lock:
            t0 = time.monotonic()
            suite = self.ctx.suites.add(gx.ExpectationSuite(name=self._name("suite")))
            ids = [suite.add_expectation(self._expectation(s)).id for s in specs]
            vd = self.ctx.validation_definitions.add(
                gx.ValidationDefinition(name=self._name("vd"), data=batch_definition, suite=suite)
            )
            res = vd.run(result_format=RESULT_FORMAT, **params)
            self.run_seconds += time.monotonic() - t0
        by_id = {getattr(r.expectation_config, "id", None): r for r in res.results}
        return [by_id.get(i) for i in ids]

    def validate_sqlite(self, path: Path, suite: dict[str, list[Expectation]]) -> list[CheckResult]:
        """Run each table's expectations against the SQLite file at ``path`` (read-only)."""
        url = f"sqlite:///file:{path.resolve()}?mode=ro&uri=true"
        with self._lock:
            ds = self.ctx.data_sources.add_sqlite(self._name("sanitized"), connection_string=url)
        out: list[CheckResult] = []
        for table, specs in suite.items():
            if not specs:
                continue
            asset: Any
            with self._lock:
                if _PLAIN_NAME.fullmatch(table):
                    asset = ds.add_table_asset(self._name("table"), table_name=table)
                else:  # a flattened `schema.table` name: GE would split it at the dot
                    quoted = '"' + table.replace('"', '""') + '"'
                    query = f"SELECT * FROM {quoted}"
                    asset = ds.add_query_asset(self._name("table"), query=query)
                bd = asset.add_batch_definition_whole_table(self._name("all"))
            for spec, res in zip(specs, self._run(bd, specs), strict=True):
                out.append(to_result(spec, res))
        return out

    def validate_sql(
        self,
        url: str,
        dialect: str,
        suite: dict[str, list[Expectation]],
        tables: Mapping[str, Table],
    ) -> list[CheckResult]:
        """Run each table's expectations against a PostgreSQL or MySQL/MariaDB database (the
        copy a run built there); ``tables`` names each table as that database does."""
        ds: Any
        with self._lock:
            source = self._name("sanitized")
            if dialect == "postgresql":
                ds = self.ctx.data_sources.add_postgres(source, connection_string=url)
            else:
                ds = self.ctx.data_sources.add_sql(source, connection_string=url)
        out: list[CheckResult] = []
        for key, specs in suite.items():
            if not specs:
                continue
            t = tables[key]
            name = _quoted(dialect, t.name)
            if t.schema:
                name = f"{_quoted(dialect, t.schema)}.{name}"
            columns = sorted({c for spec in specs for c in _columns_of(spec)})
            odd = [c for c in columns if not _bare(dialect, c)]
            asked = specs
            with self._lock:
                if (
                    _bare(dialect, t.name)
                    and (t.schema is None or _bare(dialect, t.schema))
                    and not odd
                ):
                    # a table asset: GE counts in SQL; over a query asset it held the rows of a
                    # 2,000,000-row table in memory (+390 MB) for each column expectation
                    asset = ds.add_table_asset(
                        self._name("table"), table_name=t.name, schema_name=t.schema
                    )
                else:
                    # a name GE might fold or split (`"UPPER"."ID"` read as `upper.id`: an
                    # UndefinedColumn that passed as `0 NULLs`): quoted by us, and every
                    # column under a plain alias
                    alias = {c: f"c{i}" for i, c in enumerate(columns)}
                    picked = ", ".join(f"{_quoted(dialect, c)} AS {a}" for c, a in alias.items())
                    query = f"SELECT {picked or '*'} FROM {name}"
                    asset = ds.add_query_asset(self._name("table"), query=query)
                    asked = [_aliased(spec, alias) for spec in specs]
                bd = asset.add_batch_definition_whole_table(self._name("all"))
            for spec, res in zip(specs, self._run(bd, asked), strict=True):
                out.append(to_result(spec, res))
        return out

    def validate_frame(self, frame: pl.DataFrame, spec: Expectation) -> tuple[int, int, str | None]:
        """Run one column-map expectation on a polars frame (through pandas).

        Returns:
            (unexpected count, element count, error) where error names an exception type.
        """
        with self._lock:
            if self._pandas is None:
                ds = self.ctx.data_sources.add_pandas(self._name("derived"))
                asset = ds.add_dataframe_asset(self._name("frame"))
                self._pandas = asset.add_batch_definition_whole_dataframe(self._name("all"))
        (res,) = self._run(self._pandas, [spec], batch_parameters={"dataframe": frame.to_pandas()})
        error = _error(res)
        if error:
            return 0, 0, error
        result = res.result or {}
        return int(result.get("unexpected_count") or 0), int(result.get("element_count") or 0), None


def _columns_of(spec: Expectation) -> list[str]:
    """The columns an expectation reads (its ``column`` or ``column_list``)."""
    kwargs = spec.kwargs
    if "column" in kwargs:
        return [str(kwargs["column"])]
    return [str(c) for c in kwargs.get("column_list", ())]


def _aliased(spec: Expectation, alias: Mapping[str, str]) -> Expectation:
    """``spec`` reading the columns by their aliases."""
    from dataclasses import replace
    from types import MappingProxyType

    kwargs = dict(spec.kwargs)
    if "column" in kwargs:
        kwargs["column"] = alias[str(kwargs["column"])]
    if "column_list" in kwargs:
        kwargs["column_list"] = [alias[str(c)] for c in kwargs["column_list"]]
    return replace(spec, kwargs=MappingProxyType(kwargs))


def _quoted(dialect: str, name: str) -> str:
    """``name`` quoted for a query GE runs. A `%` is written without a `%` in PostgreSQL
    (`U&"pct\\0025"`): SQLAlchemy doubles it for psycopg's placeholders, and psycopg, given
    no parameters, sent `"pct%%"` as it was (`UndefinedTable`, every check of the table
    failed). MySQL has no such spelling; its `%` goes through as it is."""
    from sanitizer.db.ddl import quote

    if dialect != "postgresql" or "%" not in name:
        return quote(dialect, name)
    body = name.replace("\\", "\\\\").replace('"', '""').replace("%", "\\0025")
    return f'U&"{body}"'


def _bare(dialect: str, name: str) -> bool:
    """Whether ``name`` reads the same unquoted in ``dialect`` (lower case, no reserved word):
    GE's table asset writes a table name as it is (`FROM order` fails in MySQL)."""
    from sqlalchemy.dialects import mysql, postgresql

    module = postgresql if dialect == "postgresql" else mysql
    preparer = module.dialect().identifier_preparer
    return bool(re.fullmatch(r"[a-z_][a-z0-9_]*", name)) and preparer.quote(name) == name


def _error(res: Any) -> str | None:
    if res is None:
        return "no result"
    info = res.exception_info or {}
    # flat, or one entry per metric (`{"MetricConfigurationID(...)": {...}}`): a metric that
    # raised gave no value, and its expectation reads as 0 rows or 0 values, not as an error
    entries = [info, *(v for v in info.values() if isinstance(v, dict))]
    for entry in entries:
        if entry.get("raised_exception"):
            # only the exception's type: its message may quote SQL or values
            kind = entry.get("exception_type") or _exception_type(entry)
            return str(kind).split(".")[-1][:60] or "exception"
    return None


def _exception_type(entry: dict[str, Any]) -> str:
    """The exception's class name from GE's message (`(pymysql.err.ProgrammingError) …`),
    else ``exception``: the message itself may quote SQL or values."""
    message = str(entry.get("exception_message") or "")
    m = re.match(r"\(([\w.]+)\)", message) or re.match(
        r"([A-Za-z_][\w.]*(?:Error|Exception))", message
    )
    return m.group(1) if m else "exception"


def to_result(spec: Expectation, res: Any) -> CheckResult:
    """Our result for a GE result: counts only."""
    error = _error(res)
    if error is not None:
        return CheckResult(
            spec.check,
            spec.table,
            spec.column,
            False,
            detail=f"Great Expectations could not evaluate {spec.type} ({error})",
            engine=GE,
        )
    result = res.result or {}
    if spec.check == "row_count":
        observed = int(result.get("observed_value") or 0)
        expected = int(spec.kwargs["value"])
        return CheckResult(
            spec.check,
            spec.table,
            None,
            bool(res.success),
            expected,
            observed,
            f"{observed:,} rows, source had {expected:,}",
            GE,
        )
    unexpected = int(result.get("unexpected_count") or 0)
    elements = int(result.get("element_count") or 0)
    if spec.check == "null_count":
        expected = int(spec.expected or 0)
        return CheckResult(
            spec.check,
            spec.table,
            spec.column,
            unexpected == expected,
            expected,
            unexpected,
            f"{unexpected:,} NULLs, expected {expected:,}",
            GE,
        )
    words = {
        "unique": "rows share a value with another row",
        "compound_unique": "rows share their values with another row",
        "email_domain": "values are not an address at a reserved domain",
    }.get(spec.check, "values are unexpected")
    return CheckResult(
        spec.check,
        spec.table,
        spec.column,
        bool(res.success),
        0,
        unexpected,
        f"{unexpected:,} of {elements:,} {words}" if unexpected else f"{elements:,} values ok",
        GE,
    )
