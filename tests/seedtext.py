"""The seed document as a list of paragraphs and list items, after the fixture's corrections.

Reads ../shared/seed/ when it is there, otherwise the copy kept beside this file.
"""

import re
from pathlib import Path

from django.conf import settings

SEED_NAME = "tjansteutlatande-oppna-drogscener-2024-05-23.txt"

# The text-extraction faults of the source, as listed in fixtures/README.md (order matters:
# the Cyrillic and doubled-c spellings first, the short stem last).
CORRECTIONS = [
    ("drogsценerna", "drogscenerna"),
    ("drogsccenerna", "drogscenerna"),
    ("drogsccener", "drogscener"),
    ("drogsenerna", "drogscenerna"),
    ("drogsener", "drogscener"),
    ("Sättra", "Sätra"),
    ("centrubesiktning", "centrumbesiktning"),
]

# Printed by the document template, not stored as data.
TEMPLATE_TEXT = {
    "Handläggare",
    "Till",
    "Bilagor",
    "Attesterat av",
    "Detta dokument har godkänts digitalt av följande personer:",
    "Namn Datum",
    "- Svar på skrivelse",
    "Skärholmens",
    "stadsdelsförvaltning",
}


def seed_text():
    shared = Path(settings.BASE_DIR).parent / "shared" / "seed" / SEED_NAME
    path = shared if shared.exists() else Path(__file__).parent / "seed-tjansteutlatande.txt"
    text = path.read_text(encoding="utf-8")
    for wrong, right in CORRECTIONS:
        text = text.replace(wrong, right)
    return text


def seed_items():
    """Paragraphs and list items in order; list items lose their dash, page-broken items are
    joined again, footnotes (¹ ²) are returned separately."""
    items, footnotes = [], []
    for block in re.split(r"\n\s*\n", seed_text()):
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        if not lines:
            continue
        if lines[0][0] in "¹²":
            footnotes.append(" ".join(lines)[1:].strip())
            continue
        for line in lines:
            if line.startswith("-") and line not in TEMPLATE_TEXT:
                items.append(line.lstrip("- ").strip())
            elif line[0].islower() and items:
                items[-1] = f"{items[-1]} {line}"  # continues an item broken by a page end
            else:
                items.append(line)
    items = [re.sub(r"\s+", " ", i) for i in items]
    return [i for i in items if i not in TEMPLATE_TEXT], footnotes
