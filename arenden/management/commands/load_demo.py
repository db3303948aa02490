"""Load the demo case from fixtures/demo.toml. Loading twice changes nothing."""

import datetime
import html
import tomllib
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F

from arenden import services
from arenden.constants import ArendeStatus, TjansteutlatandeStatus
from arenden.models import (
    Arende,
    Attestering,
    Avdelning,
    Bilaga,
    Forvaltning,
    Mall,
    MallSektion,
    Namnd,
    Profil,
    Sammantrade,
    Sektion,
    Skrivelse,
    Tjansteutlatande,
    TjansteutlatandeAtgard,
    Undertecknare,
)
from arenden.snapshot import build_snapshot, snapshot_hash
from atgarder.models import Aktor, Atgard, Drogscen, Utfall

DEMO_FILE = Path(settings.BASE_DIR) / "fixtures" / "demo.toml"
DEMO_PASSWORD = "skarholmen-demo"
REASON = "Demodata"
# The case's row that follows its document's state is written just after the document's, as the
# services write it in the same transaction (`services._folj_arende`).
FOLJER = datetime.timedelta(seconds=1)


def paragraphs_to_html(text):
    """Plain text with blank lines between paragraphs, as the editor stores it: <p> elements."""
    parts = [p.strip() for p in text.strip().split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in parts)


def _date(value):
    return datetime.date.fromisoformat(value) if value else None


def _moment(value):
    return datetime.datetime.fromisoformat(value)


def _save(obj, when, user=None, reason=REASON):
    """Save `obj` with its history row dated `when`, the moment of the story it belongs to, not
    the moment the demo is loaded (simple_history reads `_history_date`, and the many-to-many
    rows written next on the same object take it too)."""
    obj._history_date = when
    obj._history_user = user
    obj._change_reason = reason
    obj.save()
    return obj


def _dated(model, pks, skapad, andrad=None):
    """`skapad` and `andrad` are set by Django to the moment of saving (auto_now_add, auto_now),
    in the rows and in their history: set them to the story's, each history row's `andrad` to
    the moment of that row."""
    model.objects.filter(pk__in=pks).update(skapad=skapad, andrad=andrad or skapad)
    model.history.filter(id__in=pks).update(skapad=skapad, andrad=F("history_date"))


class Command(BaseCommand):
    help = "Lägger in demoärendet om öppna drogscener (Skärholmen, maj 2024) med demoinloggningar."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            # Its users, a superuser among them, all have the published DEMO_PASSWORD: on a real
            # diarium anyone who has read the README could log in as its administrator.
            raise CommandError(
                "load_demo lägger in demoanvändare med ett känt lösenord och körs inte med PRODUCTION=true. "
                "Ladda demodata i en egen databas för prov och visning."
            )
        data = tomllib.loads(DEMO_FILE.read_text(encoding="utf-8"))
        if Arende.objects.filter(diarienummer=data["arende"]["diarienummer"]).exists():
            self.stdout.write("Demodata finns redan; inget ändrat.")
        else:
            with transaction.atomic():
                self.load(data)
            self.stdout.write(self.style.SUCCESS("Demodata inlagd."))
        self.print_logins(data)

    def print_logins(self, data):
        self.stdout.write(f"\nDemoinloggningar (lösenord för alla: {DEMO_PASSWORD}):")
        for person in data["anvandare"]:
            roll = ", ".join(person.get("roller", [])) or ("Administratör" if person.get("superuser") else "")
            self.stdout.write(f"  {person['username']:<12} {person['first_name']} {person['last_name']} – {roll}")
        self.stdout.write("Logga in på http://127.0.0.1:8000/\n")

    def load(self, data):
        User = get_user_model()
        moment = {namn: _moment(varde) for namn, varde in data["historik"].items()}
        register = moment["register"]
        namnd = _save(Namnd(namn=data["namnd"]["namn"]), register)

        users = {}
        for person in data["anvandare"]:
            user = User(
                username=person["username"],
                first_name=person["first_name"],
                last_name=person["last_name"],
                is_staff=person.get("staff", False) or person.get("superuser", False),
                is_superuser=person.get("superuser", False),
                date_joined=register,
            )
            user.set_password(DEMO_PASSWORD)
            _save(user, register)  # its roles' history rows below take the reason and date from it too
            for roll in person.get("roller", []):
                user.groups.add(Group.objects.get_or_create(name=roll)[0])
            users[user.username] = user

        fv = data["forvaltning"]
        forvaltning = _save(
            Forvaltning(namn=fv["namn"], diarieprefix=fv["diarieprefix"], namnd=namnd, chef=users[fv["chef"]]),
            register,
        )
        avdelningar = {}
        for avd in data["avdelningar"]:
            avdelningar[avd["namn"]] = _save(
                Avdelning(forvaltning=forvaltning, namn=avd["namn"], chef=users.get(avd.get("chef"))), register
            )
        for person in data["anvandare"]:
            _save(
                Profil(
                    user=users[person["username"]],
                    befattning=person.get("befattning", ""),
                    telefon=person.get("telefon", ""),
                    avdelning=avdelningar.get(person.get("avdelning")),
                ),
                register,
            )

        mall = _save(Mall(namn=data["mall"]["namn"], beskrivning=data["mall"]["beskrivning"]), register)
        mall_sektioner = {}
        for ordning, sek in enumerate(data["mall"]["sektioner"], start=1):
            mall_sektioner[sek["nyckel"]] = _save(
                MallSektion(
                    mall=mall,
                    ordning=ordning,
                    rubrik=sek["rubrik"],
                    nyckel=sek["nyckel"],
                    vagledning=sek.get("vagledning", ""),
                    visar_atgarder=sek.get("visar_atgarder", False),
                    obligatorisk=sek.get("obligatorisk", True),
                ),
                register,
            )

        arenden = {}
        for item in [*data["citerade_arenden"], data["arende"]]:
            arende = Arende(
                diarienummer=item["diarienummer"],
                forvaltning=forvaltning,
                arendemening=item["arendemening"],
                handlaggare=users.get(item.get("handlaggare")),
                avdelning=avdelningar.get(item.get("avdelning")),
                registrerad=_date(item["registrerad"]),
            )
            arende.full_clean()
            # The older cases were entered with the register, keeping their diarium dates.
            arende._history_date = register if item is not data["arende"] else moment["registrerat"]
            arende._change_reason = REASON
            arenden[item["diarienummer"]] = services.registrera_arende(arende=arende, user=None)
        arende = arenden[data["arende"]["diarienummer"]]
        citerade = [a for nr, a in arenden.items() if nr != arende.diarienummer]
        # A row of its own after the registration's: it says what it writes, not "Registrerat".
        arende._change_reason = services.citerade_orsak(citerade)
        arende.citerade.set(citerade)

        skr = data["skrivelse"]
        skrivelse = _save(
            Skrivelse(
                arende=arende,
                titel=skr["titel"],
                forfattare=skr["forfattare"],
                beredning_datum=_date(skr["beredning_datum"]),
                text=skr["text"].strip(),
            ),
            moment["registrerat"],
        )

        drogscener = {d["namn"]: _save(Drogscen(**d), register) for d in data["drogscener"]}
        aktorer = {}
        atgarder = []
        for item in data["atgarder"]:
            atgard = _save(
                Atgard(
                    typ=item["typ"],
                    titel=item["titel"],
                    beskrivning=item["beskrivning"].strip(),
                    period_start=_date(item.get("period_start")),
                    period_slut=_date(item.get("period_slut")),
                ),
                register,
            )
            for namn in item.get("aktorer", []):
                if namn not in aktorer:
                    aktorer[namn] = _save(Aktor(namn=namn), register)
            atgard.aktorer.set([aktorer[n] for n in item.get("aktorer", [])])
            atgard.drogscener.set([drogscener[n] for n in item.get("drogscener", [])])
            atgard.citerade_arenden.set([arenden[n] for n in item.get("citerade_arenden", [])])
            for utfall in item.get("utfall", []):
                _save(Utfall(atgard=atgard, **utfall), register)
            atgarder.append(atgard)
        _dated(Atgard, [a.pk for a in atgarder], register)

        self.load_tjansteutlatande(data, moment, arende, mall, mall_sektioner, atgarder, skrivelse, users)

        mote = data.get("sammantrade")
        if mote:
            _save(
                Sammantrade(
                    namnd=namnd,
                    datum=_date(mote["datum"]),
                    tid=datetime.time.fromisoformat(mote["tid"]),
                    plats=mote["plats"],
                ),
                register,
            )

    def load_tjansteutlatande(self, data, moment, arende, mall, mall_sektioner, atgarder, skrivelse, users):
        """The document's history as the services write it, at the story's moments: created by
        the handläggare, sent for attest with its content frozen, attested by each chef in turn,
        and the case following it (`services._folj_arende`)."""
        tud = data["tjansteutlatande"]
        handlaggare = users[data["arende"]["handlaggare"]]
        skapat = moment["skapat"]
        tu = _save(
            Tjansteutlatande(
                arende=arende,
                mall=mall,
                handlaggare=handlaggare,
                telefon=tud["telefon"],
                namnd=arende.forvaltning.namnd,
                sammantradesdatum=_date(tud["sammantradesdatum"]),
                titel=tud["titel"],
                undertitel=tud["undertitel"],
            ),
            skapat,
            handlaggare,
        )
        texter = tud["sektioner"]
        for nyckel, mall_sektion in mall_sektioner.items():
            _save(
                Sektion(
                    tjansteutlatande=tu,
                    mall_sektion=mall_sektion,
                    text=paragraphs_to_html(texter.get(nyckel, "")),
                    avslutning=paragraphs_to_html(texter.get(f"{nyckel}_avslutning", "")),
                ),
                skapat,
                handlaggare,
            )
        for ordning, atgard in enumerate(atgarder, start=1):
            _save(TjansteutlatandeAtgard(tjansteutlatande=tu, atgard=atgard, ordning=ordning), skapat, handlaggare)
        for ordning, item in enumerate(tud["undertecknare"], start=1):
            _save(
                Undertecknare(
                    tjansteutlatande=tu,
                    ordning=ordning,
                    anvandare=users[item["anvandare"]],
                    namn=item["namn"],
                    befattning=item["befattning"],
                ),
                skapat,
                handlaggare,
            )
        for ordning, item in enumerate(tud["bilagor"], start=1):
            _save(
                Bilaga(
                    tjansteutlatande=tu,
                    ordning=ordning,
                    titel=item["titel"],
                    text=skrivelse.text if item.get("skrivelse") else item.get("text", ""),
                ),
                skapat,
                handlaggare,
            )
        arende.status = ArendeStatus.UNDER_BEREDNING
        _save(arende, skapat + FOLJER, handlaggare, f"{services.STATUS}: {ArendeStatus.UNDER_BEREDNING.label}")

        # Sent for attest: what was approved is frozen, as sending does.
        snapshot = build_snapshot(tu)
        digest = snapshot_hash(snapshot)
        tu.innehall, tu.innehall_hash, tu.attest_omgang = snapshot, digest, 1
        tu.status = TjansteutlatandeStatus.TILL_ATTEST
        _save(tu, moment["skickat"], handlaggare, services.SKICKAT)
        steg = []
        for ordning, item in enumerate(tud["attesteringar"], start=1):
            attestering = Attestering(
                tjansteutlatande=tu,
                omgang=1,
                ordning=ordning,
                attestant=users[item["anvandare"]],
                namn=item["namn"],
                befattning=item["befattning"],
            )
            steg.append((_save(attestering, moment["skickat"], handlaggare, "I attestkedjan"), item))

        # Attested by each chef in turn, on the day the source prints; the case is then ready.
        for attestering, item in steg:
            attesterad = _moment(item["attesterad"])
            attestering.attesterad, attestering.innehall_hash = attesterad, digest
            _save(attestering, attesterad, attestering.attestant, services.ATTESTERAT)
            sista = attestering is steg[-1][0]
            tu.status = TjansteutlatandeStatus.ATTESTERAD if sista else TjansteutlatandeStatus.TILL_ATTEST
            _save(tu, attesterad, attestering.attestant, f"{services.ATTESTERAT}: {attestering.namn}")
        arende.status = ArendeStatus.REDO_FOR_NAMND
        _save(
            arende,
            attesterad + FOLJER,
            attestering.attestant,
            f"{services.STATUS}: {ArendeStatus.REDO_FOR_NAMND.label}",
        )
        _dated(Tjansteutlatande, [tu.pk], skapat, attesterad)
