"""A postponed item's document as the nämnd had it at that meeting: linked beside its
protokollsutdrag on the meeting's page and the case's, and served to exactly those who may fetch
the protokollsutdrag."""

import datetime
import logging

import pytest
from django.urls import reverse

from arenden import pdf, services
from arenden.constants import Roll
from arenden.models import Foredragningspunkt, Namnd
from tests.arenden.meeting import attesterat_dokument, sammantrade, sekreterare
from tests.factories import ForvaltningFactory, UserFactory

LANK = "Handlingen som nämnden hade (PDF)"


def _handling(punkt):
    return reverse("arenden:bordlagd_handling", args=[punkt.pk])


def _utdrag(punkt):
    return reverse("arenden:protokollsutdrag", args=[punkt.pk])


def _innehall(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def _bordlagd(sekr, titel="Trygghetsvandringar", mote=None):
    tu = attesterat_dokument(titel=titel)
    punkt = services.satt_pa_foredragningslista(sammantrade=mote or sammantrade(), tjansteutlatande=tu, user=sekr)
    services.bordlagg(punkt=punkt, user=sekr)
    punkt.refresh_from_db()
    return punkt


def _utan_kopia(punkt):
    """The item as one postponed before migration 0019 left it: postponed, nothing kept."""
    punkt.handling.storage.delete(punkt.handling.name)
    Foredragningspunkt.objects.filter(pk=punkt.pk).update(
        handling="", handling_titel="", handling_undertitel="", handling_forslag=""
    )
    punkt.refresh_from_db()
    return punkt


@pytest.fixture
def sekr(db):
    return sekreterare()


def test_the_meetings_page_links_the_kept_document_only_on_a_postponed_item_with_one(client, sekr):
    mote = sammantrade()
    bordlagd = _bordlagd(sekr, "Bordlagd", mote)
    gammal = _utan_kopia(_bordlagd(sekr, "Bordlagd före kopian", mote))
    beslutad = services.satt_pa_foredragningslista(
        sammantrade=mote, tjansteutlatande=attesterat_dokument(titel="Beslutad"), user=sekr
    )
    services.registrera_beslut(punkt=beslutad, beslut="Nämnden godkänner.", user=sekr)
    kvar = services.satt_pa_foredragningslista(
        sammantrade=mote, tjansteutlatande=attesterat_dokument(titel="Obehandlad"), user=sekr
    )
    client.force_login(sekr)

    page = client.get(f"/admin/arenden/sammantrade/{mote.pk}/change/").content.decode()

    assert page.count(f">{LANK}</a>") == 1
    assert f'<a href="{_handling(bordlagd)}" aria-label="{LANK}, punkt {bordlagd.nummer}">{LANK}</a>' in page
    for punkt in (gammal, beslutad, kvar):
        assert _handling(punkt) not in page
    # Beside the protokollsutdrag of the same item.
    assert (
        f'<a href="{_utdrag(bordlagd)}" aria-label="Protokollsutdrag, punkt {bordlagd.nummer}">Protokollsutdrag</a>'
        f'<br><a href="{_handling(bordlagd)}"'
    ) in page


def test_the_cases_page_lists_the_kept_document_beside_the_protokollsutdrag(admin_client, sekr):
    punkt = _bordlagd(sekr)
    beslutad = services.satt_pa_foredragningslista(
        sammantrade=sammantrade(datum=datetime.date(2024, 6, 13)), tjansteutlatande=punkt.tjansteutlatande, user=sekr
    )
    services.registrera_beslut(punkt=beslutad, beslut="Nämnden godkänner.", user=sekr)

    page = admin_client.get(f"/admin/arenden/arende/{punkt.arende_id}/change/").content.decode()

    # Both meetings' decisions and extracts; the document the nämnd had only on the postponement.
    assert _utdrag(punkt) in page and _utdrag(beslutad) in page
    assert page.count(LANK) == 1
    assert f'<a href="{_handling(punkt)}">{LANK}</a>' in page and _handling(beslutad) not in page


def test_the_download_is_the_kept_copy_not_the_document_as_it_is_now(client, sekr):
    punkt = _bordlagd(sekr)
    tu = punkt.tjansteutlatande
    # The document goes on to the next meeting and is dated for it: it prints another date now.
    services.satt_pa_foredragningslista(
        sammantrade=sammantrade(datum=datetime.date(2024, 6, 13)), tjansteutlatande=tu, user=sekr
    )
    tu.refresh_from_db()
    assert tu.sammantradesdatum == datetime.date(2024, 6, 13)
    client.force_login(sekr)

    response = client.get(_handling(punkt))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{pdf.handling_filename(punkt)}"'
    with punkt.handling.open("rb") as stored:
        kept = stored.read()
    assert kept.startswith(b"%PDF")
    assert _innehall(response) == kept
    assert kept != pdf.render_tjansteutlatande(tu)


def _farsta_sekreterare():
    farsta = ForvaltningFactory(diarieprefix="FARST", namnd=Namnd.objects.create(namn="Farsta stadsdelsnämnd"))
    return sekreterare("farsta_sekr", forvaltning=farsta)


# Who may fetch a postponed item's files: the document the nämnd had goes to exactly those who
# get its protokollsutdrag. "login": sent to the login page.
# fmt: off
BEHORIGHETER = [
    ("ärendets handläggare", lambda punkt, sekr: punkt.arende.handlaggare, "200"),
    ("nämndens sekreterare", lambda punkt, sekr: sekr, "200"),
    ("superanvändare", lambda punkt, sekr: UserFactory(username="super", is_superuser=True, is_staff=True), "200"),
    ("annan nämnds sekreterare", lambda punkt, sekr: _farsta_sekreterare(), "404"),
    ("annan handläggare", lambda punkt, sekr: UserFactory(username="annan", roller=[Roll.HANDLAGGARE]), "404"),
    ("inloggad utan roll", lambda punkt, sekr: UserFactory(username="utan_roll", is_staff=True), "404"),
    ("anonym", lambda punkt, sekr: None, "login"),
]
# fmt: on


def _status(response):
    if response.status_code == 302 and response.url.startswith(reverse("login")):
        return "login"
    return str(response.status_code)


@pytest.mark.parametrize(("vem", "anvandare", "vantat"), BEHORIGHETER, ids=[rad[0] for rad in BEHORIGHETER])
def test_the_kept_document_goes_to_exactly_those_who_get_the_protokollsutdrag(client, sekr, vem, anvandare, vantat):
    punkt = _bordlagd(sekr)
    user = anvandare(punkt, sekr)
    if user is not None:
        client.force_login(user)

    utdrag, handling = client.get(_utdrag(punkt)), client.get(_handling(punkt))

    assert (_status(utdrag), _status(handling)) == (vantat, vantat)
    if vantat == "200":
        with punkt.handling.open("rb") as stored:
            assert _innehall(handling) == stored.read()


def test_an_item_that_kept_no_copy_has_no_kept_document(client, sekr):
    """A decided item, and one postponed before copies were kept, have only their protokollsutdrag:
    the document as it is now is the case's own download, never passed off as the nämnd's."""
    mote = sammantrade()
    gammal = _utan_kopia(_bordlagd(sekr, "Bordlagd före kopian", mote))
    beslutad = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=attesterat_dokument(), user=sekr)
    services.registrera_beslut(punkt=beslutad, beslut="Nämnden godkänner.", user=sekr)
    client.force_login(sekr)

    for punkt in (gammal, beslutad):
        assert client.get(_utdrag(punkt)).status_code == 200
        assert client.get(_handling(punkt)).status_code == 404


def test_a_kept_document_missing_from_the_archive_is_told_in_swedish(client, sekr, caplog):
    punkt = _bordlagd(sekr)
    punkt.handling.storage.delete(punkt.handling.name)
    client.force_login(sekr)

    with caplog.at_level(logging.ERROR, logger="arenden.views"):
        response = client.get(_handling(punkt))

    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "<h1>Handlingen saknas</h1>" in page
    assert "Tjänsteutlåtandet så som nämnden hade det när ärendet bordlades saknas i arkivet." in page
    assert "Skärholmens stadsdelsnämnd 2024-05-23, punkt 1" in page
    assert punkt.handling.name not in page  # no server paths on the page
    assert [r.getMessage() for r in caplog.records if r.name == "arenden.views"] == [
        f"Bordlagd handling saknas i arkivet: punkt {punkt.pk}, fil {punkt.handling.name}"
    ]


def test_a_protokollsutdrag_missing_from_the_archive_is_told_in_swedish_too(client, sekr, caplog):
    punkt = _bordlagd(sekr)
    punkt.protokollsutdrag.storage.delete(punkt.protokollsutdrag.name)
    client.force_login(sekr)

    with caplog.at_level(logging.ERROR, logger="arenden.views"):
        response = client.get(_utdrag(punkt))

    assert response.status_code == 503
    page = response.content.decode()
    assert "<h1>Protokollsutdraget saknas</h1>" in page
    assert "Protokollsutdraget saknas i arkivet. Kontakta systemförvaltningen." in page
    assert "Skärholmens stadsdelsnämnd 2024-05-23, punkt 1" in page
    assert [r.getMessage() for r in caplog.records if r.name == "arenden.views"] == [
        f"Protokollsutdrag saknas i arkivet: punkt {punkt.pk}, fil {punkt.protokollsutdrag.name}"
    ]
    # The document the nämnd had is still there.
    assert client.get(_handling(punkt)).status_code == 200
