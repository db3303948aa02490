"""The content of a tjänsteutlåtande as the PDF prints it, as plain JSON-able data.

This is the one description of "what the document says". The PDF renders from it, sending for
attest freezes it (with its SHA-256) so that later edits to an åtgärd, a person's title or a
mall cannot change what a chef approved.
"""

import functools
import hashlib
import json

from atgarder.constants import DEFINITIONER, GRUPPINLEDNING, AtgardTyp

from .models import display_name

SCHEMA = 1


def _rader(tu, relation, *med, givna=None):
    """The document's rows of `relation`: those given (an old version's, `build_snapshot`), those a
    batch prefetched, or else read now with the rows they point at (and not kept on `tu`, so a
    later call reads them anew)."""
    if givna is not None:
        return givna[relation]
    if relation in getattr(tu, "_prefetched_objects_cache", {}):
        return getattr(tu, relation).all()
    return getattr(tu, relation).select_related(*med)


def fil_sha256(fil):
    """The SHA-256 of an uploaded bilaga's bytes: the frozen content names the file and what it
    held, so a file replaced in the store after attest is noticed instead of printed. "" for no
    file, or one already missing (the PDF then says it is missing). A file is read once per
    process for as long as its size and time are unchanged: a draft's pages build the snapshot on
    every view, and a scanned bilaga may be 20 MB."""
    if not fil:
        return ""
    storage = fil.storage
    try:
        return _sha256(storage, fil.name, storage.size(fil.name), storage.get_modified_time(fil.name))
    except FileNotFoundError:
        return ""


@functools.lru_cache(maxsize=256)
def _sha256(storage, name, _storlek, _andrad):
    summa = hashlib.sha256()
    with storage.open(name, "rb") as data:
        for bit in iter(lambda: data.read(1 << 20), b""):
            summa.update(bit)
    return summa.hexdigest()


def build_snapshot(tu, rader=None):
    """Read everything the document prints. Related rows are read with `.all()` and ordered
    here, so a caller that prefetches them (a batch, the volume generator) pays no queries; for
    one document they are read here, one query each, not one a section or åtgärd. `rader` gives
    the rows instead, by relation ("sektioner", "atgard_val", "undertecknare", "bilagor"), with
    the rows they point at set on them: an old version's, read from the history."""
    arende = tu.arende
    handlaggare = tu.handlaggare
    avdelning = arende.avdelning
    forvaltning = arende.forvaltning.namn
    sektioner = sorted(
        _rader(tu, "sektioner", "mall_sektion", givna=rader), key=lambda s: (s.mall_sektion.ordning, s.pk)
    )
    val = sorted(_rader(tu, "atgard_val", "atgard", givna=rader), key=lambda v: (v.ordning, v.pk))
    grupper = []
    for typ in AtgardTyp:
        punkter = [{"titel": v.atgard.titel, "stycken": v.atgard.stycken} for v in val if v.atgard.typ == typ]
        if punkter:
            grupper.append(
                {
                    "typ": typ.value,
                    # The footnote marker goes between the two parts.
                    "inledning": list(GRUPPINLEDNING[typ]),
                    "fotnot": DEFINITIONER[typ],
                    "punkter": punkter,
                }
            )
    return {
        "schema": SCHEMA,
        "diarienummer": arende.diarienummer,
        "arendemening": arende.arendemening,
        "forvaltning": forvaltning,
        "avdelning": avdelning.namn if avdelning else "",
        "handlaggare": {
            "namn": display_name(handlaggare),
            "telefon": tu.telefon,
        },
        "namnd": tu.namnd.namn,
        "sammantradesdatum": tu.sammantradesdatum.isoformat() if tu.sammantradesdatum else None,
        "titel": tu.titel,
        "undertitel": tu.undertitel,
        "sektioner": [
            {
                "rubrik": s.mall_sektion.rubrik,
                "nyckel": s.mall_sektion.nyckel,
                "text": s.text,
                "avslutning": s.avslutning,
                "visar_atgarder": s.mall_sektion.visar_atgarder,
            }
            for s in sektioner
        ],
        "atgardsgrupper": grupper,
        "undertecknare": [
            {"namn": u.namn, "befattning": u.befattning, "forvaltning": forvaltning}
            for u in sorted(
                tu.undertecknare.all() if rader is None else rader["undertecknare"], key=lambda u: (u.ordning, u.pk)
            )
        ],
        "bilagor": [
            {
                "nummer": b.ordning,
                "titel": b.titel,
                "fil": b.fil.name if b.fil else "",
                "sha256": fil_sha256(b.fil),
                "text": b.text,
            }
            for b in sorted(tu.bilagor.all() if rader is None else rader["bilagor"], key=lambda b: (b.ordning, b.pk))
        ],
    }


SNAPSHOT_SELECT = ("arende__forvaltning", "arende__avdelning", "handlaggare", "namnd")
SNAPSHOT_PREFETCH = ("sektioner__mall_sektion", "atgard_val__atgard", "undertecknare", "bilagor")


def snapshot_hash(snapshot):
    """SHA-256 over a canonical JSON form, so the same content always gives the same hash."""
    canonical = json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
