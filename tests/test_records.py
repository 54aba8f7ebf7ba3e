"""collectors.records.Record: typing.NamedTuple's class syntax and behaviour, without its per-field checks."""

from __future__ import annotations

import pickle
from typing import NamedTuple

import pytest

from healthdeck.collectors.records import Record


class Point(Record):
    """A point."""

    x: int
    y: int = 0
    tags: tuple[str, ...] = ()
    ORIGIN_NAME = "origin"  # a class constant, not a field

    @property
    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)

    def moved(self, dx: int) -> Point:
        return self._replace(x=self.x + dx)


class TypedPoint(NamedTuple):
    """A point."""

    x: int
    y: int = 0
    tags: tuple[str, ...] = ()


def test_a_record_is_the_named_tuple_typing_would_make():
    p = Point(3, -4)
    twin = TypedPoint(3, -4)
    assert p == twin == (3, -4, ())
    assert isinstance(p, tuple) and not isinstance(p, Record)
    assert Point._fields == TypedPoint._fields == ("x", "y", "tags")
    assert Point._field_defaults == TypedPoint._field_defaults == {"y": 0, "tags": ()}
    assert repr(p) == "Point(x=3, y=-4, tags=())"
    assert p._asdict() == twin._asdict()
    assert Point.__doc__ == "A point." and Point.__module__ == __name__ and Point.__qualname__ == "Point"


def test_methods_properties_and_constants_come_along():
    p = Point(3, -4, ("a",))
    assert p.norm1 == 7 and p.moved(2) == Point(5, -4, ("a",)) and Point.ORIGIN_NAME == "origin"
    assert "ORIGIN_NAME" not in Point._fields
    with pytest.raises(AttributeError):
        p.x = 1  # immutable, as a named tuple is


def test_annotations_stay_as_written_and_pickling_works():
    assert Point.__annotations__ == {"x": "int", "y": "int", "tags": "tuple[str, ...]"}
    assert pickle.loads(pickle.dumps(Point(1, 2))) == Point(1, 2)


def test_a_field_without_a_default_after_one_with_a_default_is_refused():
    with pytest.raises(TypeError, match="without a default follows"):

        class Bad(Record):
            a: int = 0
            b: int
