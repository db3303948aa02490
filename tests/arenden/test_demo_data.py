import html
import re
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.utils import timezone

from arenden.models import Arende, Attestering, Tjansteutlatande
from arenden.tidslinje import tidslinje
from atgarder.constants import DEFINITIONER, GRUPPINLEDNING
from atgarder.models import Atgard
from tests.seedtext import seed_items


def _plain(value):
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", value))).strip()


def demo_corpus(tu):
    """Every text the demo data holds for the document, as one string."""
    parts = [tu.titel, tu.undertitel, tu.namnd.namn, tu.telefon, f"Telefon: {tu.telefon}"]
    parts.append(tu.sammantradesdatum.isoformat())
    parts.append(tu.handlaggare.get_full_name())
    for s in tu.sektioner.select_related("mall_sektion"):
        parts += [s.mall_sektion.rubrik, _plain(s.text), _plain(s.avslutning)]
    for v in tu.atgard_val.select_related("atgard"):
        parts += v.atgard.stycken
        parts.append(" ".join(v.atgard.stycken))
    for fore, efter in GRUPPINLEDNING.values():
        parts.append(fore + efter)
    for u in tu.undertecknare.all():
        parts += [u.namn, u.befattning]
    for b in tu.bilagor.all():
        parts.append(f"{b.ordning}. {b.titel}")
    for a in tu.attesteringar.all():
        parts.append(f"{a.namn}, {a.befattning} {a.attesterad.date().isoformat()}")
    return "\n".join(_plain(p) for p in parts)


def test_every_paragraph_and_list_item_of_the_seed_is_in_the_demo_data(demo):
    items, footnotes = seed_items()
    corpus = demo_corpus(demo)
    # Footnote markers are typography, not text.
    missing = [i for i in items if i.replace("¹", "").replace("²", "") not in corpus]
    assert not missing, missing
    assert len(items) > 50
    assert footnotes == list(DEFINITIONER.values())


def test_demo_case_lists_every_measure_of_the_seed(demo):
    assert Atgard.objects.social().count() == 10
    assert Atgard.objects.situationell().count() == 7
    platsaktivering = Atgard.objects.get(titel="Platssamverkan och platsaktivering")
    assert [str(u) for u in platsaktivering.utfall.all()] == ["70 platsaktiveringar 2023"]
    cited = set(Atgard.objects.values_list("citerade_arenden__diarienummer", flat=True)) - {None}
    assert cited == {"SKHLM 2023/849", "SKHLM 2023/845", "SKHLM 2022/1048"}


def test_demo_attestations_keep_the_titles_held_on_the_day(demo):
    rows = [(a.namn, a.befattning, a.attesterad.date().isoformat()) for a in Attestering.objects.all()]
    assert rows == [
        ("Christoffer Carlander", "Tf. avdelningschef", "2024-05-06"),
        ("Lisa Kinnari", "Förvaltningschef", "2024-05-06"),
    ]
    # Lisa signs as Stadsdelsdirektör but attested as Förvaltningschef: stored, not looked up.
    assert demo.undertecknare.get(namn="Lisa Kinnari").befattning == "Stadsdelsdirektör"
    assert {a.innehall_hash for a in Attestering.objects.all()} == {demo.innehall_hash}


def test_loading_the_demo_twice_changes_nothing(demo, capsys):
    counts = (Arende.objects.count(), Tjansteutlatande.objects.count(), Atgard.history.count())
    call_command("load_demo")
    out = capsys.readouterr().out
    assert "finns redan" in out
    assert "anette" in out and "skarholmen-demo" in out
    assert (Arende.objects.count(), Tjansteutlatande.objects.count(), Atgard.history.count()) == counts


def test_demo_users_exist_only_where_the_demo_is_loaded(db, django_user_model):
    assert not django_user_model.objects.filter(username__in=["anette", "lisa", "admin"]).exists()


def test_the_demo_is_refused_in_production(db, settings, django_user_model):
    # Its users, a superuser among them, share one published password: never on a real diarium.
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="körs inte med PRODUCTION=true"):
        call_command("load_demo", stdout=StringIO())
    assert not django_user_model.objects.filter(username="admin").exists()
    assert not Arende.objects.exists()


def historik_utan_orsak():
    """The history rows, per historical model, that give no reason for the change."""
    utan = {}
    for model in apps.get_models():
        if any(f.name == "history_change_reason" for f in model._meta.fields):
            if antal := model.objects.filter(history_change_reason__isnull=True).count():
                utan[model.__name__] = antal
    return utan


def test_every_history_row_of_the_demo_says_it_is_demo_data(demo):
    """The demo's people, their roles included, are in their history as demo data, and every
    other row the demo loads gives a reason too ("Demodata", or the act of the story it tells):
    a history row without a reason reads as someone's edit."""
    assert historik_utan_orsak() == {}


def test_the_demo_case_is_registered_once_in_its_timeline(demo):
    """The cases the demo case cites are set after it is registered: that row of its history
    says so, instead of repeating the registration's reason."""
    from arenden.tidslinje import tidslinje

    handelser = [(h["handelse"], h["detalj"]) for h in tidslinje(demo.arende)]
    assert [h for h, _ in handelser].count("Ärendet registrerat") == 1
    assert "Registrerat" not in [h for h, _ in handelser]
    assert ("Citerade ärenden", "SKHLM 2023/849, SKHLM 2023/845, SKHLM 2022/1048") in handelser


def _historikmodeller():
    return [m for m in apps.get_models() if any(f.name == "history_change_reason" for f in m._meta.fields)]


def test_the_demo_history_carries_the_storys_dates_not_the_loading_moment(db):
    """The demo tells a case of 2024: a history row dated the day it was loaded put "Skrivelse
    registrerad" and "Tjänsteutlåtande skapat" on the case's timeline after its attestations."""
    laddad = timezone.now()
    call_command("load_demo", stdout=StringIO())

    sena = {
        m.__name__: m.objects.filter(history_date__gte=laddad).count()
        for m in _historikmodeller()
        if m.objects.filter(history_date__gte=laddad).exists()
    }
    assert sena == {}
    tu = Tjansteutlatande.objects.get(arende__diarienummer="SKHLM 2024/123")
    assert timezone.localtime(tu.skapad) < timezone.localtime(tu.andrad) < laddad
    assert not Atgard.objects.filter(skapad__gte=laddad).exists() and not Atgard.objects.filter(andrad__gte=laddad)

    handelser = [
        (f"{timezone.localtime(h['tid']):%Y-%m-%d %H:%M}", h["handelse"], h["detalj"], str(h["anvandare"] or ""))
        for h in tidslinje(tu.arende)
    ]
    assert handelser == [
        ("2024-01-10 09:30", "Ärendet registrerat", "SKHLM 2024/123", ""),
        ("2024-01-10 09:30", "Citerade ärenden", "SKHLM 2023/849, SKHLM 2023/845, SKHLM 2022/1048", ""),
        ("2024-01-10 09:30", "Skrivelse registrerad", "Öppna drogscener", ""),
        ("2024-03-11 10:15", "Tjänsteutlåtande skapat", "Öppna drogscener", "anette"),
        ("2024-03-11 10:15", "Ärendets status ändrad", "Under beredning", "anette"),
        ("2024-05-03 15:40", "Skickat för attest", "Attestanter: Christoffer Carlander → Lisa Kinnari", "anette"),
        ("2024-05-06 09:12", "Attesterat", "Christoffer Carlander, Tf. avdelningschef (steg 1 av 2)", "christoffer"),
        ("2024-05-06 14:30", "Attesterat", "Lisa Kinnari, Förvaltningschef (steg 2 av 2)", "lisa"),
        ("2024-05-06 14:30", "Ärendets status ändrad", "Redo för nämnd", "lisa"),
    ], handelser


def test_loading_the_demo_twice_writes_no_history(demo):
    antal = {m.__name__: m.objects.count() for m in _historikmodeller()}
    call_command("load_demo", stdout=StringIO())
    assert {m.__name__: m.objects.count() for m in _historikmodeller()} == antal
