"""The curated public API: every exported name resolves, and importing the package is cheap."""

from __future__ import annotations

import subprocess
import sys
import types

import arverne


def test_every_exported_name_resolves() -> None:
    """Each name in ``arverne.__all__`` is reachable as an attribute of the package."""
    for name in arverne.__all__:
        assert getattr(arverne, name) is not None, name


def test_exported_names_are_not_aliases() -> None:
    """Each exported class or function is published under its own name (``arverne.Shuttle`` is
    the class ``Shuttle``), so one name means one thing in the docs, the code and the errors."""
    for name in arverne.__all__:
        obj = getattr(arverne, name)
        if isinstance(obj, type) or callable(obj):
            assert obj.__name__ == name, f"arverne.{name} is {obj.__module__}.{obj.__name__}"


def test_fleet_class_names_are_unique() -> None:
    """No two public classes of the fleet package share a name (the tour model's ``Vehicle`` and
    the on-demand ``Shuttle`` were both called ``Vehicle``)."""
    import importlib
    import inspect
    import pkgutil

    import arverne.fleet

    seen: dict[str, str] = {}
    for info in pkgutil.iter_modules(arverne.fleet.__path__, "arverne.fleet."):
        module = importlib.import_module(info.name)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != info.name or cls_name.startswith("_"):
                continue
            assert cls_name not in seen, f"{cls_name} is in {seen.get(cls_name)} and {info.name}"
            seen[cls_name] = info.name


def test_all_is_exactly_the_public_names() -> None:
    """``__all__`` lists every public name of the package and nothing else: no helper import
    leaks as a public attribute, and ``dir(arverne)`` shows the same names."""
    import importlib

    fresh = importlib.reload(arverne)
    public = {
        n
        for n, v in vars(fresh).items()
        if not n.startswith("_") and not isinstance(v, types.ModuleType)
    }
    assert public <= set(fresh.__all__), sorted(public - set(fresh.__all__))
    assert sorted(dir(fresh)) == sorted(fresh.__all__)
    assert len(fresh.__all__) == len(set(fresh.__all__))


def test_every_error_class_is_exported() -> None:
    """Each error and warning class of ``arverne.errors`` is exported from the package, so a
    caller catches ``arverne.GtfsError`` without knowing the module layout."""
    import inspect

    import arverne.errors

    classes = {
        name
        for name, cls in inspect.getmembers(arverne.errors, inspect.isclass)
        if cls.__module__ == "arverne.errors"
    }
    assert classes <= set(arverne.__all__), sorted(classes - set(arverne.__all__))


def test_import_compiles_nothing() -> None:
    """`import arverne` in a fresh process loads neither numba nor pandas (no work at import)."""
    code = "import sys, arverne; print(sorted(m for m in ('numba', 'pandas') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
