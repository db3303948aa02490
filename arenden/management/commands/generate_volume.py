"""Fill the database with a city's worth of realistic cases, for measuring at scale.

Cases are spread over several years and förvaltning prefixes, each with its skrivelse, a
tjänsteutlåtande with every section of the mall, åtgärder, bilagor, signatories and, where the
case has come that far, its frozen content and attestations. Decided cases sit on a meeting's
föredragningslista with the nämnd's beslut.

Every row is written with the history rows real use leaves (django-simple-history's historical
tables: one row per state, with the date, the user and the reason), but without building model
instances: each batch is plain tuples per table, sent with COPY on PostgreSQL (executemany
elsewhere). The frozen content of a sent document is made by the same build_snapshot the
service uses, from the batch's data.
"""

import datetime
import json
import multiprocessing
import os
import random
import re
import time
from collections import defaultdict
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections, transaction
from django.db.models import Max, Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from arenden.constants import ArendeStatus, Roll, TjansteutlatandeStatus
from arenden.models import (
    Arende,
    Attestering,
    Avdelning,
    Bilaga,
    DiarieSekvens,
    Foredragningspunkt,
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
    display_name,
)
from arenden.services import ATTESTERAT, SATT_PA_LISTAN, SKICKAT, STATUS
from arenden.snapshot import build_snapshot, snapshot_hash
from atgarder.constants import AtgardTyp
from atgarder.models import Aktor, Atgard, Drogscen
from atgarder.services import skapa_atgard

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
VOLYMAKTORER = ("Polisen (volym)", "Skolan (volym)", "Fastighetsägare (volym)")
TYP = ["Svar på skrivelse", "Yttrande över remiss", "Svar på medborgarförslag", "Uppföljning"]
ORD = (
    "förvaltningen arbetar tillsammans med polisen och andra aktörer för ökad trygghet i "
    "stadsdelen genom social och situationell prevention samverkan med skola socialtjänst "
    "fritid fastighetsägare centrumägare trafikkontoret föreningar boende unga vuxna barn "
    "familjer insatser uppföljning kartläggning lägesbild åtgärder under året har flera "
    "aktiviteter genomförts och arbetet fortsätter enligt den lokala samverkansöverenskommelsen"
).split()
# An HTML tag, whose parts are no words: taken out before a text is cut into words.
TAGG = re.compile(r"<[^>]*>")


# Written in this order, each with its history table after it. The ärenden come last: their
# row trigger then builds each case's search vector from all its texts at once (migration
# 0005_sokvektor), while the per-text triggers are off for the batch. The foreign keys are
# checked at commit (PostgreSQL's are deferred), so the order is free.
MODELS = [
    Skrivelse,
    Tjansteutlatande,
    Sektion,
    TjansteutlatandeAtgard,
    Bilaga,
    Undertecknare,
    Attestering,
    Sammantrade,
    Foredragningspunkt,
    Arende,
]


class Command(BaseCommand):
    help = "Fyller databasen med realistiska ärenden för mätningar (volymdata)."

    def add_arguments(self, parser):
        parser.add_argument("--arenden", type=int, required=True, help="Antal ärenden att skapa.")
        parser.add_argument("--batch", type=int, default=2000, help="Ärenden per transaktion.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--atgarder", type=int, default=600, help="Åtgärder i registret, skapade vid första körningen."
        )
        parser.add_argument("--forsta-ar", type=int, default=2019)
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Processer som skriver samtidigt (PostgreSQL). Förval: en per kärna, högst 4.",
        )

    def handle(self, *args, **options):
        total, batch = options["arenden"], options["batch"]
        if total < 1 or batch < 1:
            raise CommandError("--arenden och --batch måste vara positiva tal.")
        if settings.PRODUCTION:
            # Its cases join the real förvaltningar's series: on a diarium in use they would stand
            # beside real cases, and its numbers race the registrations.
            raise CommandError(
                "generate_volume fyller databasen med påhittade ärenden och körs inte med PRODUCTION=true. "
                "Fyll en egen databas för prov och mätningar."
            )
        workers = self.resolve_workers(options["workers"])
        self.seed = options["seed"]
        self.rng = random.Random(self.seed)
        self.antal_atgarder = options["atgarder"]
        self.years = list(range(options["forsta_ar"], timezone.localdate().year + 1))
        with transaction.atomic():
            self.setup_reference_data()
        self.start_count = Arende.objects.count()
        started = time.monotonic()
        try:
            if workers == 1:
                self.fill(self.forvaltningar, total, batch, analyze=True, progress=self.progress_printer(started))
            else:
                self.fill_in_processes(workers, total, batch, started)
        finally:
            # The series continue after the highest number written, also when a batch failed:
            # the committed batches keep their numbers, and the next registration follows them.
            with transaction.atomic():
                self.counters = self.current_counters()
                self.update_series()
        self.analyze_all()
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(f"Klart: {total} ärenden på {elapsed:.1f} s ({total / elapsed:.0f} ärenden/s).")
        )

    def resolve_workers(self, asked):
        """One process per core on PostgreSQL, where the database's own work (indexes, the search
        vectors) is most of a batch and each process gets its own backend. One process on SQLite,
        which has one writer, and inside a transaction (tests), which other processes cannot see."""
        if asked is not None and asked < 1:
            raise CommandError("--workers måste vara ett positivt tal.")
        if asked is not None and asked > 1 and connection.vendor != "postgresql":
            raise CommandError("Flera processer (--workers) kräver PostgreSQL; SQLite har en skrivare i taget.")
        if asked is None:
            parallel = connection.vendor == "postgresql" and not connection.in_atomic_block
            asked = min(os.cpu_count() or 1, 4) if parallel else 1
        if asked > 1 and connection.in_atomic_block:
            raise CommandError("Flera processer (--workers) kan inte köras inuti en transaktion.")
        return asked

    def progress_printer(self, started):
        def progress(done):
            elapsed = time.monotonic() - started
            self.stdout.write(f"{done:>9} ärenden  {done / elapsed:8.0f} ärenden/s  {elapsed:7.1f} s")

        return progress

    def fill(self, forvaltningar, total, batch, *, analyze, progress, written=None):
        """Write `total` cases of `forvaltningar` in transactions of `batch` cases. The
        diarienummer series are per förvaltning, so processes given different förvaltningar
        never number the same series."""
        self.fyllda = forvaltningar
        self.counters = self.current_counters()
        self.rows = Rows(connection, MODELS)
        # Cases written so far by every process, this batch not counted.
        self.written = written or (lambda: self.done)
        self.analyze, self.next_analyze = analyze, 0
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Bulk loading: the GIN indexes (full text, trigrams) take new rows in larger
                # batches, and a batch's commit need not wait for its WAL flush (a crash loses
                # at most the last batches of generated data, never a real one).
                cursor.execute("SET gin_pending_list_limit = '32MB'")
                cursor.execute("SET synchronous_commit = off")
        self.done = 0
        while self.done < total:
            n = min(batch, total - self.done)
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL skarholmen.sokvektor_uppskjuten = 'on'")
                self.create_batch(n)
            self.done += n
            progress(self.done)

    def fill_in_processes(self, workers, total, batch, started):
        """Split the förvaltningar between `workers` forked processes, each with its own
        connection and its share of the cases (in proportion to its förvaltningar, so every
        förvaltning gets as many as with one process), and report their joint progress."""
        context = multiprocessing.get_context("fork")
        done = context.Value("q", 0)
        parts = [self.forvaltningar[k::workers] for k in range(workers)]
        shares = [total * len(part) // len(self.forvaltningar) for part in parts]
        shares[0] += total - sum(shares)
        connections.close_all()  # each process opens its own
        processes = [
            context.Process(target=self.fill_worker, args=(k, part, share, batch, done), daemon=True)
            for k, (part, share) in enumerate(zip(parts, shares, strict=True))
            if share
        ]
        for process in processes:
            process.start()
        printed = 0
        try:
            while any(p.is_alive() for p in processes):
                if any(p.exitcode not in (None, 0) for p in processes):
                    break
                time.sleep(0.2)
                if done.value >= printed + batch:
                    printed = done.value
                    self.progress_printer(started)(printed)
        finally:
            for process in processes:
                if process.is_alive():
                    process.terminate()
                process.join()
        failed = [k for k, p in enumerate(processes) if p.exitcode != 0]
        if failed:
            raise CommandError(
                f"Process {', '.join(str(k + 1) for k in failed)} av {len(processes)} avbröts; "
                f"{done.value} av {total} ärenden skrevs."
            )
        self.progress_printer(started)(done.value)

    def fill_worker(self, k, forvaltningar, total, batch, done):
        self.rng = random.Random(f"{self.seed}-{k}")

        reported = 0

        def progress(own):
            nonlocal reported
            with done.get_lock():
                done.value += own - reported
            reported = own

        try:
            # The first process keeps the planner's statistics fresh for all of them.
            self.fill(forvaltningar, total, batch, analyze=k == 0, progress=progress, written=lambda: done.value)
        finally:
            connections.close_all()

    # Reference data: förvaltningar, people, the mall, places and measures.

    def setup_reference_data(self):
        User = get_user_model()
        self.forvaltningar = []
        for prefix, namn in STADSDELAR:
            # An existing förvaltning is joined by its prefix or its name (it may use another prefix).
            fv = Forvaltning.objects.filter(Q(diarieprefix=prefix) | Q(namn=f"{namn} stadsdelsförvaltning")).first()
            if fv is None:
                namnd = Namnd.objects.filter(namn=f"{namn} stadsdelsnämnd").first() or skapa(
                    Namnd, namn=f"{namn} stadsdelsnämnd"
                )
                fv = skapa(Forvaltning, diarieprefix=prefix, namn=f"{namn} stadsdelsförvaltning", namnd=namnd)
            self.forvaltningar.append(fv)
        self.mall = Mall.objects.filter(namn__startswith="Stockholms stad").first()
        if self.mall is None:
            self.mall = skapa(Mall, namn="Stockholms stad – tjänsteutlåtande")
            for i, (rubrik, nyckel, atg) in enumerate(RUBRIKER, start=1):
                skapa(MallSektion, mall=self.mall, ordning=i, rubrik=rubrik, nyckel=nyckel, visar_atgarder=atg)
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
                groups = {
                    name: Group.objects.get_or_create(name=name)[0]
                    for name in (Roll.ATTESTANT, Roll.HANDLAGGARE, Roll.NAMNDSEKRETERARE, Roll.REGISTRATOR)
                }
                # Created one by one, as the admin creates people, so that each has its history
                # rows with its roles (a bulk insert of users and their groups records none).
                users = []
                for i in range(30):
                    user = User(
                        username=f"vol-{prefix}-{i}",
                        first_name=self.rng.choice(FORNAMN),
                        last_name=self.rng.choice(EFTERNAMN),
                        password="!",
                        is_staff=i <= 3,
                    )
                    user._change_reason = REASON
                    user.save()
                    user.groups.set([groups[r] for r in self.roller(i)])
                    users.append(user)
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
                self.set_chefs(fv, users, avdelningar)
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

        if not Aktor.objects.filter(namn=VOLYMAKTORER[0]).exists():
            scener = [
                Drogscen(namn=f"Centrum {fv.diarieprefix} {i}", omrade=fv.namn)
                for fv in self.forvaltningar
                for i in range(1, 4)
            ]
            scener = bulk_create_with_history(scener, Drogscen, default_change_reason=REASON)
            aktorer = [Aktor(namn=n) for n in VOLYMAKTORER]
            aktorer = bulk_create_with_history(aktorer, Aktor, default_change_reason=REASON)
            # Each åtgärd works at one or two places of one stadsdel, created as an officer creates it.
            for i in range(self.antal_atgarder):
                fv = i % len(self.forvaltningar)
                skapa_atgard(
                    user=self.people[self.forvaltningar[fv].pk]["handlaggare"][0],
                    typ=self.rng.choice(AtgardTyp.values),
                    titel=f"Åtgärd {i}",
                    beskrivning=self.text(2),
                    aktorer=[self.rng.choice(aktorer)],
                    drogscener=self.rng.sample(scener[3 * fv : 3 * fv + 3], self.rng.randint(1, 2)),
                )
        self.atgarder = {a.pk: a for a in Atgard.objects.all()}
        self.atgard_ids = sorted(self.atgarder)
        self.names = {u.pk: display_name(u) for u in all_users}
        # Meetings already held, so that cases of another run join them instead of repeating them.
        self.moten = {}
        for mote in Sammantrade.objects.select_related("namnd").annotate(punkter_max=Max("punkter__nummer")):
            self.moten.setdefault(
                (mote.namnd_id, mote.datum),
                {"id": mote.pk, "punkter": mote.punkter_max or 0, "namn": str(mote)},
            )

    @staticmethod
    def roller(i):
        """The people work as real ones do: the direktör and the three avdelningschefer attest in
        the admin, the last chef is also the nämnd's secretary and registrator, the others are
        handläggare."""
        if i == 3:
            return [Roll.ATTESTANT, Roll.NAMNDSEKRETERARE, Roll.REGISTRATOR]
        return [Roll.ATTESTANT] if i < 3 else [Roll.HANDLAGGARE]

    def set_chefs(self, fv, users, avdelningar):
        """Chefs are set on the förvaltning and the avdelningar that have none."""
        if fv.chef_id is None:
            fv.chef, fv._change_reason = users[0], REASON
            fv.save()
        for avdelning, chef in zip(avdelningar, users[1:4], strict=True):
            if avdelning.chef_id is None:
                avdelning.chef, avdelning._change_reason = chef, REASON
                avdelning.save()

    def current_counters(self):
        counters = defaultdict(int)
        for row in Arende.objects.values("forvaltning__diarieprefix", "ar").annotate(m=Max("lopnummer")):
            counters[(row["forvaltning__diarieprefix"], row["ar"])] = row["m"]
        for s in DiarieSekvens.objects.all():
            counters[(s.prefix, s.ar)] = max(counters[(s.prefix, s.ar)], s.senaste)
        return counters

    def update_series(self):
        """Each series continues after the highest number written. Under the series' lock, and
        never lower than it stands: a number registered meanwhile keeps its place."""
        for (prefix, ar), last in self.counters.items():
            serie, _ = DiarieSekvens.objects.select_for_update().get_or_create(prefix=prefix, ar=ar)
            if serie.senaste < last:
                serie.senaste = last
                serie.save(update_fields=["senaste"])

    def text(self, sentences):
        out = []
        for _ in range(sentences):
            words = self.rng.choices(ORD, k=self.rng.randint(8, 18))
            out.append(" ".join(words).capitalize() + ".")
        return " ".join(out)

    def moment(self, day, hour):
        return datetime.datetime.combine(day, datetime.time(hour, self.rng.randrange(60)), STOCKHOLM)

    # One batch of cases, with everything that hangs on them, built as plain rows.

    def create_batch(self, n):
        rng, rows, today = self.rng, self.rows, timezone.localdate()
        self.texter = []  # the batch's searched texts, whose words the search suggests from
        arende_ids = rows.reserve_ids(Arende, n)
        for arende_id in arende_ids:
            fv = rng.choice(self.fyllda)
            people = self.people[fv.pk]
            ar = rng.choice(self.years)
            self.counters[(fv.diarieprefix, ar)] += 1
            lopnummer = self.counters[(fv.diarieprefix, ar)]
            registrerad = min(datetime.date(ar, 1, 1) + datetime.timedelta(days=rng.randrange(365)), today)
            handlaggare = rng.choice(people["handlaggare"])
            avdelning = rng.choice(people["avdelningar"])
            amne = rng.choice(AMNEN)
            old = ar < today.year
            stage = (
                "beslutad"
                if old and rng.random() < 0.9
                else rng.choice(["registrerat", "utkast", "till_attest", "attesterad", "beslutad"])
            )
            arende = {
                "id": arende_id,
                "diarienummer": f"{fv.diarieprefix} {ar}/{lopnummer}",
                "forvaltning_id": fv.pk,
                "ar": ar,
                "lopnummer": lopnummer,
                "arendemening": f"{amne} – {rng.choice(TYP).lower()}",
                "status": ArendeStatus.REGISTRERAT,
                "handlaggare_id": handlaggare.pk,
                "avdelning_id": avdelning.pk,
                "registrerad": registrerad,
                "citerade_utanfor_diariet": "",
            }
            rows.add(Arende, arende, self.moment(registrerad, 9), handlaggare, "Registrerat")
            skrivelse = {
                "id": rows.next_id(Skrivelse),
                "arende_id": arende_id,
                "titel": amne,
                "forfattare": "Ledamöter i nämnden",
                "beredning_datum": registrerad,
                "text": self.text(4),
                "fil": "",
            }
            self.texter += [arende["arendemening"], skrivelse["titel"], skrivelse["text"]]
            rows.add(Skrivelse, skrivelse, self.moment(registrerad, 10), handlaggare, REASON)
            rows.save(Skrivelse, skrivelse)
            if stage != "registrerat":
                self.write_document(arende, fv, people, handlaggare, avdelning, amne, stage)
            # The main row carries the latest state; the history has each state in turn.
            rows.save(Arende, arende)
        rows.flush(MODELS[:-1])
        self.analyze_if_grown(self.start_count + self.written() + n)
        rows.flush(MODELS[-1:])
        self.save_words()

    def save_words(self):
        """The batch's words for the search's "Menade du …?" (migration 0028_sokord), whose
        per-text triggers are off for the batch as the search vector's are: each distinct word
        once, sent in one statement that applies the triggers' own rules to them. Last in the
        batch, so that a word new to the diarium, which the other processes' batches wait for
        until this one commits, is held only that long."""
        if connection.vendor != "postgresql":
            return
        ord_ = set(TAGG.sub(" ", " ".join(self.texter)).split())
        with connection.cursor() as cursor:
            cursor.execute("SELECT arenden_spara_ord(%s)", [" ".join(sorted(ord_))])

    def analyze_if_grown(self, written):
        """Fresh planner statistics each time the diarium has doubled, taken inside the batch so
        that they count its texts: the ärenden's search-vector trigger reads each case's texts
        by their indexes only when PostgreSQL knows how big the tables have grown."""
        if connection.vendor != "postgresql" or not self.analyze or written < self.next_analyze:
            return
        with connection.cursor() as cursor:
            for model in MODELS[:-1]:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        self.next_analyze = max(2 * written, 2000)

    def analyze_all(self):
        """Planner statistics for the size the diarium ended at, on every table, the histories
        too: those of the last doubling are of up to half the size and leave the histories out,
        and autovacuum takes its own time. With them, a case's history page was planned as if the
        case had thousands of history rows, and took a second instead of 10 ms."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

    def write_document(self, arende, fv, people, handlaggare, avdelning, amne, stage):
        rng, rows = self.rng, self.rows
        registrerad = arende["registrerad"]
        skapad = self.moment(registrerad + datetime.timedelta(days=3), 11)
        skrivet = self.moment(registrerad + datetime.timedelta(days=10), 14)
        tu = {
            "id": rows.next_id(Tjansteutlatande),
            "arende_id": arende["id"],
            "forvaltning_id": fv.pk,
            "mall_id": self.mall.pk,
            "status": TjansteutlatandeStatus.UTKAST,
            "handlaggare_id": handlaggare.pk,
            "telefon": self.profil[handlaggare.pk].telefon,
            "namnd_id": fv.namnd_id,
            "sammantradesdatum": registrerad + datetime.timedelta(days=60),
            "titel": amne,
            "undertitel": rng.choice(TYP),
            "version": 1,
            "innehall": None,
            "innehall_hash": "",
            "attest_omgang": 0,
            "aterremiss_kommentar": "",
            "skapad": skapad,
            "andrad": skrivet,
        }
        rows.add(Tjansteutlatande, tu, skapad, handlaggare, "Skapat")
        sektioner = []
        for ms in self.mall_sektioner:
            s = {
                "id": rows.next_id(Sektion),
                "tjansteutlatande_id": tu["id"],
                "mall_sektion_id": ms.pk,
                "text": f"<p>{self.text(3)}</p>",
                "avslutning": f"<p>{self.text(1)}</p>" if ms.visar_atgarder else "",
                "version": 1,
            }
            rows.add(Sektion, s, skrivet, handlaggare, "Sparat")
            self.texter += [s["text"], s["avslutning"]]
            rows.save(Sektion, s)
            sektioner.append(SimpleNamespace(pk=s["id"], mall_sektion=ms, text=s["text"], avslutning=s["avslutning"]))
        val = []
        for i, pk in enumerate(rng.sample(self.atgard_ids, 3), start=1):
            v = {
                "id": rows.next_id(TjansteutlatandeAtgard),
                "tjansteutlatande_id": tu["id"],
                "atgard_id": pk,
                "ordning": i,
            }
            rows.add(TjansteutlatandeAtgard, v, skrivet, handlaggare, "Åtgärd tillagd")
            rows.save(TjansteutlatandeAtgard, v)
            val.append(SimpleNamespace(pk=v["id"], ordning=i, atgard=self.atgarder[pk]))
        bilaga = {
            "id": rows.next_id(Bilaga),
            "tjansteutlatande_id": tu["id"],
            "ordning": 1,
            "titel": f"Skrivelse; {amne}",
            "fil": "",
            "text": self.text(3),
        }
        rows.add(Bilaga, bilaga, skrivet, handlaggare, REASON)
        rows.save(Bilaga, bilaga)
        undertecknare = []
        for ordning, (person, befattning) in enumerate(
            ((people["direktor"], "Stadsdelsdirektör"), (people["chefer"][0], "Avdelningschef")), start=1
        ):
            u = {
                "id": rows.next_id(Undertecknare),
                "tjansteutlatande_id": tu["id"],
                "ordning": ordning,
                "anvandare_id": person.pk,
                "namn": self.names[person.pk],
                "befattning": befattning,
            }
            rows.add(Undertecknare, u, skrivet, handlaggare, REASON)
            rows.save(Undertecknare, u)
            undertecknare.append(SimpleNamespace(**u, pk=u["id"]))
        arende["status"] = ArendeStatus.UNDER_BEREDNING
        if stage == "utkast":
            rows.add(Arende, arende, skrivet, handlaggare, f"{STATUS}: {ArendeStatus.UNDER_BEREDNING.label}")
            rows.save(Tjansteutlatande, tu)
            return

        # Sent for attest: the content is frozen exactly as build_snapshot reads it from the database.
        document = SimpleNamespace(
            arende=SimpleNamespace(
                diarienummer=arende["diarienummer"],
                arendemening=arende["arendemening"],
                avdelning=avdelning,
                forvaltning=fv,
            ),
            handlaggare=handlaggare,
            namnd=fv.namnd,
            telefon=tu["telefon"],
            sammantradesdatum=tu["sammantradesdatum"],
            titel=tu["titel"],
            undertitel=tu["undertitel"],
            sektioner=Related(sektioner),
            atgard_val=Related(val),
            undertecknare=Related(undertecknare),
            bilagor=Related([SimpleNamespace(**bilaga, pk=bilaga["id"])]),
        )
        innehall = build_snapshot(document)
        skickat = self.moment(registrerad + datetime.timedelta(days=20), 15)
        tu.update(
            innehall=innehall,
            innehall_hash=snapshot_hash(innehall),
            attest_omgang=1,
            status=TjansteutlatandeStatus.TILL_ATTEST,
            andrad=skickat,
        )
        rows.add(Tjansteutlatande, tu, skickat, handlaggare, SKICKAT)
        done = stage != "till_attest"
        for ordning, chef in enumerate((people["chefer"][0], people["direktor"]), start=1):
            a = {
                "id": rows.next_id(Attestering),
                "tjansteutlatande_id": tu["id"],
                "omgang": 1,
                "ordning": ordning,
                "attestant_id": chef.pk,
                "namn": "",
                "befattning": "",
                "attesterad": None,
                "innehall_hash": "",
                "makulerad": None,
            }
            rows.add(Attestering, a, skickat, handlaggare, "Attestkedja")
            if done:
                attesterad = self.moment(registrerad + datetime.timedelta(days=22), 9 + ordning)
                a.update(
                    namn=self.names[chef.pk],
                    befattning=self.profil[chef.pk].befattning,
                    attesterad=attesterad,
                    innehall_hash=tu["innehall_hash"],
                )
                rows.add(Attestering, a, attesterad, chef, ATTESTERAT)
            rows.save(Attestering, a)
        if not done:
            rows.add(Arende, arende, skickat, handlaggare, f"{STATUS}: {ArendeStatus.UNDER_BEREDNING.label}")
            rows.save(Tjansteutlatande, tu)
            return

        attesterad = self.moment(registrerad + datetime.timedelta(days=22), 12)
        tu.update(status=TjansteutlatandeStatus.ATTESTERAD, andrad=attesterad)
        rows.add(Tjansteutlatande, tu, attesterad, people["direktor"], ATTESTERAT)
        arende["status"] = ArendeStatus.REDO_FOR_NAMND
        rows.add(Arende, arende, attesterad, people["direktor"], f"{STATUS}: {ArendeStatus.REDO_FOR_NAMND.label}")
        if stage == "beslutad":
            self.decide(arende, tu, fv)
        rows.save(Tjansteutlatande, tu)

    def decide(self, arende, tu, fv):
        """Put the document on its meeting's föredragningslista and record the nämnd's decision."""
        rows = self.rows
        datum = tu["sammantradesdatum"]
        sekreterare = self.people[fv.pk]["chefer"][-1]
        key = (fv.namnd_id, datum)
        mote = self.moten.get(key)
        if mote is None:
            mote = {
                "id": rows.next_id(Sammantrade),
                "namnd_id": fv.namnd_id,
                "datum": datum,
                "tid": datetime.time(18, 0),
                "plats": f"{fv.namn}, Sessionssalen",
            }
            rows.add(Sammantrade, mote, self.moment(datum - datetime.timedelta(days=30), 8), sekreterare, REASON)
            rows.save(Sammantrade, mote)
            self.moten[key] = mote = {"id": mote["id"], "punkter": 0, "namn": f"{fv.namnd} {datum:%Y-%m-%d}"}
        mote["punkter"] += 1
        satt = self.moment(datum - datetime.timedelta(days=10), 13)
        punkt = {
            "id": rows.next_id(Foredragningspunkt),
            "sammantrade_id": mote["id"],
            "nummer": mote["punkter"],
            "tjansteutlatande_id": tu["id"],
            "arende_id": arende["id"],
            "titel": "",
            "beslut": "",
            "beslutad": None,
            "protokollsutdrag": "",
        }
        var = f"{mote['namn']}, punkt {punkt['nummer']}"
        rows.add(Foredragningspunkt, punkt, satt, sekreterare, f"{SATT_PA_LISTAN}: {var}"[:100])
        tu.update(status=TjansteutlatandeStatus.PA_FOREDRAGNINGSLISTA, andrad=satt)
        rows.add(Tjansteutlatande, tu, satt, sekreterare, f"{SATT_PA_LISTAN}: {var}"[:100])
        arende["status"] = ArendeStatus.PA_FOREDRAGNINGSLISTA
        rows.add(Arende, arende, satt, sekreterare, f"{SATT_PA_LISTAN}: {var}: ”{tu['titel']}”"[:100])

        beslutad = self.moment(datum + datetime.timedelta(days=1), 9)
        punkt.update(beslut="Stadsdelsnämnden godkänner förvaltningens tjänsteutlåtande.", beslutad=beslutad)
        rows.add(Foredragningspunkt, punkt, beslutad, sekreterare, "Beslut registrerat")
        rows.save(Foredragningspunkt, punkt)
        tu.update(status=TjansteutlatandeStatus.BESLUTAD, andrad=beslutad)
        rows.add(Tjansteutlatande, tu, beslutad, sekreterare, f"Beslutad: {var}"[:100])
        arende["status"] = ArendeStatus.AVSLUTAT
        rows.add(Arende, arende, beslutad, sekreterare, f"Avslutat efter beslut: {var}"[:100])


def skapa(model, **falt):
    """A row of the organisation, created with its history row saying it is volume data."""
    obj = model(**falt)
    obj._change_reason = REASON
    obj.save()
    return obj


class Related(list):
    """A list that answers `.all()` and `.select_related()` like a prefetched related manager."""

    def all(self):
        return self

    def select_related(self, *fields):
        return self


class Rows:
    """Rows per table for one batch, and their history rows, written in one go per table: COPY on
    PostgreSQL, executemany elsewhere. Primary keys are taken from the table's own sequence on
    PostgreSQL, so the database hands out the next ones after them as usual."""

    def __init__(self, connection, models):
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.tables = {}
        self.history = {}  # model -> its history table (`Model.history` builds a manager per access)
        for model in models:
            self.tables[model] = Table(model, with_pk=True)
            self.history[model] = Table(model.history.model, with_pk=False)
        self.ids = defaultdict(list)
        self.next_free = {}

    def reserve_ids(self, model, n):
        table = model._meta.db_table
        with self.connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n]
                )
                return [row[0] for row in cursor.fetchall()]
            # Elsewhere (SQLite, tests) the generator is the only writer while it runs.
            if model not in self.next_free:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {self.connection.ops.quote_name(table)}")
                self.next_free[model] = cursor.fetchone()[0] + 1
            start = self.next_free[model]
            self.next_free[model] += n
            return list(range(start, start + n))

    def next_id(self, model):
        ids = self.ids[model]
        if not ids:
            ids.extend(reversed(self.reserve_ids(model, 1000)))
        return ids.pop()

    def save(self, model, values):
        self.tables[model].add(values)

    def add(self, model, values, date, user, reason):
        """A history row holding `values` as they are at `date`, changed by `user`."""
        seen = self.tables[model].seen
        self.history[model].add(
            {
                **values,
                "history_date": date,
                "history_user_id": user.pk if user else None,
                "history_change_reason": reason,
                "history_type": "~" if values["id"] in seen else "+",
            }
        )
        seen.add(values["id"])

    def flush(self, models):
        for model in models:
            for table in (self.tables[model], self.history[model]):
                table.write(self.connection, self.postgres)
            self.tables[model].seen.clear()


class Table:
    def __init__(self, model, with_pk):
        fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
        self.fields = fields
        self.names = [f.attname for f in fields]
        self.defaults = {f.attname: f.get_default() for f in fields}
        self.db_table = model._meta.db_table
        self.rows = []
        self.seen = set()

    def add(self, values):
        self.rows.append(tuple(values.get(n, self.defaults[n]) for n in self.names))

    def write(self, connection, postgres):
        if not self.rows:
            return
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in self.fields)
        with connection.cursor() as cursor:
            if postgres:
                json_columns = [i for i, f in enumerate(self.fields) if f.get_internal_type() == "JSONField"]
                dumped = {}  # a document's frozen content recurs in its history rows: encode it once
                with cursor.copy(f"COPY {quote(self.db_table)} ({columns}) FROM STDIN") as copy:
                    for row in self.rows:
                        if json_columns:
                            row = list(row)
                            for i in json_columns:
                                if row[i] is not None:
                                    key = id(row[i])
                                    if key not in dumped:
                                        dumped[key] = json.dumps(row[i], ensure_ascii=False)
                                    row[i] = dumped[key]
                        copy.write_row(row)
            else:
                prepared = [
                    [f.get_db_prep_save(v, connection) for f, v in zip(self.fields, row, strict=True)]
                    for row in self.rows
                ]
                placeholders = ", ".join(["%s"] * len(self.fields))
                cursor.executemany(f"INSERT INTO {quote(self.db_table)} ({columns}) VALUES ({placeholders})", prepared)
        self.rows = []
