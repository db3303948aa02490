"""Reading rendered PDFs back with pypdf, which extracts text in content order: WeasyPrint
draws a page's body in document order, then list markers, footnotes and the running header."""

import io
import re

from pypdf import PdfReader

# The running header's lines (left: förvaltning and avdelning; right: document, Dnr, page).
HEADER_LINE = re.compile(
    r"^(Sida \d+ \(\d+\)|Dnr .+|Tjänsteutlåtande|Bilaga \d+ till tjänsteutlåtande"
    r"|Skärholmens stadsdelsförvaltning|Medborgarservice och stadsmiljö|Förvaltning [A-ZÅÄÖ]+)$"
)
FOOTNOTE_START = "¹²³⁴⁵⁶⁷⁸⁹"


def page_count(data):
    return len(PdfReader(io.BytesIO(data)).pages)


def pages(data):
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def split_page(text):
    """(running header, body, footnotes) of one page's text."""
    lines = [line.strip() for line in text.splitlines()]
    end = len(lines)
    while end and (not lines[end - 1] or HEADER_LINE.match(lines[end - 1])):
        end -= 1
    header, rest = [line for line in lines[end:] if line], lines[:end]
    rest = [line for line in rest if line not in ("–", "")]  # list markers
    foot = next((i for i, line in enumerate(rest) if line[:1] in FOOTNOTE_START), len(rest))
    return "\n".join(header), "\n".join(rest[:foot]), "\n".join(rest[foot:])


def squash(text):
    """Letters and digits only: line breaks, hyphenation and list dashes do not count."""
    return re.sub(r"[\s\-–‐\u00ad]+", "", text)


def find_in_order(haystack, needles):
    """The needles not found in order (squashed comparison); empty when all are there."""
    body, position, missing = squash(haystack), 0, []
    for needle in needles:
        found = body.find(squash(needle), position)
        if found < 0:
            missing.append(needle)
        else:
            position = found + len(squash(needle))
    return missing
