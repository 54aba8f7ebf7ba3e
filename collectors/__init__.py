"""Collectors: pure parsers from a tool's artifact to typed records. They never print, exit or write."""

from .errors import CollectorError  # not .base: that one imports lxml

__all__ = ["CollectorError"]
