"""The API's JSON parser: DRF's, with a nesting-depth limit checked before parsing.

Python's json module recurses once per level of nesting, so a body of 100,000 ``[`` raised
RecursionError, a 500. The depth is measured first, without recursion and in linear time:
escapes are dropped (an escaped quote cannot end a string), then strings (brackets inside
them are text), and what is left are the brackets that make the structure.
"""

from __future__ import annotations

import json
import re
from typing import Any

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


class DepthLimitedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = get_encoding(parser_context or {})
        limit = settings.ARTEMIS_MAX_JSON_DEPTH
        try:
            text = stream.read().decode(encoding) if stream is not None else ""
        except UnicodeDecodeError as exc:
            raise ParseError(
                f"JSON parse error - the body is not valid {encoding}: {exc.reason}"
            ) from None
        if nesting_exceeds(text, limit):
            raise ParseError(
                f"JSON nested too deeply: at most {limit} levels of arrays and objects "
                "(a valid request needs 7)."
            )
        try:
            return json.loads(text, parse_constant=strict_constant if self.strict else None)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
