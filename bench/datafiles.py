"""The benchmark's input files, generated here: what a college's student information system
exports in August.

- .xlsx written by openpyxl, and the same rows as a `;`-separated Windows-1252 .csv (what
  Excel writes for "CSV (gescheiden door lijstscheidingsteken)" on a Dutch Windows).
- Realistic Dutch names: prefixes (tussenvoegsels) in their own column, accents (Zoë, Daniël,
  Çelik, Müller). Every character is in Windows-1252, so the .csv holds exactly the .xlsx rows.
- Candidate numbers with leading zeros (text cells, "0004711"); birth dates as date cells
  (in the .csv as dd-mm-jjjj); the class in a column "Klas".
- Deterministic (seeded), and cached in bench/files/ (gitignored) by size and version.
"""

from __future__ import annotations

import io
import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from openpyxl import Workbook

from .env import FILES_DIR

VERSION = 1
HEADERS = [
    "Kandidaatnummer",
    "Voornaam",
    "Tussenvoegsel",
    "Achternaam",
    "E-mailadres",
    "Geboortedatum",
    "Klas",
]
PASSWORD_HEADER = "Wachtwoord"  # noqa: S105 (a column name)

FIRST_NAMES = (
    "Daan Sem Lucas Milan Levi Noah Luuk Bram Thijs Jesse Finn Sven Ruben Stijn Lars Tim Gijs "
    "Emma Julia Mila Tess Sophie Zoë Saar Noor Anouk Fleur Lotte Inge Sanne Femke Isa Evi Lieke "
    "Chloé Anaïs Daniël Joël Noël Maëlle Renée Hélène René André Björn Søren Jürgen Ömer Kübra "
    "Mohamed Yassin Fatima Aya Ilias Imane Soufiane Youssef Elif Emre Mehmet Zeynep Ayoub Nour "
    "Priya Ravi Joëlle Chaïma Iñigo Tomás Mateus Ana Wiktoria Jakub Dmitri Nguyen Linh Mei"
).split()
PLAIN_LAST_NAMES = (
    "Jansen Bakker Visser Smit Meijer Mulder Bos Vos Peters Hendriks Dekker Brouwer Dijkstra "
    "Smits Willems Kok Verhoeven Jacobs Schouten Koster Prins Huisman Kuipers Postma Veenstra "
    "Öztürk Yilmaz Çelik Kaya Demir Sahin El Amrani Boukhari Bouzid Nguyen Tran Müller Peña "
    "Gonçalves Kowalski Nowak Rösler Schröder Ündül Jiménez Ramírez Sjöberg Hoëvenaars Veldhuis"
).split()
PREFIXED_LAST_NAMES = (
    ("van", "Dijk"),
    ("de", "Jong"),
    ("de", "Vries"),
    ("van der", "Berg"),
    ("van den", "Broek"),
    ("de", "Boer"),
    ("van", "Leeuwen"),
    ("'t", "Hart"),
    ("ter", "Horst"),
    ("van 't", "Hof"),
    ("op den", "Kamp"),
    ("van der", "Linden"),
    ("van de", "Ven"),
    ("de", "Groot"),
    ("van", "Beek"),
    ("in 't", "Veld"),
    ("van der", "Meer"),
    ("den", "Hollander"),
)
PROGRAMMES = ("ASD", "VZ", "ICT", "HOR", "TECH", "ZORG", "LOG", "ADM")
GROUP_NAMES = tuple(f"{p}{year}{c}" for p in PROGRAMMES for year in (1, 2, 3) for c in "AB")
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRTUVWXY346789"  # noqa: S105


@dataclass(frozen=True)
class InputFile:
    rows: int
    format: str  # "xlsx" or "csv"
    path: Path
    with_passwords: bool = False

    @property
    def name(self) -> str:
        return self.path.name

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()


def _fold_ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in ".-")).lower()


def people(n: int, *, seed: int = 2025, with_passwords: bool = False) -> list[list]:
    """n data rows (no header), the same for the same n and seed."""
    rng = random.Random(seed * 1_000_003 + n)
    rows = []
    for i in range(n):
        first = rng.choice(FIRST_NAMES)
        if rng.random() < 0.35:
            prefix, last = rng.choice(PREFIXED_LAST_NAMES)
        else:
            prefix, last = "", rng.choice(PLAIN_LAST_NAMES)
        number = f"{i + 1:07d}"
        email = f"{_fold_ascii(first)}.{_fold_ascii(prefix + last)}{number[-5:]}@student.example.nl"
        born = date(2004, 1, 1) + timedelta(days=rng.randrange(0, 6 * 365))
        row = [number, first, prefix, last, email, born, rng.choice(GROUP_NAMES)]
        if with_passwords:
            row.append("".join(rng.choice(PASSWORD_ALPHABET) for _ in range(14)) + "7k")
        rows.append(row)
    return rows


def xlsx_bytes(rows: list[list], headers: list[str]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Kandidaten")
    sheet.append(headers)
    for row in rows:
        sheet.append(row)  # str stays a text cell ("0004711"), date becomes a date cell
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list], headers: list[str]) -> bytes:
    lines = [";".join(headers)]
    for row in rows:
        cells = [v.strftime("%d-%m-%Y") if isinstance(v, date) else str(v) for v in row]
        lines.append(";".join(cells))
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def input_file(rows: int, file_format: str, *, with_passwords: bool = False) -> InputFile:
    """The file of `rows` candidates, generated on first use."""
    kind = "kandidaten-wachtwoorden" if with_passwords else "kandidaten"
    path = FILES_DIR / f"{kind}-{rows}-v{VERSION}.{file_format}"
    if not path.exists():
        FILES_DIR.mkdir(exist_ok=True)
        data = people(rows, with_passwords=with_passwords)
        headers = HEADERS + ([PASSWORD_HEADER] if with_passwords else [])
        content = xlsx_bytes(data, headers) if file_format == "xlsx" else csv_bytes(data, headers)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(content)
        tmp.replace(path)
    return InputFile(rows, file_format, path, with_passwords)
