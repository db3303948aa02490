"""The content of a tjänsteutlåtande as the PDF prints it, as plain JSON-able data.

This is the one description of "what the document says". The PDF renders from it, sending for
attest freezes it (with its SHA-256) so that later edits to an åtgärd, a person's title or a
mall cannot change what a chef approved.
"""

import hashlib
import json

from atgarder.constants import DEFINITIONER, GRUPPINLEDNING, AtgardTyp

SCHEMA = 1


def build_snapshot(tu):
    """Read everything the document prints from the database (a fixed number of queries)."""
    arende = tu.arende
    handlaggare = tu.handlaggare
    avdelning = arende.avdelning
    sektioner = list(tu.sektioner.select_related("mall_sektion").order_by("mall_sektion__ordning", "pk"))
    val = list(tu.atgard_val.select_related("atgard").order_by("ordning", "pk"))
    grupper = []
    for typ in AtgardTyp:
        punkter = [
            {"titel": v.atgard.titel, "stycken": v.atgard.stycken} for v in val if v.atgard.typ == typ
        ]
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
        "forvaltning": arende.forvaltning.namn,
        "avdelning": avdelning.namn if avdelning else "",
        "handlaggare": {
            "namn": handlaggare.get_full_name() or handlaggare.get_username(),
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
            {"namn": u.namn, "befattning": u.befattning, "forvaltning": arende.forvaltning.namn}
            for u in tu.undertecknare.order_by("ordning", "pk")
        ],
        "bilagor": [
            {"nummer": b.ordning, "titel": b.titel, "fil": b.fil.name if b.fil else "", "text": b.text}
            for b in tu.bilagor.order_by("ordning", "pk")
        ],
    }


def snapshot_hash(snapshot):
    """SHA-256 over a canonical JSON form, so the same content always gives the same hash."""
    canonical = json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
