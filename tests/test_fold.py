"""fold() takes a shortcut for ASCII text; it must give what the full folding gives."""

import string
import unicodedata

from candidates.models import _BASE_LETTERS, fold


def full_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_BASE_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def test_ascii_shortcut_equals_the_full_folding_for_every_ascii_character():
    for code in range(128):
        assert fold(chr(code)) == full_fold(chr(code)), repr(chr(code))
    sample = string.printable + "Jan van der Berg J.vdBerg@Example.NL 0004711"
    assert fold(sample) == full_fold(sample)


def test_non_ascii_text_is_folded_in_full():
    assert fold("Ümit Yılmaz") == "umit yilmaz"
    assert fold("Zoë Çelik-Schröder") == "zoe celik-schroder"
    assert fold("Øystein Åberg Straße") == "oystein aberg strasse"
    assert fold("") == fold(None) == ""
