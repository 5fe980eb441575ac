"""Read a rules folder strictly: every mistake is one error naming its file and line."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from sanitizer.errors import Location, SanitizeError, printable
from sanitizer.masks import MASKS, TABLE_RULES, get_mask
from sanitizer.masks.base import suggest
from sanitizer.masks.domains import parse_reserved_domain
from sanitizer.masks.phone import parse_region
from sanitizer.masks.pools import parse_locale
from sanitizer.rules.model import (
    FORMAT_VERSION,
    CanaryRow,
    ColumnRule,
    Defaults,
    RuleSet,
    TableRule,
)

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_NODES = 200_000  # after alias expansion: stops "billion laughs" documents
MAX_DEPTH = 32  # rules nest 4 levels deep; [[[[…]]]] must not exhaust the stack
TOP_KEYS = ("version", "defaults", "tables", "canaries")
MAX_CANARIES = 10  # per table: a few marked rows, not a data set
DEFAULT_KEYS = {
    "email_domain": parse_reserved_domain,
    "locale": parse_locale,
    "region": parse_region,
}
_SAFE_TAGS = {
    "tag:yaml.org,2002:" + t for t in ("str", "int", "bool", "null", "float", "map", "seq")
}


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


class _File:
    """One rules file being read; knows how to point at a node."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = _display(path)
        self.nodes = 0

    def at(
        self, node: yaml.Node | None, table: str | None = None, column: str | None = None
    ) -> Location:
        line = node.start_mark.line + 1 if node is not None else None
        return Location(file=self.name, line=line, table=table, column=column)

    def fail(
        self,
        message: str,
        node: yaml.Node | None,
        table: str | None = None,
        column: str | None = None,
    ) -> SanitizeError:
        return SanitizeError(message, self.at(node, table, column))

    def count(self, node: yaml.Node) -> None:
        """Walk ``node`` (aliases included), refusing foreign tags and oversized documents."""
        stack = [(node, 1)]
        while stack:
            n, depth = stack.pop()
            self.nodes += 1
            if self.nodes > MAX_NODES:
                raise self.fail(f"the document is too large (more than {MAX_NODES} YAML nodes)", n)
            if depth > MAX_DEPTH:
                raise self.fail(f"the document nests more than {MAX_DEPTH} levels deep", n)
            if n.tag not in _SAFE_TAGS:
                raise self.fail(f"YAML tag `{n.tag}` is not allowed in rules", n)
            # pushed in reverse, so the first offending node in document order is reported
            if isinstance(n, yaml.MappingNode):
                for k, v in reversed(n.value):
                    stack.extend(((v, depth + 1), (k, depth + 1)))
            elif isinstance(n, yaml.SequenceNode):
                stack.extend((c, depth + 1) for c in reversed(n.value))

    @staticmethod
    def scalar(node: yaml.Node) -> Any:
        loader = yaml.SafeLoader("")
        try:
            return loader.construct_object(node, deep=True)
        finally:
            loader.dispose()

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """The (key text, key node, value node) entries of a mapping; keys are always text,
        as written (a column called `on` or `null` stays that name), and never repeated."""
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(f"{what} must be a mapping", node)
        seen: dict[str, yaml.Node] = {}
        entries: list[tuple[str, yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(f"keys of {what} must be plain names", key_node)
            key = str(key_node.value)
            if key in seen:
                raise self.fail(
                    f"`{key}` appears twice in {what} (first at line {seen[key].start_mark.line + 1})",
                    key_node,
                )
            seen[key] = key_node
            entries.append((key, key_node, value_node))
        return entries


def _read(path: Path) -> tuple[yaml.Node, bytes, _File]:
    f = _File(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block the read forever
            raise f.fail("not a regular file", None)
        size = info.st_size
        if size > MAX_FILE_BYTES:
            raise f.fail(f"file is {size} bytes; rules files are limited to {MAX_FILE_BYTES}", None)
        raw = path.read_bytes()
    except OSError as e:
        raise f.fail(f"cannot read: {e.strerror}", None) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise SanitizeError("not valid UTF-8", Location(file=f.name, line=line)) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        at_line = mark.line + 1 if mark else None
        problem = e.problem or e.context or "malformed YAML"
        raise SanitizeError(
            f"malformed YAML: {_one_line(problem)}", Location(file=f.name, line=at_line)
        ) from None
    except yaml.reader.ReaderError as e:  # a control character (NUL, BEL…): no mark, a position
        line = text[: e.position].count("\n") + 1
        raise SanitizeError(
            f"malformed YAML: character #x{e.character:04x} is not allowed in YAML",
            Location(file=f.name, line=line),
        ) from None
    except yaml.YAMLError as e:
        raise SanitizeError(f"malformed YAML: {_one_line(str(e))}", Location(file=f.name)) from None
    except RecursionError:  # the composer recurses once per nesting level
        raise SanitizeError(
            f"the document nests more than {MAX_DEPTH} levels deep", Location(file=f.name)
        ) from None
    if node is None:
        raise f.fail("the file is empty; a rules file needs `version: 1` and `tables:`", None)
    f.count(node)
    return node, raw, f


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _defaults(f: _File, node: yaml.Node | None) -> Defaults:
    if node is None:
        return Defaults()
    values: dict[str, Any] = {}
    for key, key_node, value_node in f.mapping(node, "`defaults`"):
        parse = DEFAULT_KEYS.get(key)
        if parse is None:
            raise f.fail(f"unknown default `{key}`" + suggest(key, list(DEFAULT_KEYS)), key_node)
        try:
            values[key] = parse(f.scalar(value_node))
        except ValueError as e:
            raise f.fail(f"default `{key}`: {e}", value_node) from None
    return Defaults(**values)


def _column_rule(
    f: _File, table: str, column: str, key_node: yaml.Node, node: yaml.Node
) -> ColumnRule:
    where = f.at(key_node, table, column)
    options: dict[str, Any] = {}
    mask_node: yaml.Node
    if isinstance(node, yaml.ScalarNode):
        mask = f.scalar(node)
        mask_node = node
        option_entries: list[tuple[str, yaml.Node, yaml.Node]] = []
    elif isinstance(node, yaml.MappingNode):
        entries = f.mapping(node, f"the rule for {table}.{column}")
        by_key = {k: (kn, vn) for k, kn, vn in entries}
        if "mask" not in by_key:
            raise f.fail("a long-form rule needs `mask:`", node, table, column)
        mask_node = by_key["mask"][1]
        mask = f.scalar(mask_node)
        option_entries = [e for e in entries if e[0] != "mask"]
    else:
        raise f.fail("a column rule is a mask name or a mapping with `mask:`", node, table, column)
    if mask is None or mask == "":
        raise f.fail("no mask given", mask_node, table, column)
    if not isinstance(mask, str):
        raise f.fail(
            f"the mask must be a name, not {type(mask).__name__}", mask_node, table, column
        )
    if mask in TABLE_RULES:
        raise f.fail(
            f"`{mask}` applies to whole tables: write `{table}: {mask}`", mask_node, table, column
        )
    try:
        spec = get_mask(mask)
    except KeyError as e:
        raise f.fail(str(e.args[0]), mask_node, table, column) from None
    for key, opt_key_node, value_node in option_entries:
        option = spec.options.get(key)
        if option is None:
            hint = suggest(key, list(spec.options)) if spec.options else "; it takes no options"
            raise f.fail(
                f"unknown option `{key}` for mask `{mask}`" + hint, opt_key_node, table, column
            )
        try:
            options[key] = option.parse(f.scalar(value_node))
        except ValueError as e:
            raise f.fail(
                f"option `{key}` of mask `{mask}`: {e}", value_node, table, column
            ) from None
    return ColumnRule(column=column, mask=mask, where=where, options=MappingProxyType(options))


def _table_rule(
    f: _File, table: str, key_node: yaml.Node, node: yaml.Node, defaults: Defaults
) -> TableRule:
    where = f.at(key_node, table)
    if isinstance(node, yaml.ScalarNode):
        value = f.scalar(node)
        if value in TABLE_RULES:
            return TableRule(table=table, where=where, defaults=defaults, truncate=True)
        hint = suggest(str(value), list(TABLE_RULES)) if isinstance(value, str) else ""
        raise f.fail(
            f"a table rule is `truncate` or a mapping of columns to masks, not `{value}`{hint}",
            node,
            table,
        )
    columns = {}
    for column, col_key_node, col_node in f.mapping(node, f"table `{table}`"):
        columns[column] = _column_rule(f, table, column, col_key_node, col_node)
    _check_row_options(table, columns)
    return TableRule(table=table, where=where, defaults=defaults, columns=MappingProxyType(columns))


def _check_row_options(table: str, columns: dict[str, ColumnRule]) -> None:
    """Options that name another column of the table must name one that can serve."""
    for rule in columns.values():
        source = rule.options.get("from_email")
        if source is None:
            continue
        other = columns.get(source)
        if other is None:
            hint = suggest(source, list(columns))
            raise SanitizeError(
                f"option `from_email` of mask `{rule.mask}`: table `{table}` has no rule for a "
                f"column `{source}`" + hint,
                rule.where,
            )
        if other.mask != "email":
            raise SanitizeError(
                f"option `from_email` of mask `{rule.mask}`: column `{source}` is masked with "
                f"`{other.mask}`; a coherent name needs a column masked with `email`",
                rule.where,
            )


def _canaries(f: _File, node: yaml.Node) -> list[CanaryRow]:
    """``canaries:``: for every table, a row (a mapping of column to value) or a list of rows.

    Values are kept as written (`+4930901820` stays text, not a YAML number).
    """
    rows: list[CanaryRow] = []
    for table, _key_node, value_node in f.mapping(node, "`canaries`"):
        if isinstance(value_node, yaml.SequenceNode):
            items = list(value_node.value)
        elif isinstance(value_node, yaml.MappingNode):
            items = [value_node]
        else:
            raise f.fail(
                "canaries of a table are a row (column: value, …) or a list of rows",
                value_node,
                table,
            )
        if not items:
            raise f.fail("no canary rows given", value_node, table)
        if len(items) > MAX_CANARIES:
            raise f.fail(
                f"{len(items)} canary rows; a table takes at most {MAX_CANARIES}", value_node, table
            )
        for item in items:
            entries = f.mapping(item, f"a canary row of `{table}`")
            if not entries:
                raise f.fail("a canary row needs at least one column", item, table)
            values: dict[str, str] = {}
            places = {}
            for column, _col_node, val_node in entries:
                if not isinstance(val_node, yaml.ScalarNode):
                    raise f.fail("a canary value is a plain value", val_node, table, column)
                if val_node.tag.endswith(":null") or str(val_node.value).strip() == "":
                    raise f.fail("a canary value cannot be empty", val_node, table, column)
                values[column] = str(val_node.value)
                places[column] = f.at(val_node, table, column)
            rows.append(
                CanaryRow(
                    table=table,
                    where=f.at(item, table),
                    values=MappingProxyType(values),
                    places=MappingProxyType(places),
                )
            )
    return rows


def _check_canaries(rows: list[CanaryRow], tables: dict[str, TableRule]) -> None:
    """Canaries go into tables with column rules; the monitored contacts are valid."""
    from sanitizer.canary import check_canary_rules

    for row in rows:
        problem = check_canary_rules(row, tables.get(row.table))
        if problem is not None:
            message, where = problem
            raise SanitizeError(message, where)


def load_rules(folder: str | os.PathLike[str]) -> RuleSet:
    """Read every ``*.yml``/``*.yaml`` file of ``folder`` into one RuleSet.

    Raises:
        SanitizeError: for any problem, naming the file and line, on one line (names and
            values echoed from the file have their control characters escaped).
    """
    try:
        return _load_rules(folder)
    except SanitizeError as e:
        if e.message.isprintable():
            raise
        raise SanitizeError(printable(e.message), e.where, exit_code=e.exit_code) from None


def _load_rules(folder: str | os.PathLike[str]) -> RuleSet:
    root = Path(folder)
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        raise SanitizeError(f"rules folder `{_display(root)}` {what}")
    try:
        # Not only regular files: a dangling symlink or a FIFO named *.yml is an error, not a
        # file silently skipped. Editor lock files (`.#a.yml`, dangling symlinks) are skipped.
        paths = sorted(
            p
            for p in root.iterdir()
            if p.suffix in (".yml", ".yaml") and not p.is_dir() and not p.name.startswith(".#")
        )
    except OSError as e:
        raise SanitizeError(f"rules folder `{_display(root)}`: cannot list: {e.strerror}") from None
    if not paths:
        raise SanitizeError(f"rules folder `{_display(root)}` has no *.yml or *.yaml files")
    digest = hashlib.sha256()
    tables: dict[str, TableRule] = {}
    canaries: list[CanaryRow] = []
    canary_files: dict[str, str] = {}
    for path in paths:
        node, raw, f = _read(path)
        digest.update(path.name.encode() + b"\0" + raw + b"\0")
        entries = {k: (kn, vn) for k, kn, vn in f.mapping(node, "a rules file")}
        for key, (key_node, _) in entries.items():
            if key not in TOP_KEYS:
                raise f.fail(f"unknown key `{key}`" + suggest(key, list(TOP_KEYS)), key_node)
        if "version" not in entries:
            raise f.fail("missing `version: 1`", node)
        version = f.scalar(entries["version"][1])
        if version != FORMAT_VERSION or isinstance(version, bool):
            shown = f"`{version}`" if not isinstance(version, str) else f"'{version}' (text)"
            raise f.fail(
                f"unsupported rules version {shown}; this sanitize reads version {FORMAT_VERSION}",
                entries["version"][1],
            )
        if "tables" not in entries and "canaries" not in entries:
            raise f.fail("missing `tables:`", node)
        if "canaries" in entries:
            for row in _canaries(f, entries["canaries"][1]):
                first = canary_files.setdefault(row.table, f.name)
                if first != f.name:
                    raise SanitizeError(
                        f"table `{row.table}` already has canaries in {first}", row.where
                    )
                canaries.append(row)
        defaults = _defaults(f, entries["defaults"][1] if "defaults" in entries else None)
        tables_node = (
            entries["tables"][1]
            if "tables" in entries
            else yaml.MappingNode("tag:yaml.org,2002:map", [])
        )
        for table, key_node, value_node in f.mapping(tables_node, "`tables`"):
            if table in tables:
                other = tables[table].where
                raise f.fail(
                    f"table `{table}` already has rules in {other.file}:{other.line}",
                    key_node,
                    table,
                )
            tables[table] = _table_rule(f, table, key_node, value_node, defaults)
    _check_canaries(canaries, tables)
    return RuleSet(
        folder=_display(root),
        files=tuple(_display(p) for p in paths),
        tables=MappingProxyType(tables),
        digest=digest.hexdigest(),
        canaries=tuple(canaries),
    )


def known_masks() -> list[str]:
    """Names rules may use, for help texts."""
    return sorted([*MASKS, *TABLE_RULES])


def tables_line(file: str | os.PathLike[str]) -> int | None:
    """The line of a rules file's top-level ``tables:`` key (where a new table's rules go),
    or None when the file cannot be read as a mapping."""
    try:
        node = yaml.compose(Path(file).read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == "tables":
                return int(key_node.start_mark.line) + 1
    return None
