"""NCMEC's report schema, loaded once, and validation against it.

Used by the report builder (before anything is sent) and by the local CyberTipline server, so
this module imports nothing from Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

XSD_PATH = Path(__file__).with_name("cyber_tipline.xsd")


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_PATH), parser=safe_parser()))


def safe_parser() -> etree.XMLParser:
    """A parser for documents from elsewhere: no entities, no network, no huge trees."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass(frozen=True)
class SchemaError:
    path: str  # e.g. /report/personOrUserReported/estimatedLocation/countryCode
    element: str
    message: str  # lxml's own words

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def validate(document: bytes, *, root: str | None = None) -> list[SchemaError]:
    """Every way ``document`` breaks the schema (empty when it is valid). ``root`` names the
    element the document must be (``report``, ``fileDetails``)."""
    try:
        tree = etree.fromstring(document, parser=safe_parser())
    except etree.XMLSyntaxError as exc:
        return [SchemaError("/", "", f"not well-formed XML: {exc}")]
    if root is not None and tree.tag != root:
        return [SchemaError("/", str(tree.tag), f"the root element is <{tree.tag}>, not <{root}>")]
    xsd = schema()
    if xsd.validate(tree):
        return []
    out = []
    for error in xsd.error_log:
        element = error.path.rsplit("/", 1)[-1] if error.path else ""
        out.append(SchemaError(error.path or "/", element, error.message))
    return out
