"""Load one OpenAPI document (JSON or YAML; Swagger 2.0, OpenAPI 3.0, 3.1) and resolve its `$ref`s.

Loading and validation are openapi-spec-validator's (the optional `openapi` extra, with PyYAML);
`$ref`s are resolved with `referencing`, the library jsonschema itself uses. References to other
files next to the spec are followed; references to the network are refused (a CI job must not fetch).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from .base import CollectorError, current_limits, read_text
from .checks import Invalid, too_large, within_budget
from .errors import exception_text

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:  # referencing comes with the [openapi] extra (openapi-spec-validator): imported where used
    from typing import Any

    from referencing import Registry
    from referencing._core import Resolver  # the type only; the public API returns it

SOURCE = "openapi"  # openapi-spec-validator and PyYAML come with the [openapi] extra (the command checks)


@dataclass
class Spec:
    """A validated document and a resolver for its `$ref`s."""

    path: str
    version: str  # "2.0", "3.0.3", "3.1.0", ...
    document: dict
    resolver: Resolver

    def deref(self, node: Any, resolver: Resolver | None = None) -> tuple[Any, Resolver]:
        """Follow `$ref` chains; returns the target and the resolver relative to it (other files)."""
        from referencing.exceptions import Unresolvable

        resolver = resolver or self.resolver
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                raise CollectorError(SOURCE, self.path, f"$ref cycle through {ref}")
            seen.add(ref)
            try:
                resolved = resolver.lookup(ref)
            except Unresolvable as exc:
                raise CollectorError(
                    SOURCE, self.path, f"cannot resolve $ref {ref!r}: {_unresolved(exc)}"
                ) from exc
            node, resolver = resolved.contents, resolved.resolver
        return node, resolver


def load_spec(path: str | Path) -> Spec:
    """Read, validate and prepare one spec; any problem is one CollectorError naming the file."""
    from openapi_spec_validator import (
        OpenAPIV2SpecValidator,
        OpenAPIV30SpecValidator,
        OpenAPIV31SpecValidator,
    )

    document = _parse(path, read_text(SOURCE, path))
    version = str(document.get("openapi") or document.get("swagger") or "")
    validators = {
        "2.0": OpenAPIV2SpecValidator,
        "3.0": OpenAPIV30SpecValidator,
        "3.1": OpenAPIV31SpecValidator,
    }
    validator = validators.get(version[:3])
    if validator is None:
        raise CollectorError(
            SOURCE,
            path,
            f"unsupported OpenAPI version {version!r} (Swagger 2.0 and OpenAPI 3.0/3.1 are read)",
        )
    remote = next(_foreign_refs(document, set()), None)
    if remote:
        raise CollectorError(
            SOURCE, path, f"$ref {remote!r} points to the network; only local files are read"
        )
    base = Path(path).resolve().as_uri()
    resolver = _registry(base, document, path).resolver(base)
    from jsonschema_path import SchemaPath
    from referencing.exceptions import Unresolvable

    schema_path = SchemaPath.from_dict(document, base_uri=base, handlers={"file": _file_handler(path)})
    try:
        error = next(validator(schema_path).iter_errors(), None)
    except CollectorError:
        raise
    except Unresolvable as exc:  # a $ref to nowhere (a missing file, a pointer past the document)
        raise CollectorError(SOURCE, path, f"cannot resolve $ref: {_unresolved(exc)}") from exc
    except RecursionError as exc:  # a $ref cycle the validator follows, or nesting past its depth
        raise CollectorError(
            SOURCE, path, "$refs or schemas nested too deeply to validate (a $ref cycle?)"
        ) from exc
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # what the validator trips over
        raise CollectorError(
            SOURCE, path, f"not a valid OpenAPI {version} document: {exception_text(exc)}"
        ) from exc
    if error is not None:
        raise CollectorError(
            SOURCE,
            path,
            f"not a valid OpenAPI {version} document: {error.message} ({_where(getattr(error, 'path', ()))})",
        )
    return Spec(str(path), version, document, resolver)


MAX_NODES = 2_000_000  # a document's values counted as its YAML aliases expand them: beyond, a bomb


def _parse(path: str | Path, text: str) -> dict:
    import yaml

    if not text.strip():
        raise CollectorError(SOURCE, path, "empty file")
    budget = current_limits().max_decoded
    try:
        if text.lstrip().startswith("{"):
            within_budget(text, budget, "the document")
            document = json.loads(text)
        else:
            document = load_yaml(text, budget)
    except Invalid as exc:
        raise CollectorError(SOURCE, path, str(exc)) from exc
    except (yaml.YAMLError, ValueError, RecursionError) as exc:  # also 5 000-digit numbers, deep nesting
        raise CollectorError(SOURCE, path, f"neither JSON nor YAML: {exception_text(exc)}") from exc
    if not isinstance(document, dict) or not ("openapi" in document or "swagger" in document):
        raise CollectorError(
            SOURCE, path, "not an OpenAPI document (no top-level 'openapi' or 'swagger' key)"
        )
    try:
        size = _expanded_size(document, {})
        _keys_as_text(document, set())
    except RecursionError as exc:
        raise CollectorError(SOURCE, path, "values nested too deeply to read") from exc
    if size > MAX_NODES:
        raise CollectorError(SOURCE, path, f"YAML aliases expand the document to {size:,} values (at most "
                             f"{MAX_NODES:,} are read): an alias bomb?")  # fmt: skip
    return document


# collections inside one another, as libyaml 0.2.5 allows: 100 000 levels took an older libyaml a minute
MAX_DEPTH = 1000
_MERGE = object()  # the key `<<`: the mappings under it are merged into the one it is in
_NO_KEY = object()
_PLAIN = (None, "!", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map")


def load_yaml(text: str, budget: int) -> Any:
    """`yaml.safe_load(text)`, built from the parser's events rather than from its node graph: PyYAML
    composes every node of the document, each with two position marks, before it constructs anything
    (a 4 MB spec of 750 000 values took 465 MB with libyaml, 660 MB without). Here only the values are
    held, and what they take is counted as they are built with `decoded_size`'s weights, so a document
    past `budget` is refused as a JSON one is. Scalars are resolved and constructed by PyYAML's own
    safe resolver and constructors; anchors, aliases and `<<` merge keys are kept; collection tags other
    than the plain ones (!!set, !!omap, custom) are refused: no OpenAPI document uses them."""
    import yaml
    from yaml import events

    # libyaml when PyYAML was built with it; fed in pieces, or it would hold a UTF-8 copy of the whole text
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(_Pieces(text))
    anchors: dict[str, Any] = {}
    frames: list[list[Any]] = []  # [container, pending key, merged values] per open collection
    documents: list[Any] = []
    cost = 0
    try:
        while not isinstance(event := loader.get_event(), events.StreamEndEvent):
            if isinstance(event, events.ScalarEvent):
                at_key = bool(frames) and frames[-1][1] is _NO_KEY and type(frames[-1][0]) is dict
                value: Any = _scalar(loader, event, at_key)
                cost += 104 + len(event.value)  # a slot, a str (or a number) and its text
            elif isinstance(event, events.AliasEvent):
                if event.anchor not in anchors:
                    raise yaml.composer.ComposerError(
                        None, None, f"found undefined alias {event.anchor!r}", event.start_mark
                    )
                value, cost = anchors[event.anchor], cost + 40
            elif isinstance(event, events.SequenceStartEvent | events.MappingStartEvent):
                if event.tag not in _PLAIN:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"the tag {event.tag} is not read in an OpenAPI document",
                        event.start_mark,
                    )
                container: Any = [] if isinstance(event, events.SequenceStartEvent) else {}
                if event.anchor is not None:
                    anchors[event.anchor] = container
                if len(frames) == MAX_DEPTH:  # libyaml before 0.2.5 scans each level in time linear in depth
                    raise Invalid(
                        f"values nested more than {MAX_DEPTH} deep (at line {event.start_mark.line + 1})"
                    )
                frames.append([container, _NO_KEY, []])
                cost += 40 + (64 if isinstance(container, list) else 184)  # as decoded_size counts
                continue
            elif isinstance(event, events.SequenceEndEvent | events.MappingEndEvent):
                value, _, merged = frames.pop()
                _merge(value, merged)
            elif isinstance(event, events.DocumentStartEvent) and documents:
                raise yaml.composer.ComposerError(
                    "expected a single document in the stream",
                    None,
                    "but found another document",
                    event.start_mark,
                )
            else:
                continue
            if cost > budget:
                raise too_large(budget, f"the document (at line {event.start_mark.line + 1})")
            if getattr(event, "anchor", None) is not None and not isinstance(value, dict | list):
                anchors[event.anchor] = value
            if frames:
                _put(frames[-1], value, event)
            else:
                documents.append(value)
    finally:
        loader.dispose()
    return documents[0] if documents else None


def _scalar(loader: Any, event: Any, at_key: bool) -> Any:
    """A scalar's value as PyYAML's safe constructors make it (its tag resolved as safe_load resolves
    it); `_MERGE` for a `<<` key."""
    from yaml.nodes import ScalarNode

    tag = event.tag
    if tag in (None, "!"):
        tag = loader.resolve(ScalarNode, event.value, event.implicit)
    if at_key and tag == "tag:yaml.org,2002:merge":
        return _MERGE
    construct = loader.yaml_constructors.get(tag) or loader.yaml_constructors[None]  # None: undefined tag
    return construct(loader, ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style))


def _put(frame: list[Any], value: Any, event: Any) -> None:
    """`value` into the open collection `frame` ([container, pending key, merged values]): a list's
    next element, a mapping's next key, or the value of its pending key."""
    import yaml

    container, key = frame[0], frame[1]
    if isinstance(container, list):
        container.append(value)
    elif key is _NO_KEY:
        frame[1] = value
    else:
        frame[1] = _NO_KEY
        if key is _MERGE:
            frame[2].append(value)
            return
        try:
            container[key] = value
        except TypeError:  # a mapping or a list as a key
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", None, "found unhashable key", event.start_mark
            ) from None


class _Pieces:
    """A text read as a stream, a piece at a time (what YAML loaders ask of a file)."""

    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def read(self, size: int = -1) -> str:
        end = len(self.text) if size < 0 else self.pos + size
        piece, self.pos = self.text[self.pos : end], min(end, len(self.text))
        return piece


def _merge(mapping: Any, merged: list[Any]) -> None:
    """`<<: *base` (or `<<: [*a, *b]`): the keys of the merged mappings the mapping does not set itself,
    the first merged mapping winning, as PyYAML merges them."""
    import yaml

    for value in merged:
        for source in value if isinstance(value, list) else [value]:
            if not isinstance(source, dict):
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    None,
                    "expected a mapping or list of mappings for merging",
                    None,
                )
            for key, item in source.items():
                mapping.setdefault(key, item)


def _expanded_size(node: Any, sizes: dict[int, int]) -> int:
    """How many values the document holds with every YAML alias expanded, counted once per distinct
    object (shared by an alias): linear in the file, however far the aliases would expand."""
    if not isinstance(node, dict | list):
        return 1
    if (known := sizes.get(id(node))) is not None:
        return known
    sizes[id(node)] = 1  # a cycle (a recursive alias) counts once
    children = node.values() if isinstance(node, dict) else node
    total = 1 + sum(_expanded_size(child, sizes) for child in children)
    sizes[id(node)] = total
    return total


def _keys_as_text(node: Any, done: set[int]) -> None:
    """YAML reads `200:` as the number 200; OpenAPI's keys (status codes above all) are text, as every
    OpenAPI tool reads them. In place, each shared object once."""
    if not isinstance(node, dict | list) or id(node) in done:
        return
    done.add(id(node))
    if isinstance(node, dict):
        if any(not isinstance(key, str) for key in node):
            items = [(k if isinstance(k, str) else str(k).lower() if isinstance(k, bool) else str(k), v)
                     for k, v in node.items()]  # fmt: skip
            node.clear()
            node.update(items)
        children = node.values()
    else:
        children = node
    for child in children:
        _keys_as_text(child, done)


def _unresolved(exc: BaseException) -> str:
    """referencing's reason without the whole document it quotes after "does not exist within"."""
    return exception_text(exc).split(" within {")[0]


def _where(parts: Iterable[object]) -> str:
    """The offending place as a JSON pointer (RFC 6901), so a path key such as `/a` stays one step."""
    steps = [str(part).replace("~", "~0").replace("/", "~1") for part in parts]
    return f"at #/{'/'.join(steps)}" if steps else "at the top level"


def _foreign_refs(node: Any, done: set[int]) -> Iterator[str]:
    """$refs that would leave the machine: any scheme but a file's, or a host (`//host/x.json`). An
    allow-list: a resolver would hand ftp:, urn: and the like to urllib, which waits on the network."""
    if not isinstance(node, dict | list) or id(node) in done:
        return
    done.add(id(node))
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            parts = urlsplit(ref)
            if parts.scheme not in ("", "file") or parts.netloc not in ("", "localhost"):
                yield ref
        children = node.values()
    else:
        children = node
    for value in children:
        yield from _foreign_refs(value, done)


def _load_file(uri: str, spec_path: str | Path) -> Any:
    parts = urlsplit(uri)
    if parts.scheme != "file":
        raise CollectorError(
            SOURCE, spec_path, f"$ref {uri!r} points to the network; only local files are read"
        )
    return _parse_fragment(Path(url2pathname(parts.path)), spec_path)


def _parse_fragment(file: Path, spec_path: str | Path) -> Any:
    """A file another file refers to: any JSON/YAML value (a schema, a parameter...), not a whole spec."""
    import yaml

    try:
        return load_yaml(read_text(SOURCE, file), current_limits().max_decoded)
    except Invalid as exc:
        raise CollectorError(SOURCE, spec_path, f"{file}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise CollectorError(SOURCE, spec_path, f"{file}: neither JSON nor YAML: {exc}") from exc


def _registry(base: str, document: dict, spec_path: str | Path) -> Registry:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    def retrieve(uri: str) -> Resource:
        return Resource.from_contents(_load_file(uri, spec_path), default_specification=DRAFT202012)

    return Registry(retrieve=retrieve).with_resource(  # type: ignore[call-arg]
        base, Resource.from_contents(document, default_specification=DRAFT202012)
    )


def _file_handler(spec_path: str | Path):
    """The validator's handler for file refs: the same local-only loading as ours."""
    return lambda uri: _load_file(uri, spec_path)
