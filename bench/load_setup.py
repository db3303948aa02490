"""Accounts and documents for bench/load.sh, in the database DATABASE_URL names, after the demo
data and `generate_volume`. Writes the plan the simulated users follow as JSON:

- handläggare `last-hl-NN` in the demo avdelning, each with a case and a draft of their own to
  write in (so their saves do not collide);
- attestants `last-chef-N`, each with documents sent for attest to them alone;
- the cases, drogscener and attested documents the officers may see, and search words.

Run as `.venv/bin/python bench/load_setup.py PLAN.json --handlaggare 46 --chefer 4`.
"""

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skarholmen.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import transaction  # noqa: E402

from arenden import pdf, services  # noqa: E402
from arenden.constants import TjansteutlatandeStatus  # noqa: E402
from arenden.models import Arende, Forvaltning, Mall, Profil, Sektion, Skrivelse, Tjansteutlatande  # noqa: E402
from atgarder.models import Drogscen  # noqa: E402

PASSWORD = "last-skarholmen"
SOKORD = ["drogscen", "Sätra centrum", "trygghet", "platsaktivering", "SKHLM 2024", "belysning", "polisen"]
ATTESTED = [
    TjansteutlatandeStatus.ATTESTERAD,
    TjansteutlatandeStatus.PA_FOREDRAGNINGSLISTA,
    TjansteutlatandeStatus.BESLUTAD,
]


def user(username, first_name, roll, avdelning, password, staff=False):
    User = get_user_model()
    account, _ = User.objects.update_or_create(
        username=username,
        defaults={"first_name": first_name, "last_name": "Lasttest", "password": password, "is_staff": staff},
    )
    account.groups.set([Group.objects.get(name=roll)])
    Profil.objects.update_or_create(user=account, defaults={"avdelning": avdelning, "befattning": roll})
    return account


def draft(forvaltning, avdelning, mall, handlaggare, titel):
    arende = Arende(forvaltning=forvaltning, avdelning=avdelning, handlaggare=handlaggare, arendemening=titel)
    skrivelse = Skrivelse(
        titel=titel,
        forfattare="Ledamöter i stadsdelsnämnden",
        beredning_datum=datetime.date(2024, 3, 14),
        text=f"Skrivelse om {titel.lower()} inför sammanträdet.",
    )
    services.registrera_skrivelse(arende=arende, skrivelse=skrivelse, user=handlaggare)
    return services.skapa_tjansteutlatande(arende=arende, mall=mall, user=handlaggare, titel=titel)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("plan")
    parser.add_argument("--handlaggare", type=int, default=46)
    parser.add_argument("--chefer", type=int, default=4)
    parser.add_argument("--attester-per-chef", type=int, default=60)
    parser.add_argument("--no-pdf", action="store_true", help="do not render the attested documents beforehand")
    args = parser.parse_args()

    forvaltning = Forvaltning.objects.get(diarieprefix="SKHLM")
    avdelning = forvaltning.avdelningar.order_by("pk").first()
    mall = Mall.objects.filter(aktiv=True).order_by("pk").first()
    password = make_password(PASSWORD)  # hashed once: every account gets the same real hash

    with transaction.atomic():
        officers = [
            user(f"last-hl-{i:02d}", f"Handläggare {i}", "Handläggare", avdelning, password)
            for i in range(1, args.handlaggare + 1)
        ]
        chefs = [
            user(f"last-chef-{i}", f"Chef {i}", "Attestant", avdelning, password, staff=True)
            for i in range(1, args.chefer + 1)
        ]
    plan = {"password": PASSWORD, "handlaggare": [], "chefer": []}
    for officer in officers:
        tu = draft(forvaltning, avdelning, mall, officer, f"Trygghetsvandringar {officer.first_name}")
        plan["handlaggare"].append({"username": officer.username, "tjansteutlatande": tu.pk, "arende": tu.arende_id})
    for n, chef in enumerate(chefs):
        att_attestera = []
        for i in range(args.attester_per_chef):
            officer = officers[(n * args.attester_per_chef + i) % len(officers)]
            tu = draft(forvaltning, avdelning, mall, officer, f"Belysning i gångtunnlar {n}-{i}")
            text = "<p>Förvaltningen föreslår att nämnden godkänner.</p>"
            Sektion.objects.filter(tjansteutlatande=tu).update(text=text)
            services.skicka_for_attest(tjansteutlatande=tu, user=officer, attestanter=[chef])
            att_attestera.append(tu.pk)
        plan["chefer"].append({"username": chef.username, "att_attestera": att_attestera})

    synliga = Arende.objects.for_user(officers[0])
    plan["arenden"] = list(synliga.order_by("-registrerad").values_list("pk", flat=True)[:1000])
    # The documents of the coming meetings: attested ones, downloaded again and again.
    plan["attesterade"] = list(
        Tjansteutlatande.objects.filter(arende__in=synliga, status__in=ATTESTED)
        .order_by("-pk")
        .values_list("pk", flat=True)[:30]
    )
    # A running system has rendered them before and keeps the stored copies (arenden/pdf.py);
    # render them once here so that the measured minutes see that state, not a cold start.
    if not args.no_pdf:
        for tu in Tjansteutlatande.objects.filter(pk__in=plan["attesterade"]):
            pdf.render_tjansteutlatande(tu)
        pdf.shutdown_workers()
    plan["drogscener"] = list(Drogscen.objects.values_list("pk", flat=True))
    plan["sokord"] = SOKORD
    Path(args.plan).write_text(json.dumps(plan, indent=1))
    print(
        f"plan: {len(officers)} handläggare, {len(chefs)} attestanter med {args.attester_per_chef} dokument var, "
        f"{len(plan['arenden'])} synliga ärenden, {len(plan['attesterade'])} attesterade dokument, "
        f"{len(plan['drogscener'])} drogscener"
    )


if __name__ == "__main__":
    main()
