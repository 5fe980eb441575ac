"""The package never parses input with something that can run code: YAML only through the
safe loader, no pickle/marshal/shelve, no eval/exec/compile, no shell. Checked on the AST of
every module of `sanitizer/`, so a new use fails here until it is allowed with a reason."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sanitizer"

YAML_UNSAFE = {
    "load", "load_all", "unsafe_load", "unsafe_load_all", "full_load", "full_load_all",
    "Loader", "UnsafeLoader", "FullLoader", "CLoader", "CUnsafeLoader", "CFullLoader",
    "UnsafeConstructor", "FullConstructor", "Constructor",
}  # fmt: skip
YAML_SAFE_LOADERS = {"SafeLoader", "CSafeLoader", "BaseLoader"}
MODULES = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "jsonpickle", "ruamel"}
BUILTINS = {"eval", "exec", "compile", "__import__"}
CALLS = {("os", "system"), ("os", "popen"), ("importlib", "import_module")}

# (module path, finding) -> why it is acceptable
ALLOWED = {
    ("db/models.py", "importlib.import_module"): "`lint --models MOD:OBJ` imports the "
    "application's models module that the user names on the command line, as alembic does; "
    "it never comes from a rules file, a config value or a snapshot",
    ("masks/vocab.py", "importlib.import_module"): "faker's name lists for a fixed tuple of "
    "locales (VOCAB_LOCALES), never a name from input",
}


def findings(tree: ast.AST) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in MODULES:
                    out.append((node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom):
            mod = (node.module or "").split(".")[0]
            if mod in MODULES:
                out.append((node.lineno, f"from {node.module} import"))
            if mod == "yaml":
                for alias in node.names:
                    if alias.name in YAML_UNSAFE or alias.name == "*":
                        out.append((node.lineno, f"yaml.{alias.name}"))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            base, attr = node.value.id, node.attr
            if base == "yaml" and attr in YAML_UNSAFE:
                out.append((node.lineno, f"yaml.{attr}"))
            if (base, attr) in CALLS:
                out.append((node.lineno, f"{base}.{attr}"))
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in BUILTINS:
                out.append((node.lineno, f"{func.id}()"))
            for kw in node.keywords:
                if kw.arg == "shell" and not (
                    isinstance(kw.value, ast.Constant) and kw.value.value is False
                ):
                    out.append((node.lineno, "shell=True"))
                if kw.arg == "Loader" and not (
                    isinstance(kw.value, ast.Attribute) and kw.value.attr in YAML_SAFE_LOADERS
                ):
                    out.append((node.lineno, "Loader= not a safe loader"))
    return out


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_unsafe_parsing_or_code_execution() -> None:
    bad, used = [], set()
    for path in _modules():
        rel = path.relative_to(PACKAGE).as_posix()
        for line, what in findings(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if (rel, what) in ALLOWED:
                used.add((rel, what))
            else:
                bad.append(f"sanitizer/{rel}:{line}: {what}")
    assert not bad, "unsafe uses (allow in ALLOWED with a reason, or remove):\n" + "\n".join(bad)
    assert used == set(ALLOWED), f"stale ALLOWED entries: {set(ALLOWED) - used}"


def test_the_rules_loader_uses_the_safe_loader() -> None:
    text = (PACKAGE / "rules" / "loader.py").read_text(encoding="utf-8")
    assert "Loader=yaml.SafeLoader" in text


@pytest.mark.parametrize(
    "code",
    [
        "import yaml\nyaml.load(s)",
        "import yaml\nyaml.load(s, Loader=yaml.Loader)",
        "import yaml\nyaml.unsafe_load(s)",
        "from yaml import Loader",
        "from yaml import *",
        "import yaml\nyaml.compose(s, Loader=MyLoader)",
        "import pickle",
        "from marshal import loads",
        "eval(text)",
        "exec(text)",
        "import subprocess\nsubprocess.run(cmd, shell=True)",
        "import os\nos.system(cmd)",
    ],
)
def test_the_walker_finds_each_kind(code: str) -> None:
    assert findings(ast.parse(code))


def test_safe_code_passes() -> None:
    code = (
        "import yaml\nyaml.safe_load(s)\nyaml.compose(s, Loader=yaml.SafeLoader)\n"
        "import subprocess\nsubprocess.run(['ls'], shell=False)\nimport json\njson.loads(s)"
    )
    assert findings(ast.parse(code)) == []
