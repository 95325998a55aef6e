"""PDF rendering for the referral package (fpdf2, pure Python).

The font is DejaVu Sans, shipped in ``fonts/`` with its licence (Bitstream Vera licence,
DejaVu changes in the public domain: it may be redistributed), so the PDFs look the same on
every machine and show Latin, Greek, Cyrillic, Armenian, Georgian, Hebrew and Arabic letters
and many symbols. A character the font cannot draw (CJK, most emoji) is printed as U+FFFD
"�" instead of being dropped silently; ``ARTEMIS_PACKAGE_FALLBACK_FONT`` may name one more
TTF (a Noto CJK font, say) to draw those too. The PDFs are reading copies: the exact text is
in ``transcript.json`` and ``transcript.csv``. Right-to-left scripts are drawn letter by
letter, unshaped.

Replacing what the font lacks before fpdf2 sees it also keeps fpdf2 from logging the missing
characters, which would put fragments of chat text in the logs.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import XPos, YPos

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR = FONT_DIR / "DejaVuSans.ttf"
BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
REPLACEMENT = "\ufffd"


@lru_cache(maxsize=8)
def _codepoints(path: str) -> frozenset[int]:
    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())


def _fallback_font() -> str:
    path = getattr(settings, "ARTEMIS_PACKAGE_FALLBACK_FONT", "")
    return path if path and Path(path).is_file() else ""


@lru_cache(maxsize=4)
def _covered(fallback: str) -> frozenset[int]:
    covered = _codepoints(str(REGULAR)) & _codepoints(str(BOLD))
    return covered | _codepoints(fallback) if fallback else covered


def drawable(text: str) -> str:
    """``text`` with every character the fonts cannot draw replaced by U+FFFD, and control
    characters (other than newline and tab) dropped."""
    covered = _covered(_fallback_font())
    out = []
    for ch in text:
        if ch in "\n\t":
            out.append(ch)
        elif unicodedata.category(ch) in ("Cc", "Cs"):
            continue
        elif ord(ch) in covered:
            out.append(ch)
        else:
            out.append(REPLACEMENT)
    return "".join(out)


@dataclass(frozen=True)
class Field:
    label: str
    value: str


class Document(FPDF):
    """An A4 page with a running header (the case reference and the document's name) and a
    footer (page n of N, how to check the package)."""

    def __init__(self, *, title: str, reference: str, generated_at: datetime) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.doc_title = title
        self.reference = reference
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(auto=True, margin=18)
        self.add_font("DejaVu", "", str(REGULAR))
        self.add_font("DejaVu", "B", str(BOLD))
        fallback = _fallback_font()
        if fallback:
            self.add_font("Fallback", "", fallback)
            self.set_fallback_fonts(["Fallback"])
        self.set_title(f"{title}: {reference}")
        self.set_author("Artemis")
        self.set_creator("Artemis referral package")
        self.set_creation_date(generated_at)
        self.alias_nb_pages()
        self._widths: dict[tuple[str, str, float], dict[str, float]] = {}
        self.add_page()

    # fpdf2 hooks -----------------------------------------------------------------------------
    def header(self) -> None:
        self.set_font("DejaVu", "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, drawable(f"{self.reference} · {self.doc_title}"), align="L")
        self.cell(0, 5, "Confidential: law-enforcement sensitive", align="R")
        self.ln(8)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font("DejaVu", "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(
            0,
            5,
            f"Page {self.page_no()} of {{nb}} · check this file against manifest.json "
            "(README.txt says how)",
            align="C",
        )
        self.set_text_color(0, 0, 0)

    # building blocks -------------------------------------------------------------------------
    def h1(self, text: str) -> None:
        self.set_font("DejaVu", "B", 16)
        self.multi_cell(0, 8, drawable(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def h2(self, text: str) -> None:
        self.ln(2)
        self.set_font("DejaVu", "B", 11)
        self.multi_cell(0, 6, drawable(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def paragraph(self, text: str, *, size: float = 10) -> None:
        self.set_font("DejaVu", "", size)
        self.multi_cell(
            0, size * 0.5, drawable(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        self.ln(1.5)

    def fields(self, rows: list[Field], *, label_width: float = 52) -> None:
        """Label / value rows; values wrap, labels stay in their column."""
        for row in rows:
            if self.get_y() > self.h - 30:
                self.add_page()
            page, y = self.page_no(), self.get_y()
            self.set_font("DejaVu", "B", 9.5)
            self.multi_cell(label_width, 5, drawable(row.label), align="L")
            label_bottom = self.get_y()
            self.set_xy(self.l_margin + label_width, y)
            self.set_font("DejaVu", "", 9.5)
            self.multi_cell(
                0, 5, drawable(row.value or "—"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
            if self.page_no() == page:
                self.set_y(max(self.get_y(), label_bottom))
            self.ln(1)

    def grid(
        self, header: list[str], rows: list[list[str]], widths: list[float], *, size: float = 8.5
    ) -> None:
        """A simple table whose cells wrap; a row is kept on one page."""
        self.set_font("DejaVu", "B", size)
        with self.table(
            col_widths=widths,
            text_align="LEFT",
            line_height=size * 0.53,
            first_row_as_headings=True,
            repeat_headings=1,
        ) as table:
            head = table.row()
            for cell in header:
                head.cell(drawable(cell))
            self.set_font("DejaVu", "", size)
            for values in rows:
                row = table.row()
                for cell in values:
                    row.cell(drawable(cell))
        self.ln(2)

    def message(self, *, heading: str, text: str, note: str = "") -> None:
        """One transcript message: a bold line of ids and times, then the text, which may
        run across pages. Wrapped here in linear time: fpdf2's own wrapping re-measures the
        line for every character, which made a 2,000-message transcript take a minute."""
        if self.get_y() > self.h - 35:
            self.add_page()
        self.set_font("DejaVu", "B", 8.5)
        self.set_fill_color(238, 238, 238)
        self._lines(drawable(heading), 4.6, fill=True)
        if note:
            self.set_font("DejaVu", "", 8)
            self.set_text_color(110, 60, 0)
            self._lines(drawable(note), 4.2)
            self.set_text_color(0, 0, 0)
        self.set_font("DejaVu", "", 10)
        self._lines(drawable(text) or " ", 5)
        self.ln(2.5)

    def _lines(self, text: str, height: float, *, fill: bool = False) -> None:
        for line in self.wrap(text, self.epw - 2 * self.c_margin):
            self.cell(0, height, line, fill=fill, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def wrap(self, text: str, width: float) -> list[str]:
        """Break ``text`` into lines no wider than ``width`` (mm) in the current font: at
        spaces where possible, inside a word longer than a line otherwise. Every character
        is measured once (widths are cached per font and size)."""
        cache = self._widths.setdefault((self.font_family, self.font_style, self.font_size), {})

        def w(ch: str) -> float:
            value = cache.get(ch)
            if value is None:
                value = cache[ch] = self.get_string_width(ch)
            return value

        lines: list[str] = []
        for paragraph in text.split("\n"):
            paragraph = paragraph.rstrip(" ")
            line, line_w = "", 0.0
            for word in paragraph.replace("\t", "    ").split(" "):
                word_w = sum(w(ch) for ch in word)
                gap = w(" ") if line else 0.0
                if line and line_w + gap + word_w <= width:
                    line, line_w = f"{line} {word}", line_w + gap + word_w
                    continue
                if line:
                    lines.append(line)
                line, line_w = "", 0.0
                while word_w > width:  # a word longer than a line: break it by characters
                    part, part_w = "", 0.0
                    for ch in word:
                        if part and part_w + w(ch) > width:
                            break
                        part, part_w = part + ch, part_w + w(ch)
                    lines.append(part)
                    word, word_w = word[len(part) :], word_w - part_w
                line, line_w = word, word_w
            lines.append(line)
        return lines

    def render(self) -> bytes:
        return bytes(self.output())
