"""`Record`: typing.NamedTuple's class syntax at the cost of collections.namedtuple.

typing.NamedTuple checks every field's annotation when the class is defined, and under `from __future__
import annotations` each annotation is a string it compiles into a ForwardRef. `healthdeck gate` defines
about twenty of these records on every start; that checking was about 6 % of its start-up (instructions,
callgrind). A `Record` keeps the annotations as written (strings) and checks nothing; type checkers see
typing.NamedTuple itself, so they check as before.
"""

from __future__ import annotations

import collections

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from typing import NamedTuple as Record
else:
    # what a class body holds that is not the record's own (namedtuple supplies these itself)
    _NOT_COPIED = frozenset({"__module__", "__qualname__", "__annotations__", "__classcell__"})

    class _RecordMeta(type):
        """`class X(Record): a: int; b: str = ""` -> a namedtuple class X(a, b=""), with the body's
        methods, properties, docstring and class constants, as typing.NamedTuple makes it."""

        def __new__(mcls, name: str, bases: tuple, namespace: dict):
            annotations = namespace.get("__annotations__", {})
            fields = tuple(annotations)
            defaults = [namespace[field] for field in fields if field in namespace]
            first_default = len(fields) - len(defaults)
            if any(field in namespace for field in fields[:first_default]):
                raise TypeError(f"{name}: a field without a default follows a field with one")
            cls = collections.namedtuple(name, fields, defaults=defaults, module=namespace["__module__"])
            cls.__qualname__ = namespace.get("__qualname__", name)
            cls.__annotations__ = annotations
            for key, value in namespace.items():
                if key not in _NOT_COPIED and key not in fields:
                    setattr(cls, key, value)
            return cls

    # `class X(Record)` runs _RecordMeta, which returns the namedtuple class (not a subclass of Record)
    Record = type.__new__(_RecordMeta, "Record", (), {})
