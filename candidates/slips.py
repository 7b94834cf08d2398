"""Printable login slips ('inlogbriefjes'): an A4 PDF with ten slips a page to cut apart.

A pure function of its input: no database, no files written. The caller produces the PDF
in the response of the request that generated the passwords, so plaintext passwords are
never stored. Both the bulk actions here and the import wizard use it.

Fonts: DejaVu (Bitstream Vera licence, see fonts/LICENSE-DejaVu.txt) ships with the app, because
the PDF core fonts only know Latin-1 and names such as 'Ayşe Yılmaz' must print correctly on
a machine without system fonts. The monospaced password keeps 'l' and '1' apart on paper.
"""

from __future__ import annotations

import logging
from itertools import groupby
from pathlib import Path

from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.fonts import TTFFont

from .credentials import login_url as default_login_url
from .models import fold

FONT_DIR = Path(__file__).resolve().parent / "fonts"
# fpdf2 subsets fonts with fontTools, which logs every glyph table at INFO into our root log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

PAGE_MARGIN = 10  # mm
COLUMNS, ROWS = 2, 5
PADDING = 5
MIN_FONT_SIZE = 6


def slip_pages(entries: list[dict]) -> list[list[dict]]:
    """The layout: pages of at most ten slips; each group starts on a new page."""
    pages: list[list[dict]] = []
    keyed = sorted(((_sort_key(e), e) for e in entries), key=lambda pair: pair[0])
    for _group, group in groupby(keyed, key=lambda pair: pair[0][0]):
        items = [entry for _key, entry in group]
        per_page = COLUMNS * ROWS
        pages.extend(items[i : i + per_page] for i in range(0, len(items), per_page))
    return pages


def _sort_key(entry: dict) -> tuple[str, str, str]:
    return (
        fold(entry.get("group") or ""),
        fold(entry.get("sort_name") or entry.get("name") or ""),
        entry.get("username", ""),
    )


GREY, BLACK = (90, 90, 90), (0, 0, 0)


class _SlipPDF(FPDF):
    """fpdf2 with a faster way to put many short lines on a page: a slip is ten lines, seven
    of which (labels, the login address, the notice, the class's header) repeat on every slip
    of a document, and an import prints ten thousand slips."""

    def __init__(self) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(PAGE_MARGIN, PAGE_MARGIN, PAGE_MARGIN)
        self.add_font("slip", "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font("slip", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.add_font("slipmono", "", str(FONT_DIR / "DejaVuSansMono.ttf"))
        self.set_creator("Kandidaatbeheer")
        self.set_title(_("Inlogbriefjes"))
        self._fitted: dict[tuple, tuple[float, str]] = {}
        self._encoded: dict[tuple, str] = {}

    def fit(self, width: float, text: str, family: str, style: str, size: float):
        """The font size (and, when even the smallest is too wide, the shortened text) that
        fits `width`. Text width grows linearly with the font size, so one measurement gives
        the size that fits. Lines that repeat are measured once per document."""
        key = (family, style, size, width, text)
        fitted = self._fitted.get(key)
        if fitted is None:
            fitted = self._fitted[key] = self._fit(width, text, family, style, size)
        return fitted

    def _width(self, text: str, family: str, style: str, size: float) -> float:
        # What get_string_width computes for these fonts (no markdown, no shaping, no
        # stretching), without selecting the font first.
        font = self.fonts[family + style]
        if not isinstance(font, TTFFont):
            raise TypeError(font)  # the slips use only the TrueType fonts added above
        return sum(font.cw[ord(c)] for c in text) * size * 0.001 / self.k

    def _fit(self, width: float, text: str, family: str, style: str, size: float):
        measured = self._width(text, family, style, size)
        if measured > width:
            size = max(MIN_FONT_SIZE, size * width / measured)
            if self._width(text, family, style, size) > width:
                while text and self._width(text + "…", family, style, size) > width:
                    text = text[:-1]
                text += "…"
        return size, text

    def lines(self, lines: list[tuple]) -> None:
        """Write lines (color, family, style, size, x, y, text) at their baselines, grouped
        by color and font so each is chosen once per page rather than once per line; `text()`
        draws without cell layout, and a line's glyph codes are worked out once per document."""
        lines.sort(key=lambda line: line[:4])
        chosen = None
        for color, family, style, size, x, y, text in lines:
            if (color, family, style, size) != chosen:
                chosen = (color, family, style, size)
                font, color_op = self._select(color, family, style, size)
            key = (family, style, text)
            encoded = self._encoded.get(key)
            if encoded is None:
                encoded = self._encoded[key] = font.encode_text(self.normalize_text(text))
            # Baseline a little below the top, where cell() used to put it.
            op = f"BT {x * self.k:.2f} {(self.h - y - size * 0.32) * self.k:.2f} Td {encoded} ET"
            self._out(f"q {color_op} {op} Q" if color_op else op)

    def _select(self, color: tuple, family: str, style: str, size: float):
        """Choose the color and font for the lines that follow: the font, and the color
        operator text() would wrap each line in (empty when none is needed)."""
        self.set_text_color(*color)
        self.set_font(family, style, size)
        font, text_color = self.current_font, self.text_color
        if font is None or text_color is None:
            raise ValueError("no font or color")  # both set just above
        if not self.current_font_is_set_on_page:
            self._out(self._set_font_for_page(font, self.font_size_pt))
        colored = self.fill_color != text_color
        return font, text_color.serialize().lower() if colored else ""


def _slip_lines(
    pdf: _SlipPDF, x: float, y: float, w: float, entry: dict, text: dict[str, str]
) -> list[tuple]:
    """The lines of one slip, fitted to its width: (color, family, style, size, x, y, text)."""
    inner_x, inner_w = x + PADDING, w - 2 * PADDING
    line = y + PADDING
    lines = []

    def add(color, lx, ly, width, value, family, style, size):
        size, value = pdf.fit(width, value, family, style, size)
        lines.append((color, family, style, size, lx, ly, value))

    group = entry.get("group") or text["no_group"]
    header = " · ".join(p for p in (entry.get("school", ""), group) if p)
    add(GREY, inner_x, line, inner_w, header, "slip", "", 8)
    line += 5.5
    add(BLACK, inner_x, line, inner_w, entry.get("name") or entry["username"], "slip", "B", 12)
    line += 8
    label_w = 30
    for label, value, size in (
        (text["username"], entry["username"], 11),
        (text["password"], entry["password"], 13),
    ):
        add(BLACK, inner_x, line + 0.8, label_w, label, "slip", "", 8)
        add(BLACK, inner_x + label_w, line, inner_w - label_w, value, "slipmono", "", size)
        line += 7.5
    add(BLACK, inner_x, line + 0.8, label_w, text["login"], "slip", "", 8)
    add(BLACK, inner_x + label_w, line + 0.8, inner_w - label_w, text["url"], "slip", "", 9)
    line += 7
    if entry.get("valid_until"):
        valid = text["valid"] % {"date": entry["valid_until"]}
        add(GREY, inner_x, line, inner_w, valid, "slip", "", 7.5)
        line += 4
    add(GREY, inner_x, line, inner_w, text["notice"], "slip", "", 7.5)
    return lines


def render_login_slips(entries: list[dict], *, login_url: str | None = None) -> bytes:
    """Return an A4 PDF with one login slip per entry, grouped by group, then by sort name.

    Each entry is a dict with at least "username" and "password"; "name" (display name),
    "sort_name" ('Berg, Jan van der'), "group", "school" and "valid_until" (already formatted)
    are printed when present. Each group starts on a new page, so a teacher can hand out one
    class's slips without sorting paper. The login address defaults to KB_BASE_URL's login page.
    """
    text = {  # translated once, not once per slip
        "no_group": _("Zonder kandidaatgroep"),
        "username": _("Gebruikersnaam") + ":",
        "password": _("Wachtwoord") + ":",
        "login": _("Inloggen op") + ":",
        "url": login_url or default_login_url(),
        "valid": _("Geldig tot en met %(date)s."),
        "notice": _("Bewaar dit briefje goed en deel het met niemand."),
    }
    pdf = _SlipPDF()
    slip_w = (pdf.w - 2 * PAGE_MARGIN) / COLUMNS
    slip_h = (pdf.h - 2 * PAGE_MARGIN) / ROWS
    if not entries:
        pdf.add_page()
        pdf.set_font("slip", "", 11)
        pdf.cell(0, 10, _("Geen inlogbriefjes."))
    for page in slip_pages(entries):
        pdf.add_page()
        # The cutting lines: dashed grey rectangles, one pattern for the whole page.
        pdf.set_draw_color(150, 150, 150)
        pdf.set_dash_pattern(dash=2, gap=1.5)
        lines: list[tuple] = []
        for position, entry in enumerate(page):
            x = PAGE_MARGIN + (position % COLUMNS) * slip_w
            y = PAGE_MARGIN + (position // COLUMNS) * slip_h
            pdf.rect(x, y, slip_w, slip_h)
            lines.extend(_slip_lines(pdf, x, y, slip_w, entry, text))
        pdf.set_dash_pattern()
        pdf.lines(lines)
    return bytes(pdf.output())
