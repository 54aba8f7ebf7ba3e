"""The built-in OpenAPI diff: two loaded specs -> classified changes, named after oasdiff's rules.

Each change has oasdiff's rule id and level where oasdiff has that rule: `error` (breaking: a client
that worked against BASE can fail against HEAD), `warning` (may break some clients) and `info`. Only
`error` counts as breaking. One deliberate difference: a security requirement that takes away a way
of calling an operation that BASE accepted (e.g. security added where there was none) is breaking here
(`api-security-added`, level error); oasdiff rates adding a scheme as info.

Operations are matched by method and path template, with path parameter names ignored
(`/users/{id}` is `/users/{user_id}`), as oasdiff does. Request schemas are compared as inputs
(stricter is breaking), response schemas as outputs (looser is breaking).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .base import CollectorError
from .openapi_load import SOURCE, Spec

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: light commands start faster
if TYPE_CHECKING:
    from typing import Any

    from referencing._core import Resolver  # the type only; the public API returns it

ERROR, WARNING, INFO = "error", "warning", "info"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MAX_DEPTH = 40  # recursive schemas (a tree node holding nodes) stop here
MAX_COMPARED = 200_000  # schema pairs one operation may compare (real APIs: a few thousand at most)


@dataclass(frozen=True)
class Change:
    rule: str  # oasdiff's rule id
    level: str  # error | warning | info
    method: str | None  # "GET"; None for document-level changes
    path: str | None  # the path template in HEAD (BASE for removals)
    location: (
        str  # where in the operation, e.g. "parameters.query.org", "responses.200.application/json.email"
    )
    message: str

    @property
    def breaking(self) -> bool:
        return self.level == ERROR


@dataclass
class _Side:
    spec: Spec
    node: Any
    resolver: Resolver

    def deref(self, node: Any) -> _Side:
        target, resolver = self.spec.deref(node, self.resolver)
        return _Side(self.spec, target, resolver)

    def get(self, key: str) -> _Side | None:
        if not isinstance(self.node, dict) or key not in self.node:
            return None
        return self.deref(self.node[key])


def diff_specs(base: Spec, head: Spec) -> list[Change]:
    """Every change from BASE to HEAD, in path, method and location order."""
    out: list[Change] = []
    base_ops, head_ops = _operations(base), _operations(head)
    base_paths = {key[0] for key in base_ops}
    head_paths = {key[0] for key in head_ops}
    for key in sorted(base_ops.keys() | head_ops.keys()):
        template, method = key
        if key not in head_ops:
            path, side = base_ops[key]
            deprecated = bool(side.node.get("deprecated"))
            whole_path = template not in head_paths
            rule = ("api-path-removed" if whole_path else "api-removed") + (
                "-with-deprecation" if deprecated else "-without-deprecation"
            )
            what = "path" if whole_path else "operation"
            out.append(Change(rule, INFO if deprecated else ERROR, method.upper(), path, "",
                              f"{what} removed{' (it was deprecated)' if deprecated else ''}"))  # fmt: skip
        elif key not in base_ops:
            path, _ = head_ops[key]
            new_path = template not in base_paths
            out.append(Change("endpoint-added", INFO, method.upper(), path, "",
                              "path added" if new_path else "operation added"))  # fmt: skip
        else:
            out += _OperationDiff(base_ops[key], head_ops[key], method.upper(), base, head).run()
    return out


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def _operations(spec: Spec) -> dict[tuple[str, str], tuple[str, _Side]]:
    """(normalised template, method) -> (path as written, operation with the path's parameters merged)."""
    root = _Side(spec, spec.document, spec.resolver)
    paths = root.get("paths")
    ops: dict[tuple[str, str], tuple[str, _Side]] = {}
    if paths is None or not isinstance(paths.node, dict):
        return ops
    for path in paths.node:
        item = paths.get(path)
        if item is None or not isinstance(item.node, dict):
            continue
        shared = item.node.get("parameters") or []
        for method in METHODS:
            op = item.get(method)
            if op is not None and isinstance(op.node, dict):
                merged = {**op.node, "parameters": _merge_params(item, shared, op)}
                ops[(_template(path), method)] = (path, _Side(spec, merged, op.resolver))
    return ops


def _merge_params(item: _Side, shared: list, op: _Side) -> list[_Side]:
    """Path-level parameters, overridden by operation-level ones of the same name and location."""
    params: dict[tuple[str, str], _Side] = {}
    for source, raw in ((item, shared), (op, op.node.get("parameters") or [])):
        for p in raw:
            side = source.deref(p)
            if isinstance(side.node, dict) and "name" in side.node:
                params[(side.node.get("in", ""), side.node["name"])] = side
    return list(params.values())


def _success(status: str) -> bool:
    return status.startswith("2") or status.upper() == "2XX"


class _OperationDiff:
    def __init__(
        self, base: tuple[str, _Side], head: tuple[str, _Side], method: str, bspec: Spec, hspec: Spec
    ):
        self.path, self.base_path = head[0], base[0]
        self.base, self.head = base[1], head[1]
        self.method = method
        self.specs = (bspec, hspec)
        self.out: list[Change] = []
        self.shapes: dict[int, _Shape] = {}  # schema node -> its shape, each node's worked out once
        self.compared = 0  # schema pairs compared: shared schemas nest, and each path is its own place

    def add(self, rule: str, level: str, location: str, message: str) -> None:
        self.out.append(Change(rule, level, self.method, self.path, location, message))

    def run(self) -> list[Change]:
        if self.head.node.get("deprecated") and not self.base.node.get("deprecated"):
            self.add("endpoint-deprecated", INFO, "", "operation deprecated")
        self._parameters()
        self._request_body()
        self._responses()
        self._security()
        return self.out

    # -- parameters ---------------------------------------------------------------------------------
    def _parameters(self) -> None:
        base = {
            self._key(p, self.base): p for p in self.base.node["parameters"] if p.node.get("in") != "body"
        }
        head = {
            self._key(p, self.head): p for p in self.head.node["parameters"] if p.node.get("in") != "body"
        }
        for key in sorted(base.keys() | head.keys()):
            where, _ = key
            if key not in base:
                p = head[key].node
                name = p["name"]
                if where == "path":
                    self.add("new-request-path-parameter", ERROR, f"parameters.path.{name}",
                             f"added the new path request parameter {name}")  # fmt: skip
                elif p.get("required"):
                    self.add("new-required-request-parameter", ERROR, f"parameters.{where}.{name}",
                             f"added the new required {where} request parameter {name}")  # fmt: skip
                else:
                    self.add("new-optional-request-parameter", INFO, f"parameters.{where}.{name}",
                             f"added the new optional {where} request parameter {name}")  # fmt: skip
            elif key not in head:
                name = base[key].node["name"]
                self.add("request-parameter-removed", WARNING, f"parameters.{where}.{name}",
                         f"deleted the {where} request parameter {name}")  # fmt: skip
            else:
                self._parameter(where, base[key], head[key])

    def _key(self, side: _Side, op: _Side) -> tuple[str, str]:
        where, name = side.node.get("in", ""), side.node["name"]
        if where == "path":  # matched by position in the template: path parameter names are free
            names = re.findall(r"\{([^}]*)\}", self.path if op is self.head else self.base_path)
            return where, f"#{names.index(name)}" if name in names else name
        return where, name.lower() if where == "header" else name

    def _parameter(self, where: str, base: _Side, head: _Side) -> None:
        name = head.node["name"]
        loc = f"parameters.{where}.{name}"
        if head.node.get("required") and not base.node.get("required"):
            self.add(
                "request-parameter-became-required",
                ERROR,
                loc,
                f"the {where} request parameter {name} became required",
            )
        elif base.node.get("required") and not head.node.get("required") and where != "path":
            self.add(
                "request-parameter-became-optional",
                INFO,
                loc,
                f"the {where} request parameter {name} became optional",
            )
        bschema, hschema = _param_schema(base), _param_schema(head)
        b, h = _Shape.of(bschema, memo=self.shapes), _Shape.of(hschema, memo=self.shapes)
        self._types(b, h, "request", loc, f"the {where} request parameter {name}", param=True)
        self._enum(b, h, "request", loc, f"the {where} request parameter {name}", param=True)

    # -- request body -------------------------------------------------------------------------------
    def _request_body(self) -> None:
        base, head = _request_body(self.base), _request_body(self.head)
        if base is None and head is None:
            return
        if base is None:
            required = bool(head.node.get("required"))
            self.add("request-body-added-required" if required else "request-body-added-optional",
                     ERROR if required else INFO, "requestBody",
                     f"added {'required' if required else 'optional'} request body")  # fmt: skip
            return
        if head is None:
            self.add("request-body-removed", ERROR, "requestBody", "removed the request body")
            return
        if head.node.get("required") and not base.node.get("required"):
            self.add("request-body-became-required", ERROR, "requestBody", "request body became required")
        elif base.node.get("required") and not head.node.get("required"):
            self.add("request-body-became-optional", INFO, "requestBody", "request body became optional")
        self._media_types(base, head, "request-body", "requestBody", ("from", "to", "the request body"))

    # -- responses ----------------------------------------------------------------------------------
    def _responses(self) -> None:
        base, head = self.base.get("responses"), self.head.get("responses")
        bcodes = {str(k): k for k in (base.node if base and isinstance(base.node, dict) else {})}
        hcodes = {str(k): k for k in (head.node if head and isinstance(head.node, dict) else {})}
        for status in sorted(bcodes.keys() - hcodes.keys()):
            if _success(status):
                self.add("response-success-status-removed", ERROR, f"responses.{status}",
                         f"removed the success response with the status {status}")  # fmt: skip
            else:
                self.add("response-non-success-status-removed", INFO, f"responses.{status}",
                         f"removed the non-success response with the status {status}")  # fmt: skip
        for status in sorted(hcodes.keys() - bcodes.keys()):
            success = _success(status)
            self.add("response-success-status-added" if success else "response-non-success-status-added", INFO,
                     f"responses.{status}", f"added the {'success' if success else 'non-success'} response "
                     f"with the status {status}")  # fmt: skip
        for status in sorted(bcodes.keys() & hcodes.keys()):
            bresp, hresp = base.get(bcodes[status]), head.get(hcodes[status])
            if bresp is None or hresp is None:
                continue
            self._media_types(bresp, hresp, "response", f"responses.{status}",
                              ("for", "for", f"the response with the status {status}"), status)  # fmt: skip

    def _media_types(self, base: _Side, head: _Side, rule: str, loc: str, words: tuple[str, str, str],
                     status: str = "") -> None:  # fmt: skip
        """Media types removed (breaking) and added, then the schemas of those on both sides.
        `words`: the prepositions for removed/added and what the media types belong to."""
        removed_from, added_to, whose = words
        bmedia, hmedia = _media(base), _media(head)
        for media in sorted(bmedia.keys() - hmedia.keys()):
            self.add(f"{rule}-media-type-removed", ERROR, f"{loc}.{media}",
                     f"removed the media type {media} {removed_from} {whose}")  # fmt: skip
        for media in sorted(hmedia.keys() - bmedia.keys()):
            self.add(f"{rule}-media-type-added", INFO, f"{loc}.{media}",
                     f"added the media type {media} {added_to} {whose}")  # fmt: skip
        for media in sorted(bmedia.keys() & hmedia.keys()):
            if bmedia[media] is not None and hmedia[media] is not None:
                direction = "response" if rule == "response" else "request"
                self._schema(
                    bmedia[media], hmedia[media], direction, f"{loc}.{media}", "", set(), 0, status=status
                )

    # -- schemas ------------------------------------------------------------------------------------
    def _schema(self, base: _Side, head: _Side, direction: str, loc: str, prop: str, seen: set, depth: int,
                status: str = "") -> None:  # fmt: skip
        pair = (id(base.node), id(head.node))
        if pair in seen or depth > _MAX_DEPTH:
            return
        self.compared += 1
        if self.compared > MAX_COMPARED:  # 3 properties that each $ref the schema below, 30 deep: 3^30 places
            raise CollectorError(SOURCE, self.specs[1].path, f"{self.method} {self.path}: its schemas nest shared "
                                 f"schemas into more than {MAX_COMPARED:,} places to compare; not diffed")  # fmt: skip
        seen = seen | {pair}
        b, h = _Shape.of(base, memo=self.shapes), _Shape.of(head, memo=self.shapes)
        what = f"the {direction} property {prop}" if prop else f"the {direction} body"
        where = f"{loc}.{prop}" if prop else loc
        self._types(b, h, direction, where, what, prop=prop, status=status)
        self._enum(b, h, direction, where, what, prop=prop, status=status)
        for name in sorted(b.properties.keys() | h.properties.keys()):
            child = f"{prop}.{name}" if prop else name
            child_loc = f"{loc}.{child}"
            if name not in h.properties:
                self._property_removed(direction, child_loc, child, name in b.required, status)
            elif name not in b.properties:
                self._property_added(
                    direction, child_loc, child, name in h.required, h.properties[name], status
                )
            else:
                self._required(direction, child_loc, child, name in b.required, name in h.required, status,
                               h.properties[name])  # fmt: skip
                self._schema(
                    b.properties[name], h.properties[name], direction, loc, child, seen, depth + 1, status
                )
        for part, sub in (("items", "[]"), ("additional", "additionalProperties")):
            bs, hs = getattr(b, part), getattr(h, part)
            if bs is not None and hs is not None:
                child = (f"{prop}{sub}" if sub == "[]" else f"{prop}.{sub}") if prop else sub
                self._schema(bs, hs, direction, loc, child, seen, depth + 1, status)

    def _property_removed(self, direction: str, loc: str, prop: str, required: bool, status: str) -> None:
        if direction == "request":
            self.add("request-property-removed", WARNING, loc, f"removed the request property {prop}")
        elif required:
            self.add("response-required-property-removed", ERROR, loc,
                     f"removed the required property {prop} from the response with the {status} status")  # fmt: skip
        else:
            self.add("response-optional-property-removed", WARNING, loc,
                     f"removed the optional property {prop} from the response with the {status} status")  # fmt: skip

    def _property_added(self, direction: str, loc: str, prop: str, required: bool, schema: _Side,
                        status: str) -> None:  # fmt: skip
        if direction == "request":
            if required and not _read_only(schema):
                self.add(
                    "new-required-request-property",
                    ERROR,
                    loc,
                    f"added the new required request property {prop}",
                )
            else:
                self.add(
                    "new-optional-request-property",
                    INFO,
                    loc,
                    f"added the new optional request property {prop}",
                )
        else:
            kind = "required" if required else "optional"
            self.add(f"response-{kind}-property-added", INFO, loc,
                     f"added the {kind} property {prop} to the response with the {status} status")  # fmt: skip

    def _required(self, direction: str, loc: str, prop: str, before: bool, now: bool, status: str,
                  schema: _Side) -> None:  # fmt: skip
        if before == now:
            return
        if direction == "request":
            if now and not _read_only(schema):
                self.add(
                    "request-property-became-required",
                    ERROR,
                    loc,
                    f"the request property {prop} became required",
                )
            elif not now:
                self.add(
                    "request-property-became-optional",
                    INFO,
                    loc,
                    f"the request property {prop} became optional",
                )
        elif not now and not _write_only(schema):
            self.add("response-property-became-optional", ERROR, loc,
                     f"the response property {prop} became optional for the status {status}")  # fmt: skip
        elif now:
            self.add("response-property-became-required", INFO, loc,
                     f"the response property {prop} became required for the status {status}")  # fmt: skip

    def _types(self, b: _Shape, h: _Shape, direction: str, loc: str, what: str, *, param: bool = False,
               prop: str = "", status: str = "") -> None:  # fmt: skip
        if not b.types or not h.types or b.types == h.types:
            return
        kind = "parameter" if param else ("property" if prop else "body")
        before, after = _show_types(b.types), _show_types(h.types)
        wider = _covers(h.types, b.types)
        narrower = _covers(b.types, h.types)
        if direction == "request" and wider:
            self.add(
                f"request-{kind}-type-generalized",
                INFO,
                loc,
                f"{what}: type widened from {before} to {after}",
            )
        elif direction == "response" and narrower:
            return  # a response that promises less variety cannot surprise a client
        elif kind != "parameter" and b.types ^ h.types == {"null"}:  # only the nullability changed
            # oasdiff's ids: a request that no longer takes null, a response that may now return it
            became = "became-not-nullable" if direction == "request" else "became-nullable"
            suffix = f" for status {status}" if status else ""
            self.add(
                f"{direction}-{kind}-{became}",
                ERROR,
                loc,
                f"{what}: "
                + ("no longer accepts null" if direction == "request" else "may now be null")
                + suffix,
            )
        else:
            rule = f"{direction}-{kind}-type-changed"
            suffix = f" for status {status}" if status else ""
            self.add(rule, ERROR, loc, f"{what}: type changed from {before} to {after}{suffix}")

    def _enum(self, b: _Shape, h: _Shape, direction: str, loc: str, what: str, *, param: bool = False,
              prop: str = "", status: str = "") -> None:  # fmt: skip
        if b.enum is None or h.enum is None:
            if b.enum is None and h.enum is not None and direction == "request":
                kind = "parameter" if param else ("property" if prop else "body")
                self.add(
                    f"request-{kind}-became-enum", ERROR, loc, f"{what} became an enum of {_values(h.enum)}"
                )
            return
        removed = [v for v in b.enum if v not in h.enum]
        added = [v for v in h.enum if v not in b.enum]
        kind = "parameter" if param else ("property" if prop else "body")
        if direction == "request":
            if removed:
                self.add(
                    f"request-{kind}-enum-value-removed",
                    ERROR,
                    loc,
                    f"removed the enum value {_values(removed)} of {what}",
                )
            if added:
                self.add(
                    f"request-{kind}-enum-value-added",
                    INFO,
                    loc,
                    f"added the enum value {_values(added)} to {what}",
                )
        else:
            if added:
                self.add(f"response-{kind}-enum-value-added", WARNING, loc,
                         f"added the enum value {_values(added)} to {what} for the response status {status}")  # fmt: skip
            if removed:
                self.add(
                    f"response-{kind}-enum-value-removed",
                    INFO,
                    loc,
                    f"removed the enum value {_values(removed)} of {what}",
                )

    # -- security -----------------------------------------------------------------------------------
    def _security(self) -> None:
        base = _requirements(self.base.node, self.specs[0].document)
        head = _requirements(self.head.node, self.specs[1].document)
        # a client that met a BASE alternative still gets in when some HEAD alternative asks for no more
        lost = {r for r in base if not any(n <= r for n in head)}
        level = ERROR if lost else INFO
        for gained in sorted(head - base, key=sorted):
            self.add("api-security-added", level, "security",
                     f"the security requirement {_scheme(gained)} was added; BASE accepted {_schemes(base)}")  # fmt: skip
        if lost and not head - base:
            for gone in sorted(lost, key=sorted):
                self.add("api-security-removed", ERROR, "security",
                         f"the security alternative {_scheme(gone)} was removed; HEAD accepts {_schemes(head)}")  # fmt: skip
        elif not lost:
            for gone in sorted(base - head, key=sorted):
                self.add("api-security-removed", INFO, "security",
                         f"the security requirement {_scheme(gone)} was removed")  # fmt: skip


@dataclass
class _Shape:
    """The parts of a schema the diff compares, with allOf merged and a nullable anyOf/oneOf unwrapped."""

    types: frozenset[str] = frozenset()
    properties: dict[str, _Side] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    enum: list | None = None
    items: _Side | None = None
    additional: _Side | None = None

    @classmethod
    def of(cls, side: _Side | None, depth: int = 0, memo: dict[int, _Shape] | None = None) -> _Shape:
        """`memo` (node id -> shape) works each node out once: an anyOf of 8 $refs to itself would
        otherwise be 8^10 calls; a node met again while it is being worked out is an empty shape."""
        shape = cls()
        if side is None or not isinstance(side.node, dict) or depth > 10:
            return shape
        memo = {} if memo is None else memo
        if (known := memo.get(id(side.node))) is not None:
            return known
        memo[id(side.node)] = shape
        node = side.node
        types = node.get("type")
        types = set(types) if isinstance(types, list) else ({types} if isinstance(types, str) else set())
        if node.get("nullable") is True and types:
            types.add("null")
        for part in node.get("allOf") or []:
            sub = cls.of(side.deref(part), depth + 1, memo)
            types |= sub.types
            shape.properties.update(sub.properties)
            shape.required |= sub.required
            shape.items = shape.items or sub.items
        variants = [
            cls.of(side.deref(v), depth + 1, memo) for v in (node.get("anyOf") or node.get("oneOf") or [])
        ]
        if variants:
            real = [v for v in variants if v.types != {"null"}]
            if len(real) < len(variants):
                types.add("null")
            if len(real) == 1:  # `X | None`: the shape of X, nullable
                only = real[0]
                types |= only.types
                shape.properties.update(only.properties)
                shape.required |= only.required
                shape.enum, shape.items, shape.additional = only.enum, only.items, only.additional
            else:
                for v in real:
                    types |= v.types
        props = side.get("properties")
        if props is not None and isinstance(props.node, dict):
            for name in props.node:
                shape.properties[name] = props.get(name)
        shape.required |= set(node.get("required") or []) if isinstance(node.get("required"), list) else set()
        if "enum" in node and isinstance(node["enum"], list):
            shape.enum = list(node["enum"])
        elif "const" in node:
            shape.enum = [node["const"]]
        if node.get("items") is not None and isinstance(node["items"], dict):
            shape.items = side.get("items")
        if isinstance(node.get("additionalProperties"), dict):
            shape.additional = side.get("additionalProperties")
        if not types and shape.properties:
            types.add("object")
        real = types - {"null"}
        if isinstance(node.get("format"), str) and len(real) == 1:  # int32 vs int64 are part of the type
            types = {f"{next(iter(real))}/{node['format']}"} | (types & {"null"})  # nullable or not
        shape.types = frozenset(types)
        return shape


# oasdiff's format lattice (checker `isFormatContained`): the formats whose values a format's values fit
_WIDER_FORMATS = {"number/float": ("double",), "integer/int32": ("int64", "bigint"),
                  "integer/int64": ("bigint",), "string/date": ("date-time",), "string/time": ("date-time",)}  # fmt: skip


def _covers(wide: frozenset[str], narrow: frozenset[str]) -> bool:
    """Every value of a `narrow` type is a valid value of some `wide` type (integer fits number, int32
    fits int64, a format fits its absence)."""

    def base(t: str) -> str:
        return t.split("/", 1)[0]

    def fits(t: str) -> bool:
        wider = {f"{base(t)}/{f}" for f in _WIDER_FORMATS.get(t, ())}
        return (
            t in wide
            or base(t) in wide
            or bool(wider & wide)
            or (base(t) == "integer" and "number" in {base(w) for w in wide})
        )

    return all(fits(t) for t in narrow)


def _show_types(types: frozenset[str]) -> str:
    return " | ".join(sorted(types))


def _values(values: list) -> str:
    return ", ".join(repr(v) for v in values)


def _read_only(side: _Side) -> bool:
    return isinstance(side.node, dict) and side.node.get("readOnly") is True


def _write_only(side: _Side) -> bool:
    return isinstance(side.node, dict) and side.node.get("writeOnly") is True


def _param_schema(param: _Side) -> _Side:
    """OpenAPI 3: the parameter's `schema`; Swagger 2.0: the parameter itself holds type/format/enum."""
    schema = param.get("schema")
    if schema is not None:
        return schema
    content = param.get("content")
    if content is not None and isinstance(content.node, dict) and content.node:
        media = content.get(next(iter(content.node)))
        if media is not None and media.get("schema") is not None:
            return media.get("schema")
    return param


def _request_body(op: _Side) -> _Side | None:
    """OpenAPI 3 `requestBody`; Swagger 2.0's `in: body` parameter as an equivalent body."""
    body = op.get("requestBody")
    if body is not None:
        return body
    for p in op.node.get("parameters") or []:
        if isinstance(p, _Side) and p.node.get("in") == "body":
            consumes = op.node.get("consumes") or op.spec.document.get("consumes") or ["application/json"]
            node = {"required": p.node.get("required", False),
                    "content": {m: {"schema": p.node.get("schema", {})} for m in consumes}}  # fmt: skip
            return _Side(p.spec, node, p.resolver)
    return None


def _media(holder: _Side) -> dict[str, _Side | None]:
    """media type -> schema of a request body or response (Swagger 2.0: one schema, any media type)."""
    content = holder.get("content")
    if content is not None and isinstance(content.node, dict):
        out: dict[str, _Side | None] = {}
        for media in content.node:
            entry = content.get(media)
            out[media] = entry.get("schema") if entry is not None else None
        return out
    schema = holder.get("schema")
    return {"*/*": schema} if schema is not None else {}


def _requirements(op: dict, document: dict) -> set[frozenset[str]]:
    """The alternatives a client may satisfy: each a set of scheme names; {} = no credentials needed."""
    raw = op["security"] if "security" in op else document.get("security")
    if not raw:
        return {frozenset()}
    return {frozenset(req) for req in raw if isinstance(req, dict)}


def _scheme(requirement: frozenset[str]) -> str:
    return " + ".join(sorted(requirement)) or "(none)"


def _schemes(requirements: set[frozenset[str]]) -> str:
    return " or ".join(_scheme(r) for r in sorted(requirements, key=sorted))
