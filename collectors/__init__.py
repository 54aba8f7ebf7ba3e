"""Collectors: pure parsers from a tool's artifact to typed records. They never print, exit or write."""

from .base import CollectorError

__all__ = ["CollectorError"]
