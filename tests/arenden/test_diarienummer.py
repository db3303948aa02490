import datetime
import threading
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connections
from django.utils import timezone

from arenden import services
from arenden.models import Arende, DiarieSekvens, Skrivelse
from tests.arenden.test_admin import _arende_form_data
from tests.factories import ArendeFactory, ForvaltningFactory, UserFactory, pdf_bytes


def _register(forvaltning, user, title="Nytt ärende"):
    return services.registrera_arende(arende=Arende(forvaltning=forvaltning, arendemening=title), user=user)


def test_numbers_start_at_one_per_prefix_and_year_and_never_skip(db):
    user = UserFactory()
    skhlm = ForvaltningFactory(diarieprefix="SKHLM")
    other = ForvaltningFactory(diarieprefix="RINK")
    year = timezone.localdate().year
    numbers = [_register(skhlm, user).diarienummer for _ in range(3)] + [_register(other, user).diarienummer]
    assert numbers == [f"SKHLM {year}/1", f"SKHLM {year}/2", f"SKHLM {year}/3", f"RINK {year}/1"]
    first = Arende.objects.get(diarienummer=f"SKHLM {year}/1")
    assert first.history.get().history_user == user


def test_a_failed_registration_gives_its_number_back(db):
    user = UserFactory()
    skhlm = ForvaltningFactory()
    year = timezone.localdate().year
    with pytest.raises(IntegrityError):  # the database refuses a title of None, after the number was taken
        _register(skhlm, user, title=None)
    assert _register(skhlm, user).diarienummer == f"SKHLM {year}/1"


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_get_distinct_numbers_without_holes():
    """8 workers register 25 ärenden each at once: exactly 1..200, nothing repeated or skipped."""
    user = UserFactory()
    skhlm = ForvaltningFactory()
    barrier = threading.Barrier(8)
    errors = []

    def worker(n):
        try:
            barrier.wait()
            for i in range(25):
                _register(skhlm, user, title=f"Ärende {n}-{i}")
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    year = timezone.localdate().year
    numbers = sorted(Arende.objects.filter(ar=year).values_list("lopnummer", flat=True))
    assert numbers == list(range(1, 201))
    assert DiarieSekvens.objects.get(prefix="SKHLM", ar=year).senaste == 200


ADD_URL = "/admin/arenden/arende/add/"


def _admin_add(client, forvaltning, diarienummer):
    return client.post(ADD_URL, _admin_data(forvaltning, diarienummer))


def _admin_data(forvaltning, diarienummer):
    return {
        "diarienummer": diarienummer,
        "forvaltning": forvaltning.pk,
        "arendemening": "Äldre ärende",
        # A system number is for a case registered this year; an older case brings its own.
        "registrerad": "2022-11-21" if diarienummer else timezone.localdate().isoformat(),
        "skrivelser-TOTAL_FORMS": "0",
        "skrivelser-INITIAL_FORMS": "0",
        "tjansteutlatanden-TOTAL_FORMS": "0",
        "tjansteutlatanden-INITIAL_FORMS": "0",
    }


def test_admin_registers_with_a_system_number_when_left_blank(admin_client):
    skhlm = ForvaltningFactory()
    response = _admin_add(admin_client, skhlm, "")
    assert response.status_code == 302
    year = timezone.localdate().year
    arende = Arende.objects.get()
    assert arende.diarienummer == f"SKHLM {year}/1"
    assert arende.history.get().history_user.username == "root"


def test_a_skrivelse_registered_in_the_admin_has_the_reason_the_officers_page_gives(admin_client):
    skhlm = ForvaltningFactory()
    data = {
        **_admin_data(skhlm, ""),
        "skrivelser-TOTAL_FORMS": "1",
        "skrivelser-0-titel": "Skrivelse; Öppna drogscener",
        "skrivelser-0-forfattare": "Ledamöter i nämnden",
        "skrivelser-0-beredning_datum": "2023-12-14",
        "skrivelser-0-text": "Vi vill ha en redogörelse.",
    }
    assert admin_client.post(ADD_URL, data).status_code == 302

    rad = Skrivelse.history.get()
    assert (rad.history_type, rad.history_user.username, rad.history_change_reason) == (
        "+",
        "root",
        "Skrivelse registrerad",
    )


def test_admin_keeps_a_valid_hand_entered_number_of_an_older_case(admin_client):
    skhlm = ForvaltningFactory()
    assert _admin_add(admin_client, skhlm, "SKHLM 2022/1048").status_code == 302
    assert Arende.objects.get().lopnummer == 1048


@pytest.mark.parametrize(
    "bad",
    [
        "SKHLM-2022-1048",
        "skhlm 2022/1048",
        "SKHLM 2022/01048",
        "SKHLM 22/1048",
        "SKHLM  2022/1048",
        # Digits of other scripts, which Python's \d matches and int() reads: the case would be
        # number 2022/1048 printed with other digits, which a search for "2022/1048" never finds.
        "SKHLM 20\u0662\u0662/1048",
        "SKHLM 2022/1\u0660\u0664\u0668",
        "SKHLM 2022/\uff11048",
    ],
)
def test_badly_formed_number_gets_a_swedish_error_and_saves_nothing(admin_client, bad):
    skhlm = ForvaltningFactory()
    response = _admin_add(admin_client, skhlm, bad)
    assert response.status_code == 200
    assert "Diarienumret ska skrivas som PREFIX ÅR/NUMMER" in response.content.decode()
    assert not Arende.objects.exists()


def test_duplicate_number_gets_a_swedish_error_and_saves_nothing(admin_client):
    existing = ArendeFactory(diarienummer="SKHLM 2022/1048")
    response = _admin_add(admin_client, existing.forvaltning, "SKHLM 2022/1048")
    assert response.status_code == 200
    assert "Diarienumret finns redan i diariet" in response.content.decode()
    assert Arende.objects.count() == 1


def test_hand_entered_number_cannot_take_from_the_systems_own_series(admin_client):
    skhlm = ForvaltningFactory()
    year = timezone.localdate().year
    response = _admin_add(admin_client, skhlm, f"SKHLM {year}/7")
    assert response.status_code == 200
    assert "delas ut av systemet" in response.content.decode()
    assert not Arende.objects.exists()


def test_hand_entered_number_must_carry_the_forvaltnings_prefix(admin_client):
    skhlm = ForvaltningFactory()
    response = _admin_add(admin_client, skhlm, "RINK 2021/5")
    assert "hör inte till" in response.content.decode()
    assert not Arende.objects.exists()


def test_a_forvaltnings_prefix_stays_once_it_has_cases(admin_client):
    tom = ForvaltningFactory(diarieprefix="RINK")
    url = f"/admin/arenden/forvaltning/{tom.pk}/change/"
    assert 'name="diarieprefix"' in admin_client.get(url).content.decode()
    skhlm = ArendeFactory(diarienummer="SKHLM 2021/4").forvaltning
    url = f"/admin/arenden/forvaltning/{skhlm.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert 'name="diarieprefix"' not in page and "SKHLM" in page
    data = {"namn": skhlm.namn, "diarieprefix": "NYTT", "namnd": skhlm.namnd_id, "chef": ""}
    admin_client.post(url, data)
    skhlm.refresh_from_db()
    assert skhlm.diarieprefix == "SKHLM"


def test_a_registrator_registers_only_in_their_own_forvaltnings_diarium(db, client):
    from django.contrib.auth.models import Group

    from tests.factories import AvdelningFactory, ProfilFactory

    egen = AvdelningFactory(forvaltning=ForvaltningFactory(diarieprefix="SKHLM"))
    annan = AvdelningFactory(forvaltning=ForvaltningFactory(diarieprefix="FARST"))
    profil = ProfilFactory(avdelning=egen, befattning="Registrator", user__is_staff=True)
    profil.user.groups.add(Group.objects.get(name="Registrator"))
    client.force_login(profil.user)

    form = client.get(ADD_URL).context["adminform"].form
    assert list(form.fields["forvaltning"].queryset) == [egen.forvaltning]
    assert list(form.fields["avdelning"].queryset) == [egen]
    refused = _admin_add(client, annan.forvaltning, "")
    assert refused.status_code == 200 and "Välj ett giltigt alternativ" in refused.content.decode()
    assert not Arende.objects.exists() and not DiarieSekvens.objects.filter(prefix="FARST").exists()

    response = client.post(ADD_URL, {**_admin_data(egen.forvaltning, ""), "avdelning": annan.pk})
    assert response.status_code == 200 and not Arende.objects.exists()
    assert _admin_add(client, egen.forvaltning, "").status_code == 302
    assert Arende.objects.get().diarienummer.startswith("SKHLM ")


def test_a_case_and_its_avdelning_belong_to_one_forvaltning(admin_client):
    from tests.factories import AvdelningFactory

    skhlm = ForvaltningFactory(diarieprefix="SKHLM")
    annan = AvdelningFactory(forvaltning=ForvaltningFactory(diarieprefix="FARST"))
    response = admin_client.post(ADD_URL, {**_admin_data(skhlm, ""), "avdelning": annan.pk})
    assert response.status_code == 200
    assert f"Avdelningen {annan.namn} hör inte till {skhlm}." in response.content.decode()
    assert not Arende.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_admin_tells_the_number_only_once_the_case_is_stored(admin_client, monkeypatch):
    """On committed data, as in use: the admin's own transaction decides what is stored."""
    skhlm = ForvaltningFactory()
    year = timezone.localdate().year
    data = {
        **_admin_data(skhlm, ""),
        "skrivelser-TOTAL_FORMS": "1",
        "skrivelser-0-titel": "Skrivelse",
        "skrivelser-0-forfattare": "Ledamöter",
        "skrivelser-0-beredning_datum": "2024-12-14",
        "skrivelser-0-fil": SimpleUploadedFile("s.pdf", pdf_bytes(), content_type="application/pdf"),
    }

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(FileSystemStorage, "_save", disk_full)
        admin_client.raise_request_exception = False
        assert admin_client.post(ADD_URL, data).status_code == 500
    assert not Arende.objects.exists()
    page = admin_client.get("/admin/arenden/arende/").content.decode()
    assert "fick diarienummer" not in page  # the number was given back, and never told

    data["skrivelser-0-fil"] = SimpleUploadedFile("s.pdf", pdf_bytes(), content_type="application/pdf")
    response = admin_client.post(ADD_URL, data, follow=True)
    assert f"Ärendet fick diarienummer SKHLM {year}/1." in response.content.decode()


# A hand-entered number that a colleague registers after this page's form found it free, before
# the write: the database refuses the write, and the page is shown again with the user's input
# and the form's own "finns redan", not a server error.


def test_a_hand_entered_number_taken_after_the_forms_check_is_refused_on_the_field_and_kept(admin_client, monkeypatch):
    kollegans = ArendeFactory(diarienummer="SKHLM 2022/1048", arendemening="Kollegans ärende")
    # The form's check ran before the colleague's case was stored: it found the number free.
    kontroll, kontrollerade = Arende.validate_unique, []

    def fore_kollegan(self, exclude=None):
        if not kontrollerade:
            kontrollerade.append(True)
            return None
        return kontroll(self, exclude)

    registrera, vagrade = services.registrera_arende, []

    def registrera_och_se(**kwargs):
        try:
            return registrera(**kwargs)
        except services.ConflictError as exc:
            vagrade.append(exc.__cause__)
            raise

    monkeypatch.setattr(Arende, "validate_unique", fore_kollegan)
    monkeypatch.setattr(services, "registrera_arende", registrera_och_se)
    data = {**_admin_data(kollegans.forvaltning, "SKHLM 2022/1048"), "arendemening": "Mitt äldre ärende"}
    response = admin_client.post(ADD_URL, data)

    assert response.status_code == 200
    assert [type(fel) for fel in vagrade] == [IntegrityError]  # the write reached the constraint
    form = response.context["adminform"].form
    assert form.errors["diarienummer"] == ["Diarienumret finns redan i diariet och kan inte användas igen."]
    assert (form["diarienummer"].value(), form["arendemening"].value()) == ("SKHLM 2022/1048", "Mitt äldre ärende")
    assert list(Arende.objects.values_list("arendemening", flat=True)) == ["Kollegans ärende"]


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_hand_entered_number_a_colleague_registers_meanwhile_is_refused_on_the_field_and_kept(
    admin_client, monkeypatch
):
    from tests.arenden.test_admin_versioner import en_annan_sparar, forst

    skhlm = ForvaltningFactory()
    kollega = UserFactory()
    registrera = services.registrera_arende

    def kollegan():
        arende = Arende(
            forvaltning_id=skhlm.pk,
            diarienummer="SKHLM 2022/1048",
            arendemening="Kollegans ärende",
            registrerad=datetime.date(2022, 11, 21),  # an older case is registered in its number's year
        )
        registrera(arende=arende, user=kollega)

    # After the form's check, before the write: as a registration committed just before.
    monkeypatch.setattr(services, "registrera_arende", forst(lambda: en_annan_sparar(kollegan), registrera))
    data = {**_admin_data(skhlm, "SKHLM 2022/1048"), "arendemening": "Mitt äldre ärende"}
    response = admin_client.post(ADD_URL, data)

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["diarienummer"] == ["Diarienumret finns redan i diariet och kan inte användas igen."]
    assert (form["diarienummer"].value(), form["arendemening"].value()) == ("SKHLM 2022/1048", "Mitt äldre ärende")
    assert list(Arende.objects.values_list("arendemening", flat=True)) == ["Kollegans ärende"]


STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")


def _klockan(monkeypatch, *tid):
    """The clock at `tid` in Stockholm; 2025-01-01 00:30 there is still 2024-12-31 in UTC."""
    monkeypatch.setattr(timezone, "now", lambda: datetime.datetime(*tid, tzinfo=STOCKHOLM))


def test_a_case_registered_after_midnight_in_stockholm_takes_the_new_years_number(db, monkeypatch):
    _klockan(monkeypatch, 2025, 1, 1, 0, 30)
    arende = _register(ForvaltningFactory(), UserFactory())
    assert (arende.diarienummer, arende.registrerad) == ("SKHLM 2025/1", datetime.date(2025, 1, 1))


def test_a_form_opened_on_new_years_eve_and_saved_after_midnight_is_refused_and_kept(admin_client, monkeypatch):
    """The form's date is the day it was opened: saved after midnight, the case would be registered
    on the last day of one year with a number of the next."""
    skhlm = ForvaltningFactory()
    _klockan(monkeypatch, 2024, 12, 31, 23, 58)
    fran_sidan = admin_client.get(ADD_URL).context["adminform"].form["registrerad"].value()
    data = {**_admin_data(skhlm, ""), "registrerad": fran_sidan.isoformat(), "arendemening": "Nyårsärende"}
    _klockan(monkeypatch, 2025, 1, 1, 0, 1)

    response = admin_client.post(ADD_URL, data)

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["registrerad"] == [
        "Systemet delar ut ett nummer för 2025, så ärendet registreras 2025. Ange en dag i 2025, eller "
        "diarienumret om det är ett äldre ärende."
    ]
    assert form["arendemening"].value() == "Nyårsärende"
    assert not Arende.objects.exists() and not DiarieSekvens.objects.filter(senaste__gt=0).exists()
    data["registrerad"] = "2025-01-01"
    assert admin_client.post(ADD_URL, data).status_code == 302
    assert Arende.objects.get().diarienummer == "SKHLM 2025/1"


def test_a_form_checked_before_midnight_and_stored_after_it_takes_no_number(db, monkeypatch):
    """The service checks the day again as it takes the number: the form's check may have run
    in the old year."""
    _klockan(monkeypatch, 2025, 1, 1, 0, 0)
    arende = Arende(
        forvaltning=ForvaltningFactory(), arendemening="Nyårsärende", registrerad=datetime.date(2024, 12, 31)
    )
    with pytest.raises(ValidationError) as refused:
        services.registrera_arende(arende=arende, user=UserFactory())
    assert list(refused.value.message_dict) == ["registrerad"]
    assert not Arende.objects.exists() and not DiarieSekvens.objects.filter(senaste__gt=0).exists()


def test_a_case_is_not_registered_on_a_day_still_to_come(admin_client):
    skhlm = ForvaltningFactory()
    imorgon = timezone.localdate() + datetime.timedelta(days=1)
    response = admin_client.post(ADD_URL, {**_admin_data(skhlm, ""), "registrerad": imorgon.isoformat()})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["registrerad"] == [
        f"Registreringsdagen {imorgon.isoformat()} har inte kommit än."
    ]
    assert not Arende.objects.exists()


def test_an_older_case_is_registered_in_its_numbers_year(admin_client):
    """Entered by hand with the form's date, today, an older case stood among the newest and its
    timeline told it registered today."""
    skhlm = ForvaltningFactory()
    idag = timezone.localdate().isoformat()
    response = admin_client.post(ADD_URL, {**_admin_data(skhlm, "SKHLM 2022/1048"), "registrerad": idag})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["registrerad"] == [
        "Diarienumret SKHLM 2022/1048 är från 2022, året ärendet registrerades. Ange en dag i 2022."
    ]
    assert not Arende.objects.exists()


def test_a_cases_registration_day_moves_only_within_its_numbers_year(admin_client):
    arende = ArendeFactory(diarienummer="SKHLM 2022/5", registrerad=datetime.date(2022, 3, 1))
    url = f"/admin/arenden/arende/{arende.pk}/change/"
    data = _arende_form_data(arende, registrerad="2023-03-01")
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["registrerad"] == [
        "Diarienumret SKHLM 2022/5 är från 2022, året ärendet registrerades. Ange en dag i 2022."
    ]
    arende.refresh_from_db()
    assert arende.registrerad == datetime.date(2022, 3, 1)
    assert admin_client.post(url, {**data, "registrerad": "2022-03-02"}).status_code == 302
    arende.refresh_from_db()
    assert arende.registrerad == datetime.date(2022, 3, 2)


def test_a_case_stored_with_a_day_of_another_year_keeps_it_when_other_fields_change(admin_client):
    arende = ArendeFactory(diarienummer="SKHLM 2020/5")  # the factory's registrerad: today
    url = f"/admin/arenden/arende/{arende.pk}/change/"
    data = _arende_form_data(arende, arendemening="Ny ärendemening")
    assert admin_client.post(url, data).status_code == 302
    arende.refresh_from_db()
    assert arende.arendemening == "Ny ärendemening"
