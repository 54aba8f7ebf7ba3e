"""Renderers: one report dict in, text out. They never compute figures, only present them."""
