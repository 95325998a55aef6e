"""The API's JSON parser: DRF's, with a nesting-depth limit checked before parsing.

Python's json module recurses once per level of nesting, so a body of 100,000 ``[`` raised
RecursionError, a 500. The depth is measured first, without recursion and in linear time:
escapes are dropped (an escaped quote cannot end a string), then strings (brackets inside
them are text), and what is left are the brackets that make the structure.

A UTF-8 body is parsed with orjson first (a batch of 10,000 messages: about 10 ms against
45 ms for the depth scan and json), which cannot overflow the stack (it refuses past 1,024
levels); the depth of what it returns is then measured in the objects. Anything orjson
refuses, or reads differently from json (an integer past 64 bits, which it turns into a
float), is parsed the way described above, so every refusal keeps json's message.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils.json import strict_constant

_ESCAPE = re.compile(r"\\.", re.DOTALL)
_STRING = re.compile(r'"[^"]*"')
_BRACKET = re.compile(r"[\[\]{}]")
_OPENS = frozenset("[{")


def nesting_exceeds(text: str, limit: int) -> bool:
    """Whether arrays and objects in ``text`` nest deeper than ``limit`` levels. Malformed
    text is left to the parser, which names its problem better."""
    text = _STRING.sub("", _ESCAPE.sub("", text))
    depth = 0
    for match in _BRACKET.finditer(text):
        if match.group() in _OPENS:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


# orjson reads an integer literal past 64 bits as a float: such a float (or a float that big
# written as one) sends the body to json, which keeps the integer.
_FLOAT_EXACT_BELOW = 2.0**63


def _fast_loads(raw: bytes, limit: int) -> tuple[bool, Any]:
    """(True, value) when orjson parses ``raw`` as json would; raises ParseError when it nests
    deeper than ``limit``; (False, None) when json must decide."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return False, None
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if type(node) is dict:
            items = node.values()
        elif type(node) is list:
            items = node
        else:
            if type(node) is float and not -_FLOAT_EXACT_BELOW < node < _FLOAT_EXACT_BELOW:
                return False, None
            continue
        if depth > limit:
            raise _too_deep(limit)
        for item in items:
            if type(item) in _CONTAINERS_AND_FLOATS:
                stack.append((item, depth + 1))
    return True, value


_CONTAINERS_AND_FLOATS = frozenset({dict, list, float})


def _too_deep(limit: int) -> ParseError:
    return ParseError(
        f"JSON nested too deeply: at most {limit} levels of arrays and objects "
        "(a valid request needs 7)."
    )


class DepthLimitedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = get_encoding(parser_context or {})
        limit = settings.ARTEMIS_MAX_JSON_DEPTH
        raw = stream.read() if stream is not None else b""
        if encoding.lower().replace("-", "") == "utf8":
            parsed, value = _fast_loads(raw, limit)
            if parsed:
                return value
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(
                f"JSON parse error - the body is not valid {encoding}: {exc.reason}"
            ) from None
        if nesting_exceeds(text, limit):
            raise _too_deep(limit)
        try:
            return json.loads(text, parse_constant=strict_constant if self.strict else None)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
