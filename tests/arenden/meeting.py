"""Shared set-up for the meeting tests: attested documents, people with and without the role."""

import datetime

from django.contrib.auth.models import Group
from django.utils import timezone

from arenden.constants import Roll
from arenden.models import Attestering, Namnd, Sammantrade
from arenden.snapshot import build_snapshot, snapshot_hash
from tests.factories import AvdelningFactory, ProfilFactory, TjansteutlatandeFactory, UserFactory


def sekreterare(username="sekr", forvaltning=None):
    """A nämnd secretary working in a förvaltning (by default the one answering to the nämnd
    of `sammantrade()`), whose nämnd's meetings they prepare."""
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=Roll.NAMNDSEKRETERARE)[0])
    avdelning = AvdelningFactory(**({"forvaltning": forvaltning} if forvaltning else {}))
    ProfilFactory(user=user, avdelning=avdelning, befattning="Nämndsekreterare")
    return user


def attestera(tu, attestant=None):
    """Attest a document the way sending and attesting leave it: frozen content, its hash, one
    attestation with name and title of the day."""
    attestant = attestant or ProfilFactory(befattning="Stadsdelsdirektör").user
    snapshot = build_snapshot(tu)
    tu.innehall, tu.innehall_hash, tu.attest_omgang = snapshot, snapshot_hash(snapshot), 1
    tu.status = "attesterad"
    tu.save()
    Attestering.objects.create(
        tjansteutlatande=tu,
        omgang=1,
        ordning=1,
        attestant=attestant,
        namn=attestant.get_full_name(),
        befattning=attestant.profil.befattning,
        attesterad=timezone.now(),
        innehall_hash=tu.innehall_hash,
    )
    tu.arende.status = "redo_for_namnd"
    tu.arende.save()
    return tu


def attesterat_dokument(**kwargs):
    tu = TjansteutlatandeFactory(**kwargs)
    forslag = tu.sektioner.get(mall_sektion__ordning=1)
    forslag.mall_sektion.nyckel = "forslag_till_beslut"
    forslag.mall_sektion.save()
    forslag.text = f"<p>Stadsdelsnämnden godkänner förvaltningens tjänsteutlåtande om {tu.titel.lower()}.</p>"
    forslag.save()
    return attestera(tu)


def sammantrade(namnd=None, datum=datetime.date(2024, 5, 23)):
    namnd = namnd or Namnd.objects.get_or_create(namn="Skärholmens stadsdelsnämnd")[0]
    # The demo data holds the 2024-05-23 meeting already; tests without it get the same one.
    return Sammantrade.objects.get_or_create(
        namnd=namnd,
        datum=datum,
        tid=datetime.time(18, 0),
        defaults={"plats": "Skärholmens stadsdelsförvaltning, Sessionssalen"},
    )[0]
