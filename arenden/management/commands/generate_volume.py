"""Fill the database with a city's worth of realistic cases, for measuring at scale.

Cases are spread over several years and förvaltning prefixes, each with its skrivelse, a
tjänsteutlåtande with every section of the mall, åtgärder, bilagor, signatories and, where the
case has come that far, its frozen content and attestations. Everything is written with bulk
operations that still record history (django-simple-history's bulk_*_with_history), with
history dates and users as real use would have left them.
"""

import datetime
import random
import time
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from arenden.constants import ArendeStatus, TjansteutlatandeStatus
from arenden.models import (
    Arende,
    Attestering,
    Avdelning,
    Bilaga,
    DiarieSekvens,
    Forvaltning,
    Mall,
    MallSektion,
    Namnd,
    Profil,
    Sektion,
    Skrivelse,
    Tjansteutlatande,
    TjansteutlatandeAtgard,
    Undertecknare,
)
from arenden.snapshot import SNAPSHOT_PREFETCH, SNAPSHOT_SELECT, build_snapshot, snapshot_hash
from atgarder.constants import AtgardTyp
from atgarder.models import Aktor, Atgard, Drogscen

STOCKHOLM = ZoneInfo("Europe/Stockholm")
REASON = "Volymdata"

STADSDELAR = [
    ("SKHLM", "Skärholmen"),
    ("RK", "Rinkeby-Kista"),
    ("ST", "Spånga-Tensta"),
    ("HV", "Hässelby-Vällingby"),
    ("BROMMA", "Bromma"),
    ("KH", "Kungsholmen"),
    ("NM", "Norrmalm"),
    ("ÖM", "Östermalm"),
    ("SÖ", "Södermalm"),
    ("EÅV", "Enskede-Årsta-Vantör"),
    ("FA", "Farsta"),
    ("HÄ", "Hägersten-Älvsjö"),
    ("SKARP", "Skarpnäck"),
]
AVDELNINGAR = ["Medborgarservice och stadsmiljö", "Individ och familj inklusive fritid", "Förskola"]
RUBRIKER = [
    ("Förvaltningens förslag till beslut", "forslag_till_beslut", False),
    ("Sammanfattning", "sammanfattning", False),
    ("Bakgrund", "bakgrund", False),
    ("Ärendet", "arendet", False),
    ("Ärendets beredning", "beredning", False),
    ("Förvaltningens synpunkter och förslag", "synpunkter", True),
    ("Jämställdhetsanalys", "jamstalldhetsanalys", False),
    ("Barnkonsekvensanalys", "barnkonsekvensanalys", False),
]
AMNEN = [
    "Öppna drogscener",
    "Trygghet i centrumområden",
    "Fritidsgårdarnas öppettider",
    "Parklekar",
    "Belysning i gångtunnlar",
    "Ordningsvakter",
    "Trygghetskameror",
    "Föräldrastöd",
    "Feriejobb för unga",
    "Förskolans lokaler",
    "Nedskräpning",
    "Lekplatser",
    "Simskola",
    "Medborgarkontorets tider",
    "Äldres ensamhet",
    "Hemlöshet",
    "Trafiksäkerhet vid skolor",
]
FORNAMN = ["Anna", "Erik", "Maria", "Karl", "Sara", "Johan", "Fatima", "Ali", "Elin", "Mohammed", "Eva", "Lars"]
EFTERNAMN = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Hassan"]
TYP = ["Svar på skrivelse", "Yttrande över remiss", "Svar på medborgarförslag", "Uppföljning"]
ORD = (
    "förvaltningen arbetar tillsammans med polisen och andra aktörer för ökad trygghet i "
    "stadsdelen genom social och situationell prevention samverkan med skola socialtjänst "
    "fritid fastighetsägare centrumägare trafikkontoret föreningar boende unga vuxna barn "
    "familjer insatser uppföljning kartläggning lägesbild åtgärder under året har flera "
    "aktiviteter genomförts och arbetet fortsätter enligt den lokala samverkansöverenskommelsen"
).split()


class Command(BaseCommand):
    help = "Fyller databasen med realistiska ärenden för mätningar (volymdata)."

    def add_arguments(self, parser):
        parser.add_argument("--arenden", type=int, required=True, help="Antal ärenden att skapa.")
        parser.add_argument("--batch", type=int, default=2000, help="Ärenden per transaktion.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--forsta-ar", type=int, default=2019)

    def handle(self, *args, **options):
        total, batch = options["arenden"], options["batch"]
        if total < 1 or batch < 1:
            raise CommandError("--arenden och --batch måste vara positiva tal.")
        self.rng = random.Random(options["seed"])
        self.years = list(range(options["forsta_ar"], timezone.localdate().year + 1))
        with transaction.atomic():
            self.setup_reference_data()
        self.counters = self.current_counters()
        started = time.monotonic()
        done = 0
        while done < total:
            n = min(batch, total - done)
            with transaction.atomic():
                self.create_batch(n)
            done += n
            elapsed = time.monotonic() - started
            self.stdout.write(f"{done:>9} ärenden  {done / elapsed:8.0f} ärenden/s  {elapsed:7.1f} s")
        with transaction.atomic():
            self.update_series()
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(f"Klart: {total} ärenden på {elapsed:.1f} s ({total / elapsed:.0f} ärenden/s).")
        )

    # Reference data: förvaltningar, people, the mall, places and measures.

    def setup_reference_data(self):
        User = get_user_model()
        self.forvaltningar = []
        for prefix, namn in STADSDELAR:
            namnd, _ = Namnd.objects.get_or_create(namn=f"{namn} stadsdelsnämnd")
            fv, _ = Forvaltning.objects.get_or_create(
                diarieprefix=prefix, defaults={"namn": f"{namn} stadsdelsförvaltning", "namnd": namnd}
            )
            self.forvaltningar.append(fv)
        self.mall = Mall.objects.filter(namn__startswith="Stockholms stad").first()
        if self.mall is None:
            self.mall = Mall.objects.create(namn="Stockholms stad – tjänsteutlåtande")
            for i, (rubrik, nyckel, atg) in enumerate(RUBRIKER, start=1):
                MallSektion.objects.create(mall=self.mall, ordning=i, rubrik=rubrik, nyckel=nyckel, visar_atgarder=atg)
        self.mall_sektioner = list(self.mall.sektioner.order_by("ordning"))

        self.people = {}  # förvaltning pk -> {"handlaggare": [...], "chefer": [...], "direktor": user}
        for fv in self.forvaltningar:
            prefix = fv.diarieprefix.lower()
            existing = list(User.objects.filter(username__startswith=f"vol-{prefix}-"))
            if not existing:
                # A förvaltning may already have some of these (the demo's Skärholmen does).
                befintliga = {a.namn: a for a in fv.avdelningar.all()}
                nya = [Avdelning(forvaltning=fv, namn=n) for n in AVDELNINGAR if n not in befintliga]
                befintliga.update(
                    {a.namn: a for a in bulk_create_with_history(nya, Avdelning, default_change_reason=REASON)}
                )
                avdelningar = [befintliga[n] for n in AVDELNINGAR]
                users = [
                    User(
                        username=f"vol-{prefix}-{i}",
                        first_name=self.rng.choice(FORNAMN),
                        last_name=self.rng.choice(EFTERNAMN),
                        password="!",
                    )
                    for i in range(30)
                ]
                users = User.objects.bulk_create(users)
                profiles = []
                for i, user in enumerate(users):
                    befattning = "Stadsdelsdirektör" if i == 0 else "Avdelningschef" if i <= 3 else "Handläggare"
                    profiles.append(
                        Profil(
                            user=user,
                            befattning=befattning,
                            telefon=f"08-508{self.rng.randrange(10**5):05d}",
                            avdelning=avdelningar[(i - 1) % 3] if i else None,
                        )
                    )
                bulk_create_with_history(profiles, Profil, default_change_reason=REASON)
                existing = users
            existing.sort(key=lambda u: int(u.username.rsplit("-", 1)[1]))
            self.people[fv.pk] = {
                "direktor": existing[0],
                "chefer": existing[1:4],
                "handlaggare": existing[4:],
                "avdelningar": list(fv.avdelningar.all()),
            }

        all_users = [u for p in self.people.values() for u in (p["direktor"], *p["chefer"], *p["handlaggare"])]
        self.profil = {p.user_id: p for p in Profil.objects.filter(user__in=all_users)}

        if not Drogscen.objects.filter(namn__startswith="Centrum ").exists():
            scener = [
                Drogscen(namn=f"Centrum {fv.diarieprefix} {i}", omrade=fv.namn)
                for fv in self.forvaltningar
                for i in range(1, 4)
            ]
            bulk_create_with_history(scener, Drogscen, default_change_reason=REASON)
            aktorer = [Aktor(namn=n) for n in ("Polisen (volym)", "Skolan (volym)", "Fastighetsägare (volym)")]
            bulk_create_with_history(aktorer, Aktor, default_change_reason=REASON)
            atgarder = [
                Atgard(typ=self.rng.choice(AtgardTyp.values), titel=f"Åtgärd {i}", beskrivning=self.text(2))
                for i in range(600)
            ]
            bulk_create_with_history(atgarder, Atgard, default_change_reason=REASON)
        self.atgard_ids = list(Atgard.objects.values_list("pk", flat=True))

    def current_counters(self):
        counters = defaultdict(int)
        for row in Arende.objects.values("forvaltning__diarieprefix", "ar").annotate(m=Max("lopnummer")):
            counters[(row["forvaltning__diarieprefix"], row["ar"])] = row["m"]
        for s in DiarieSekvens.objects.all():
            counters[(s.prefix, s.ar)] = max(counters[(s.prefix, s.ar)], s.senaste)
        return counters

    def update_series(self):
        for (prefix, ar), last in self.counters.items():
            DiarieSekvens.objects.update_or_create(prefix=prefix, ar=ar, defaults={"senaste": last})

    # One batch of cases, with everything that hangs on them.

    def text(self, sentences):
        out = []
        for _ in range(sentences):
            words = self.rng.choices(ORD, k=self.rng.randint(8, 18))
            out.append(" ".join(words).capitalize() + ".")
        return " ".join(out)

    def moment(self, day, hour):
        return datetime.datetime.combine(day, datetime.time(hour, self.rng.randrange(60)), STOCKHOLM)

    def create_batch(self, n):
        rng = self.rng
        today = timezone.localdate()
        plans = []
        arenden = []
        for _ in range(n):
            fv = rng.choice(self.forvaltningar)
            people = self.people[fv.pk]
            ar = rng.choice(self.years)
            self.counters[(fv.diarieprefix, ar)] += 1
            lopnummer = self.counters[(fv.diarieprefix, ar)]
            registrerad = min(datetime.date(ar, 1, 1) + datetime.timedelta(days=rng.randrange(365)), today)
            handlaggare = rng.choice(people["handlaggare"])
            amne = rng.choice(AMNEN)
            old = ar < today.year
            stage = (
                "beslutad"
                if old and rng.random() < 0.9
                else rng.choice(["registrerat", "utkast", "till_attest", "attesterad", "beslutad"])
            )
            arende = Arende(
                diarienummer=f"{fv.diarieprefix} {ar}/{lopnummer}",
                forvaltning=fv,
                ar=ar,
                lopnummer=lopnummer,
                arendemening=f"{amne} – {rng.choice(TYP).lower()}",
                handlaggare=handlaggare,
                avdelning=rng.choice(people["avdelningar"]),
                registrerad=registrerad,
            )
            arende._history_date = self.moment(registrerad, 9)
            arende._history_user = handlaggare
            arenden.append(arende)
            plans.append((arende, fv, people, handlaggare, amne, stage, registrerad))
        bulk_create_with_history(arenden, Arende, default_change_reason="Registrerat")

        skrivelser, tus = [], []
        for arende, fv, people, handlaggare, amne, stage, registrerad in plans:
            skr = Skrivelse(
                arende=arende,
                titel=amne,
                forfattare="Ledamöter i nämnden",
                beredning_datum=registrerad,
                text=self.text(4),
            )
            skr._history_date = self.moment(registrerad, 10)
            skrivelser.append(skr)
            if stage == "registrerat":
                continue
            tu = Tjansteutlatande(
                arende=arende,
                mall=self.mall,
                handlaggare=handlaggare,
                telefon=self.profil[handlaggare.pk].telefon,
                namnd=fv.namnd,
                titel=amne,
                undertitel=self.rng.choice(TYP),
                sammantradesdatum=registrerad + datetime.timedelta(days=60),
            )
            tu._history_date = self.moment(registrerad + datetime.timedelta(days=3), 11)
            tu._history_user = handlaggare
            tu._plan = (arende, people, stage, registrerad)
            tus.append(tu)
        bulk_create_with_history(skrivelser, Skrivelse, default_change_reason=REASON)
        bulk_create_with_history(tus, Tjansteutlatande, default_change_reason="Skapat")

        sektioner, val, bilagor, undertecknare = [], [], [], []
        for tu in tus:
            arende, people, stage, registrerad = tu._plan
            when = self.moment(registrerad + datetime.timedelta(days=10), 14)
            for ms in self.mall_sektioner:
                s = Sektion(
                    tjansteutlatande=tu,
                    mall_sektion=ms,
                    text=f"<p>{self.text(3)}</p>",
                    avslutning=f"<p>{self.text(1)}</p>" if ms.visar_atgarder else "",
                )
                s._history_date, s._history_user = when, tu.handlaggare
                sektioner.append(s)
            for i, pk in enumerate(self.rng.sample(self.atgard_ids, 3), start=1):
                v = TjansteutlatandeAtgard(tjansteutlatande=tu, atgard_id=pk, ordning=i)
                v._history_date, v._history_user = when, tu.handlaggare
                val.append(v)
            bilagor.append(Bilaga(tjansteutlatande=tu, ordning=1, titel=f"Skrivelse; {tu.titel}", text=self.text(3)))
            chef = people["chefer"][0]
            undertecknare += [
                Undertecknare(
                    tjansteutlatande=tu,
                    ordning=1,
                    anvandare=people["direktor"],
                    namn=people["direktor"].get_full_name(),
                    befattning="Stadsdelsdirektör",
                ),
                Undertecknare(
                    tjansteutlatande=tu,
                    ordning=2,
                    anvandare=chef,
                    namn=chef.get_full_name(),
                    befattning="Avdelningschef",
                ),
            ]
        bulk_create_with_history(sektioner, Sektion, default_change_reason="Sparat")
        bulk_create_with_history(val, TjansteutlatandeAtgard, default_change_reason="Åtgärd tillagd")
        bulk_create_with_history(bilagor, Bilaga, default_change_reason=REASON)
        bulk_create_with_history(undertecknare, Undertecknare, default_change_reason=REASON)

        self.advance(tus, arenden)

    def advance(self, tus, arenden):
        """Send, attest and decide, as far as each case has come, with a history row per step."""
        sent = [tu for tu in tus if tu._plan[2] in ("till_attest", "attesterad", "beslutad")]
        by_pk = {
            tu.pk: tu
            for tu in Tjansteutlatande.objects.filter(pk__in=[t.pk for t in sent])
            .select_related(*SNAPSHOT_SELECT)
            .prefetch_related(*SNAPSHOT_PREFETCH)
        }
        attesteringar, changed_tus = [], []
        status = {
            "till_attest": TjansteutlatandeStatus.TILL_ATTEST,
            "attesterad": TjansteutlatandeStatus.ATTESTERAD,
            "beslutad": TjansteutlatandeStatus.BESLUTAD,
        }
        for tu in sent:
            arende, people, stage, registrerad = tu._plan
            snapshot = build_snapshot(by_pk[tu.pk])
            tu.innehall, tu.innehall_hash, tu.attest_omgang = snapshot, snapshot_hash(snapshot), 1
            tu.status = status[stage]
            tu._history_date = self.moment(registrerad + datetime.timedelta(days=20), 15)
            changed_tus.append(tu)
            chain = [people["chefer"][0], people["direktor"]]
            for i, chef in enumerate(chain, start=1):
                done = stage != "till_attest"
                a = Attestering(
                    tjansteutlatande=tu,
                    omgang=1,
                    ordning=i,
                    attestant=chef,
                    namn=chef.get_full_name() if done else "",
                    befattning=self.profil[chef.pk].befattning if done else "",
                    attesterad=self.moment(registrerad + datetime.timedelta(days=22), 9 + i) if done else None,
                    innehall_hash=tu.innehall_hash if done else "",
                )
                a._history_date = tu._history_date
                attesteringar.append(a)
        # One UPDATE a document: bulk_update's CASE over large JSON values is far slower here.
        for tu in changed_tus:
            Tjansteutlatande.objects.filter(pk=tu.pk).update(
                innehall=tu.innehall, innehall_hash=tu.innehall_hash, attest_omgang=1, status=tu.status
            )
        Tjansteutlatande.history.bulk_history_create(
            changed_tus, update=True, default_change_reason="Skickat för attest"
        )
        bulk_create_with_history(attesteringar, Attestering, default_change_reason="Attestkedja")

        arende_status = {
            "utkast": ArendeStatus.UNDER_BEREDNING,
            "till_attest": ArendeStatus.UNDER_BEREDNING,
            "attesterad": ArendeStatus.REDO_FOR_NAMND,
            "beslutad": ArendeStatus.AVSLUTAT,
        }
        moved = []
        for tu in tus:
            arende, _, stage, registrerad = tu._plan
            arende.status = arende_status[stage]
            arende._history_date = self.moment(registrerad + datetime.timedelta(days=25), 16)
            moved.append(arende)
        # Few distinct states: one UPDATE per state, then the history rows for each case.
        by_status = defaultdict(list)
        for arende in moved:
            by_status[arende.status].append(arende.pk)
        for new_status, pks in by_status.items():
            Arende.objects.filter(pk__in=pks).update(status=new_status)
        Arende.history.bulk_history_create(moved, update=True, default_change_reason="Status ändrad")
