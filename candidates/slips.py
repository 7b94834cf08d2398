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
    for _group, group in groupby(sorted(entries, key=_sort_key), key=lambda e: _sort_key(e)[0]):
        items = list(group)
        per_page = COLUMNS * ROWS
        pages.extend(items[i : i + per_page] for i in range(0, len(items), per_page))
    return pages


def _sort_key(entry: dict) -> tuple[str, str, str]:
    return (
        fold(entry.get("group") or ""),
        fold(entry.get("sort_name") or entry.get("name") or ""),
        entry.get("username", ""),
    )


class _SlipPDF(FPDF):
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
        self._font: tuple | None = None  # what set_font last chose, to skip repeating it

    def add_page(self, *args, **kwargs) -> None:
        super().add_page(*args, **kwargs)
        self._font = None  # a new page selects its font again

    def fitted_text(
        self, x: float, y: float, width: float, text: str, family: str, style: str, size: float
    ) -> None:
        """Write one line at (x, y), shrinking the font until it fits the slip's width.

        Text width grows linearly with the font size, so one measurement gives the size that
        fits; `text()` draws without cell layout. Most lines of a slip (labels, the login
        address, the notice, a class's header) repeat on every slip, so each distinct line is
        measured once per document."""
        key = (family, style, size, width, text)
        fitted = self._fitted.get(key)
        if fitted is None:
            fitted = self._fitted[key] = self._fit(width, text, family, style, size)
        size, text = fitted
        if (family, style, size) != self._font:
            self.set_font(family, style, size)
            self._font = (family, style, size)
        # Baseline a little below the top, where cell() used to put it.
        self.text(x, y + size * 0.32, text)

    def _fit(self, width: float, text: str, family: str, style: str, size: float):
        self.set_font(family, style, size)
        self._font = (family, style, size)
        measured = self.get_string_width(text)
        if measured > width:
            size = max(MIN_FONT_SIZE, size * width / measured)
            self.set_font(family, style, size)
            self._font = (family, style, size)
            if self.get_string_width(text) > width:
                while text and self.get_string_width(text + "…") > width:
                    text = text[:-1]
                text += "…"
        return size, text


def _draw_slip(
    pdf: _SlipPDF, x: float, y: float, w: float, h: float, entry: dict, login_url: str
) -> None:
    pdf.set_draw_color(150, 150, 150)
    pdf.set_dash_pattern(dash=2, gap=1.5)
    pdf.rect(x, y, w, h)
    pdf.set_dash_pattern()
    inner_x, inner_w = x + PADDING, w - 2 * PADDING
    line = y + PADDING

    group = entry.get("group") or _("Zonder kandidaatgroep")
    pdf.set_text_color(90, 90, 90)
    header = " · ".join(p for p in (entry.get("school", ""), group) if p)
    pdf.fitted_text(inner_x, line, inner_w, header, "slip", "", 8)
    line += 5.5
    pdf.set_text_color(0, 0, 0)
    pdf.fitted_text(inner_x, line, inner_w, entry.get("name") or entry["username"], "slip", "B", 12)
    line += 8
    label_w = 30
    for label, value, size in (
        (_("Gebruikersnaam"), entry["username"], 11),
        (_("Wachtwoord"), entry["password"], 13),
    ):
        pdf.fitted_text(inner_x, line + 0.8, label_w, label + ":", "slip", "", 8)
        pdf.fitted_text(inner_x + label_w, line, inner_w - label_w, value, "slipmono", "", size)
        line += 7.5
    pdf.fitted_text(inner_x, line + 0.8, label_w, _("Inloggen op") + ":", "slip", "", 8)
    pdf.fitted_text(inner_x + label_w, line + 0.8, inner_w - label_w, login_url, "slip", "", 9)
    line += 7
    pdf.set_text_color(90, 90, 90)
    if entry.get("valid_until"):
        valid = _("Geldig tot en met %(date)s.") % {"date": entry["valid_until"]}
        pdf.fitted_text(inner_x, line, inner_w, valid, "slip", "", 7.5)
        line += 4
    notice = _("Bewaar dit briefje goed en deel het met niemand.")
    pdf.fitted_text(inner_x, line, inner_w, notice, "slip", "", 7.5)
    pdf.set_text_color(0, 0, 0)


def render_login_slips(entries: list[dict], *, login_url: str | None = None) -> bytes:
    """Return an A4 PDF with one login slip per entry, grouped by group, then by sort name.

    Each entry is a dict with at least "username" and "password"; "name" (display name),
    "sort_name" ('Berg, Jan van der'), "group", "school" and "valid_until" (already formatted)
    are printed when present. Each group starts on a new page, so a teacher can hand out one
    class's slips without sorting paper. The login address defaults to KB_BASE_URL's login page.
    """
    login_url = login_url or default_login_url()
    pdf = _SlipPDF()
    slip_w = (pdf.w - 2 * PAGE_MARGIN) / COLUMNS
    slip_h = (pdf.h - 2 * PAGE_MARGIN) / ROWS
    if not entries:
        pdf.add_page()
        pdf.set_font("slip", "", 11)
        pdf.cell(0, 10, _("Geen inlogbriefjes."))
    for page in slip_pages(entries):
        pdf.add_page()
        for position, entry in enumerate(page):
            column, row = position % COLUMNS, position // COLUMNS
            _draw_slip(
                pdf,
                PAGE_MARGIN + column * slip_w,
                PAGE_MARGIN + row * slip_h,
                slip_w,
                slip_h,
                entry,
                login_url,
            )
    return bytes(pdf.output())
