"""The attest workflow as people use it in the admin, driven by Django's test client."""

import datetime
import html
import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from arenden import services
from arenden.constants import KOMMENTAR_SAKNAS, Roll
from arenden.constants import TjansteutlatandeStatus as S
from arenden.models import Bilaga, Skrivelse
from arenden.tidslinje import tidslinje
from tests.arenden.test_admin import _change_form_data
from tests.arenden.world import build_world
from tests.factories import AtgardFactory, TjansteutlatandeFactory, pdf_bytes


@pytest.fixture
def world(db):
    return build_world()


def _messages(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def _follow(client, response):
    assert response.status_code == 302, response.content.decode()[:2000]
    return client.get(response.url)


def _bekrafta(client, dokument_url, handling):
    """The chef's way to attest or return: the link on the document's page, which names the
    content shown there, to the confirmation, whose form carries it. Returns (page, fields)."""
    page = client.get(f"{dokument_url}change/").content.decode()
    link = re.search(rf'href="({re.escape(dokument_url)}{handling}/\?innehall=[0-9a-f]+)"', page).group(1)
    confirm = client.get(link)
    assert confirm.status_code == 200, confirm
    hidden = re.search(r'name="innehall_hash" value="([0-9a-f]+)"', confirm.content.decode()).group(1)
    return confirm, {"innehall_hash": hidden}


def test_walk_send_return_edit_resend_attest_twice_and_read_the_timeline(world, client):
    tu = world.dokument()
    dokument_url = f"/admin/arenden/tjansteutlatande/{tu.pk}/"

    # The officer sends it, with the avdelningschef and the förvaltningschef proposed.
    client.force_login(world.officer)
    page = client.get(f"{dokument_url}change/").content.decode()
    assert f"{dokument_url}skicka/" in page and f"{dokument_url}attestera/" not in page
    form = client.get(f"{dokument_url}skicka/")
    assert form.context["form"]["forsta"].value() == world.chef1.pk
    assert form.context["form"]["andra"].value() == world.chef2.pk
    sent = _follow(client, client.post(f"{dokument_url}skicka/", {"forsta": world.chef1.pk, "andra": world.chef2.pk}))
    assert any("skickat för attest" in m for m in _messages(sent))

    # The first chef finds it waiting, reads it and sends it back with a comment.
    client.force_login(world.chef1)
    queue = client.get("/admin/arenden/attestko/").content.decode()
    assert html.escape(str(tu)) in queue or str(tu) in queue
    page = client.get(f"{dokument_url}change/").content.decode()
    assert "Attestera" in page and "Återremittera" in page
    assert "Text under Förslag till beslut." in page  # the read-only preview
    confirm, lasta = _bekrafta(client, dokument_url, "aterremittera")
    assert "Kommentar till handläggaren" in confirm.content.decode()
    without = client.post(f"{dokument_url}aterremittera/", {"kommentar": "", **lasta})
    assert without.status_code == 200 and list(without.context["kommentar_fel"]) == [KOMMENTAR_SAKNAS]
    tu.refresh_from_db()
    assert tu.status == S.TILL_ATTEST
    returned = _follow(
        client, client.post(f"{dokument_url}aterremittera/", {"kommentar": "Förtydliga ärendet.", **lasta})
    )
    assert any("återremitterat" in m for m in _messages(returned))
    tu.refresh_from_db()
    assert tu.status == S.UTKAST

    # The officer edits a section in the admin and sends it again.
    client.force_login(world.officer)
    page = client.get(f"{dokument_url}change/").content.decode()
    assert "Förtydliga ärendet." in page
    data = _change_form_data(tu, **{"sektioner-1-text": "<p>Ärendet gäller tydligare saker.</p>"})
    saved = client.post(f"{dokument_url}change/", data)
    assert saved.status_code == 302, saved.content.decode()[:3000]
    _follow(client, client.post(f"{dokument_url}skicka/", {"forsta": world.chef1.pk, "andra": world.chef2.pk}))
    tu.refresh_from_db()
    assert (tu.status, tu.attest_omgang) == (S.TILL_ATTEST, 2)

    # The first chef sees what changed since the version they returned, and attests.
    client.force_login(world.chef1)
    page = client.get(f"{dokument_url}change/").content.decode()
    assert 'class="diff"' in page and "tydligare" in page
    _, lasta = _bekrafta(client, dokument_url, "attestera")
    done = _follow(client, client.post(f"{dokument_url}attestera/", lasta))
    assert any("Du har attesterat" in m for m in _messages(done))

    # The second chef attests last.
    client.force_login(world.chef2)
    assert str(tu.titel) in client.get("/admin/arenden/attestko/").content.decode()
    _, lasta = _bekrafta(client, dokument_url, "attestera")
    done = _follow(client, client.post(f"{dokument_url}attestera/", lasta))
    assert any("nu attesterat" in m for m in _messages(done))
    tu.refresh_from_db()
    assert tu.status == S.ATTESTERAD
    assert str(tu.titel) not in client.get("/admin/arenden/attestko/").content.decode()

    # The case's page tells the whole story in order.
    handelser = [(h["handelse"], h["anvandare"], h["detalj"]) for h in tidslinje(tu.arende)]
    wanted = [
        ("Tjänsteutlåtande skapat", None, tu.titel),
        ("Skickat för attest", world.officer, "Attestanter: Chef1 Testsson → Chef2 Testsson"),
        ("Återremitterat", world.chef1, "Förtydliga ärendet."),
        ("Sektion ändrad", world.officer, "Ärendet"),
        ("Skickat för attest", world.officer, "Attestanter: Chef1 Testsson → Chef2 Testsson"),
        ("Attesterat", world.chef1, "Chef1 Testsson, Avdelningschef (steg 1 av 2)"),
        ("Attesterat", world.chef2, "Chef2 Testsson, Stadsdelsdirektör (steg 2 av 2)"),
    ]
    position = -1
    for event in wanted:  # each in turn, later than the one before
        position = handelser.index(event, position + 1)
    assert handelser[0][0] == "Ärendet registrerat"
    client.force_login(world.sekreterare)
    page = html.unescape(client.get(f"/admin/arenden/arende/{tu.arende_id}/change/").content.decode())
    page_positions = [
        page.index(text)
        for text in (
            "Ärendet registrerat",
            "Förtydliga ärendet.",
            "Sektion ändrad",
            "Chef1 Testsson, Avdelningschef",
            "Chef2 Testsson, Stadsdelsdirektör",
        )
    ]
    assert page_positions == sorted(page_positions)


def test_stale_admin_edit_is_refused_and_the_users_text_stays_in_the_form(world, client):
    tu = world.dokument()
    client.force_login(world.officer)
    url = f"/admin/arenden/tjansteutlatande/{tu.pk}/change/"
    loaded = _change_form_data(tu)  # what the officer's browser holds
    sektion = tu.sektioner.order_by("mall_sektion__ordning").first()
    services.spara_sektion(
        sektion=sektion, text="<p>Kollegans ändring.</p>", expected_version=sektion.version, user=world.superuser
    )

    loaded["sektioner-0-text"] = "<p>Min egen formulering.</p>"
    response = client.post(url, loaded)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Någon annan har sparat ”Förslag till beslut”" in page
    assert "Kollegans ändring." in page  # shown in the message
    assert "<p>Min egen formulering.</p>" in page  # still in the textarea
    sektion.refresh_from_db()
    assert sektion.text == "<p>Kollegans ändring.</p>"

    # The form now carries the saved version: saving again replaces it on purpose.
    hidden = re.search(r'name="sektioner-0-expected_version" value="(\d+)"', page)
    assert int(hidden.group(1)) == sektion.version
    loaded["sektioner-0-expected_version"] = hidden.group(1)
    assert client.post(url, loaded).status_code == 302
    sektion.refresh_from_db()
    assert sektion.text == "<p>Min egen formulering.</p>"


def test_stale_admin_header_edit_is_refused_and_kept(world, client):
    tu = world.dokument()
    client.force_login(world.officer)
    loaded = _change_form_data(tu, titel="Min rubrik")
    services.uppdatera_tjansteutlatande(
        tjansteutlatande=tu, data={"titel": "Annans rubrik"}, expected_version=tu.version, user=world.superuser
    )
    response = client.post(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/", loaded)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Någon annan har ändrat dokumentet" in page and 'value="Min rubrik"' in page
    tu.refresh_from_db()
    assert tu.titel == "Annans rubrik"


class _Formular(HTMLParser):
    """The fields of the page's main form as a browser sends them when nothing is touched."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id, self.inne, self.data = form_id, False, {}
        self._textarea = self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inne = a.get("id") == self.form_id
        if not self.inne:
            return
        typ = a.get("type", "text")
        if tag == "input" and a.get("name") and typ not in ("submit", "button", "file"):
            if typ not in ("checkbox", "radio"):
                self.data[a["name"]] = a.get("value", "")
            elif "checked" in a:
                self.data[a["name"]] = a.get("value", "on")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.data[self._textarea] = ""
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and ("selected" in a or self._select not in self.data):
            self.data[self._select] = a.get("value", "")

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inne = False
        elif tag == "textarea" and self._textarea:
            self.data[self._textarea] = self.data[self._textarea].removeprefix("\n")  # as browsers read it
            self._textarea = None
        elif tag == "select":
            self._select = None


def _formular(response):
    formular = _Formular("tjansteutlatande_form")
    formular.feed(response.content.decode())
    return formular.data


def _sidan(client, tu):
    """What the document's admin page holds, to be posted back later as the browser would."""
    response = client.get(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/")
    assert response.status_code == 200
    return _formular(response)


def _rad(data, relation, pk):
    """The form prefix of the row `pk` of `relation` on the page."""
    rader = (k.removesuffix("-id") for k, v in data.items() if re.fullmatch(rf"{relation}-\d+-id", k) and v == str(pk))
    return next(rader)


def _med_delar(world):
    """A draft with two åtgärder, a bilaga and a signatory who is a user, named as typed."""
    return world.med_delar(
        bilaga={"titel": "Skrivelse", "text": "Skrivelsens text."},
        undertecknare={"anvandare": world.chef2, "namn": "Chef2 Gammaltnamn", "befattning": "Stadsdelsdirektör"},
    )


def test_a_save_from_an_older_page_keeps_what_others_changed_in_rows_it_did_not_touch(world, client):
    tu = _med_delar(world)
    client.force_login(world.officer)
    sidan = _sidan(client, tu)

    # Meanwhile a colleague renames the bilaga and reorders the åtgärder.
    bilaga = tu.bilagor.get()
    bilaga.titel = "Skrivelse; Öppna drogscener"
    services.spara_dokumentdel(tjansteutlatande=tu, obj=bilaga, user=world.superuser)
    ordning = list(tu.atgard_val.order_by("ordning").values_list("atgard_id", flat=True))
    services.ordna_atgarder(tjansteutlatande=tu, atgard_ids=ordning[::-1], user=world.superuser)

    forslag = tu.sektioner.get(mall_sektion__rubrik="Förslag till beslut")
    sidan[f"{_rad(sidan, 'sektioner', forslag.pk)}-text"] = "<p>Min text.</p>"
    response = client.post(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/", sidan)

    assert response.status_code == 302, response.content.decode()[:3000]
    forslag.refresh_from_db()
    assert forslag.text == "<p>Min text.</p>"
    assert tu.bilagor.get().titel == "Skrivelse; Öppna drogscener"
    assert list(tu.atgard_val.order_by("ordning").values_list("atgard_id", flat=True)) == ordning[::-1]


def test_a_section_someone_else_saved_after_the_page_was_opened_is_not_the_users_change(world, client):
    tu = _med_delar(world)
    client.force_login(world.officer)
    sidan = _sidan(client, tu)
    arendet = tu.sektioner.get(mall_sektion__rubrik="Ärendet")
    services.spara_sektion(
        sektion=arendet, text="<p>Kollegans text.</p>", expected_version=arendet.version, user=world.superuser
    )

    forslag = tu.sektioner.get(mall_sektion__rubrik="Förslag till beslut")
    sidan[f"{_rad(sidan, 'sektioner', forslag.pk)}-text"] = "<p>Min text.</p>"
    response = client.post(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/", sidan)

    # Not a conflict whose "save again" would put the old text back: the user left it alone.
    assert response.status_code == 302, response.content.decode()[:3000]
    forslag.refresh_from_db()
    arendet.refresh_from_db()
    assert (forslag.text, arendet.text) == ("<p>Min text.</p>", "<p>Kollegans text.</p>")


def test_saving_an_older_page_unchanged_keeps_the_attest(world, client):
    tu = _med_delar(world)
    client.force_login(world.officer)
    sidan = _sidan(client, tu)

    # Sending writes the signatory's name as the user holds it; then both chefs attest.
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    services.attestera(tjansteutlatande=tu, user=world.chef1)
    services.attestera(tjansteutlatande=tu, user=world.chef2)
    assert tu.undertecknare.get().namn == "Chef2 Testsson"

    response = client.post(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/", sidan)

    assert response.status_code == 302, response.content.decode()[:3000]
    tu.refresh_from_db()
    assert tu.status == S.ATTESTERAD
    assert not tu.attesteringar.filter(makulerad__isnull=False).exists()
    assert tu.undertecknare.get().namn == "Chef2 Testsson"


def test_a_row_changed_on_an_older_page_and_meanwhile_is_refused_and_kept(world, client):
    tu = _med_delar(world)
    client.force_login(world.officer)
    url = f"/admin/arenden/tjansteutlatande/{tu.pk}/change/"
    sidan = _sidan(client, tu)
    bilaga = tu.bilagor.get()
    bilaga.text = "Kollegans lydelse."
    services.spara_dokumentdel(tjansteutlatande=tu, obj=bilaga, user=world.superuser)
    fore = tu.history.count()

    sidan[f"{_rad(sidan, 'bilagor', bilaga.pk)}-titel"] = "Min titel"
    forslag = tu.sektioner.get(mall_sektion__rubrik="Förslag till beslut")
    sidan[f"{_rad(sidan, 'sektioner', forslag.pk)}-text"] = "<p>Min text.</p>"
    response = client.post(url, sidan)

    assert response.status_code == 200
    assert tu.history.count() == fore  # nothing saved
    assert tu.bilagor.get().titel == "Skrivelse"
    page = html.unescape(response.content.decode())
    assert "Någon annan har ändrat ”1. Skrivelse” efter att du öppnade sidan" in page
    assert 'value="Min titel"' in page and "<p>Min text.</p>" in page  # what the user typed
    assert "Kollegans lydelse." in page  # the row shows what is stored besides

    # Saved again from the page as shown now, the user's title replaces the stored one, and the
    # colleague's wording stays.
    assert client.post(url, _formular(response)).status_code == 302
    bilaga.refresh_from_db()
    assert (bilaga.titel, bilaga.text) == ("Min titel", "Kollegans lydelse.")
    forslag.refresh_from_db()
    assert forslag.text == "<p>Min text.</p>"


def test_a_row_deleted_on_an_older_page_after_someone_changed_it_is_refused(world, client):
    tu = _med_delar(world)
    client.force_login(world.officer)
    sidan = _sidan(client, tu)
    undertecknare = tu.undertecknare.get()
    undertecknare.befattning = "Tf. stadsdelsdirektör"
    services.spara_dokumentdel(tjansteutlatande=tu, obj=undertecknare, user=world.superuser)

    sidan[f"{_rad(sidan, 'undertecknare', undertecknare.pk)}-DELETE"] = "on"
    response = client.post(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/", sidan)

    assert response.status_code == 200
    assert "så den är inte borttagen" in html.unescape(response.content.decode())
    assert tu.undertecknare.filter(pk=undertecknare.pk).exists()


def test_removing_an_atgard_that_someone_removed_meanwhile_saves_the_rest_of_the_page(world, client):
    tu = _med_delar(world)
    client.force_login(world.officer)
    sidan = _sidan(client, tu)
    forsta, andra = tu.atgard_val.order_by("ordning").select_related("atgard")
    services.ta_bort_atgard(tjansteutlatande=tu, atgard=forsta.atgard, user=world.superuser)

    sidan[f"{_rad(sidan, 'atgard_val', forsta.pk)}-DELETE"] = "on"
    forslag = tu.sektioner.get(mall_sektion__rubrik="Förslag till beslut")
    sidan[f"{_rad(sidan, 'sektioner', forslag.pk)}-text"] = "<p>Min text.</p>"
    response = client.post(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/", sidan)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert _atgarder(tu) == [andra.atgard_id]
    forslag.refresh_from_db()
    assert forslag.text == "<p>Min text.</p>"


@pytest.mark.parametrize(
    ("relation", "andra", "falt", "namn"),
    [
        pytest.param("bilagor", {"titel": "Karta", "text": "Kartans text."}, "titel", "1. Skrivelse", id="bilaga"),
        pytest.param(
            "undertecknare",
            {"namn": "Chef1 Testsson", "befattning": "Avdelningschef"},
            "befattning",
            "Chef2 Gammaltnamn, Stadsdelsdirektör",
            id="undertecknare",
        ),
    ],
)
def test_a_row_someone_deleted_after_the_page_was_opened_is_named_and_saving_again_keeps_the_rest(
    world, client, relation, andra, falt, namn
):
    tu = _med_delar(world)
    andra = getattr(tu, relation).model(ordning=2, **andra)
    services.spara_dokumentdel(tjansteutlatande=tu, obj=andra, user=world.officer)
    client.force_login(world.officer)
    url = f"/admin/arenden/tjansteutlatande/{tu.pk}/change/"
    sidan = _sidan(client, tu)
    forsta = getattr(tu, relation).get(ordning=1)
    services.spara_dokumentdel(tjansteutlatande=tu, obj=forsta, user=world.superuser, ta_bort=True)
    historik = tu.history.count()

    sidan[f"{_rad(sidan, relation, andra.pk)}-{falt}"] = "Mitt tillägg"
    forslag = tu.sektioner.get(mall_sektion__rubrik="Förslag till beslut")
    sidan[f"{_rad(sidan, 'sektioner', forslag.pk)}-text"] = "<p>Min text.</p>"
    response = client.post(url, sidan)

    assert response.status_code == 200
    assert tu.history.count() == historik  # nothing saved
    page = html.unescape(response.content.decode())
    assert f"Någon annan har tagit bort ”{namn}” efter att du öppnade sidan." in page
    # What the user typed stays, in the row after the deleted one too.
    assert 'value="Mitt tillägg"' in page and "<p>Min text.</p>" in page

    # Saved again from the page as shown now, the rest is saved and the deleted row stays gone.
    assert client.post(url, _formular(response)).status_code == 302
    andra.refresh_from_db()
    assert getattr(andra, falt) == "Mitt tillägg"
    assert list(getattr(tu, relation).values_list("pk", flat=True)) == [andra.pk]
    forslag.refresh_from_db()
    assert forslag.text == "<p>Min text.</p>"


def test_a_row_id_of_another_document_is_refused_as_deleted_without_naming_that_row(world, client):
    tu = _med_delar(world)
    annat = world.med_delar(
        bilaga={"titel": "Annans bilaga", "text": "Text."},
        undertecknare={"namn": "Chef1 Testsson", "befattning": "Avdelningschef"},
    )
    client.force_login(world.officer)
    sidan = _sidan(client, tu)
    sidan[f"{_rad(sidan, 'bilagor', tu.bilagor.get().pk)}-id"] = str(annat.bilagor.get().pk)
    response = client.post(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/", sidan)

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Någon annan har tagit bort raden efter att du öppnade sidan." in page
    assert "Annans bilaga" not in page
    assert annat.bilagor.get().titel == "Annans bilaga"


def test_an_atgard_someone_removed_after_the_page_was_opened_is_named_and_saving_again_keeps_the_rest(world, client):
    tu = _med_delar(world)
    client.force_login(world.officer)
    url = f"/admin/arenden/tjansteutlatande/{tu.pk}/change/"
    sidan = _sidan(client, tu)
    forsta, andra = tu.atgard_val.order_by("ordning").select_related("atgard")
    services.ta_bort_atgard(tjansteutlatande=tu, atgard=forsta.atgard, user=world.superuser)
    historik = tu.history.count()

    forslag = tu.sektioner.get(mall_sektion__rubrik="Förslag till beslut")
    sidan[f"{_rad(sidan, 'sektioner', forslag.pk)}-text"] = "<p>Min text.</p>"
    response = client.post(url, sidan)

    assert response.status_code == 200
    assert tu.history.count() == historik
    page = html.unescape(response.content.decode())
    assert "Någon annan har tagit bort ”Trygghetsvandringar” efter att du öppnade sidan." in page
    assert "<p>Min text.</p>" in page

    assert client.post(url, _formular(response)).status_code == 302
    assert _atgarder(tu) == [andra.atgard_id]
    forslag.refresh_from_db()
    assert forslag.text == "<p>Min text.</p>"


def test_a_user_who_may_not_delete_rows_is_asked_to_reload_for_a_row_deleted_meanwhile(world, client):
    Group.objects.get(name=Roll.HANDLAGGARE).permissions.remove(Permission.objects.get(codename="delete_bilaga"))
    tu = _med_delar(world)
    client.force_login(world.officer)
    url = f"/admin/arenden/tjansteutlatande/{tu.pk}/change/"
    sidan = _sidan(client, tu)
    services.spara_dokumentdel(tjansteutlatande=tu, obj=tu.bilagor.get(), user=world.superuser, ta_bort=True)
    historik = tu.history.count()

    forslag = tu.sektioner.get(mall_sektion__rubrik="Förslag till beslut")
    sidan[f"{_rad(sidan, 'sektioner', forslag.pk)}-text"] = "<p>Min text.</p>"
    response = client.post(url, sidan)

    # Saving without the row would be deleting it, which the user may not: only a reload helps.
    page = html.unescape(response.content.decode())
    assert "Någon annan har tagit bort ”1. Skrivelse” efter att du öppnade sidan." in page
    assert "ladda om sidan" in page and "Spara igen" not in page
    assert "<p>Min text.</p>" in page
    assert client.post(url, _formular(response)).status_code == 200
    assert tu.history.count() == historik


def _atgarder(tu):
    return list(tu.atgard_val.order_by("ordning", "pk").values_list("atgard_id", flat=True))


def test_an_atgard_added_elsewhere_does_not_stop_saving_the_rest_of_an_older_page(world, client):
    tu = _med_delar(world)
    client.force_login(world.officer)
    sidan = _sidan(client, tu)
    services.lagg_till_atgard(tjansteutlatande=tu, atgard=AtgardFactory(titel="Trygga trappan"), user=world.superuser)
    fore = _atgarder(tu)

    forslag = tu.sektioner.get(mall_sektion__rubrik="Förslag till beslut")
    sidan[f"{_rad(sidan, 'sektioner', forslag.pk)}-text"] = "<p>Min text.</p>"
    response = client.post(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/", sidan)

    assert response.status_code == 302
    forslag.refresh_from_db()
    assert forslag.text == "<p>Min text.</p>"
    assert _atgarder(tu) == fore


def test_reordering_on_a_page_whose_atgarder_changed_since_is_refused_and_kept(world, client):
    tu = _med_delar(world)
    client.force_login(world.officer)
    sidan = _sidan(client, tu)
    services.lagg_till_atgard(tjansteutlatande=tu, atgard=AtgardFactory(titel="Trygga trappan"), user=world.superuser)
    fore, historik = _atgarder(tu), tu.history.count()

    forsta, andra = (
        _rad(sidan, "atgard_val", pk) for pk in tu.atgard_val.order_by("ordning").values_list("pk", flat=True)[:2]
    )
    sidan[f"{forsta}-ordning"], sidan[f"{andra}-ordning"] = sidan[f"{andra}-ordning"], sidan[f"{forsta}-ordning"]
    forslag = tu.sektioner.get(mall_sektion__rubrik="Förslag till beslut")
    sidan[f"{_rad(sidan, 'sektioner', forslag.pk)}-text"] = "<p>Min text.</p>"
    response = client.post(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/", sidan)

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Någon annan har ändrat åtgärderna efter att du öppnade sidan (lagt till ”Trygga trappan”)" in page
    assert "<p>Min text.</p>" in page
    assert _atgarder(tu) == fore and tu.history.count() == historik
    forslag.refresh_from_db()
    assert forslag.text != "<p>Min text.</p>"


def test_a_save_a_service_refuses_shows_the_form_again_with_what_was_typed(world, client, monkeypatch):
    tu = _med_delar(world)
    client.force_login(world.officer)
    sidan = _sidan(client, tu)
    ny = AtgardFactory(titel="Trygga trappan")
    # A colleague adds the same åtgärd just after the page's check and before its save.
    lagg_till, gjort = services.lagg_till_atgard, []

    def samtidigt(*, tjansteutlatande, atgard, user):
        if not gjort:
            gjort.append(lagg_till(tjansteutlatande=tjansteutlatande, atgard=atgard, user=world.superuser))
        return lagg_till(tjansteutlatande=tjansteutlatande, atgard=atgard, user=user)

    monkeypatch.setattr(services, "lagg_till_atgard", samtidigt)
    sidan.update(
        {
            "atgard_val-TOTAL_FORMS": "3",
            "atgard_val-2-tjansteutlatande": str(tu.pk),
            "atgard_val-2-ordning": "3",
            "atgard_val-2-atgard": str(ny.pk),
        }
    )
    forslag = tu.sektioner.get(mall_sektion__rubrik="Förslag till beslut")
    sidan[f"{_rad(sidan, 'sektioner', forslag.pk)}-text"] = "<p>Min text.</p>"
    response = client.post(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/", sidan)

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Åtgärden ”Trygga trappan” finns redan i dokumentet." in page
    assert "<p>Min text.</p>" in page
    forslag.refresh_from_db()
    assert forslag.text != "<p>Min text.</p>"  # nothing of the refused save is kept


def test_admin_edit_after_attest_voids_it_and_names_the_user(world, client):
    tu = world.attesterat()
    client.force_login(world.officer)
    data = _change_form_data(tu, **{"sektioner-0-text": "<p>Ny lydelse.</p>"})
    assert client.post(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/", data).status_code == 302
    tu.refresh_from_db()
    assert tu.status == S.UTKAST
    assert tu.history.first().history_user == world.officer
    assert all(a.makulerad for a in tu.attesteringar.all())


def test_admin_action_sends_with_the_default_chain(world, client):
    tu = world.dokument()
    client.force_login(world.officer)
    response = client.post(
        "/admin/arenden/tjansteutlatande/", {"action": "skicka_valda_for_attest", "_selected_action": [tu.pk]}
    )
    assert response.status_code == 302
    assert any("skickat för attest" in m for m in _messages(client.get(response.url)))
    tu.refresh_from_db()
    assert [a.attestant for a in tu.current_attesteringar] == [world.chef1, world.chef2]


def test_attest_queue_is_linked_from_the_admin_index_for_chefs_only(world, client):
    client.force_login(world.chef1)
    with CaptureQueriesContext(connection) as fragor:
        assert "/admin/arenden/attestko/" in client.get("/admin/").content.decode()
    # The menu asks from the permissions read for the page (the user's own and their groups',
    # in one query: skarholmen/auth.py), not with a query of its own.
    assert len([f for f in fragor if '"auth_permission"' in f["sql"]]) == 1
    client.force_login(world.officer)
    assert "/admin/arenden/attestko/" not in client.get("/admin/").content.decode()
    world.officer.user_permissions.add(Permission.objects.get(codename="attestera_tjansteutlatande"))
    assert "/admin/arenden/attestko/" in client.get("/admin/").content.decode()
    # A superuser has every permission, but attests only with the role.
    client.force_login(world.superuser)
    assert "/admin/arenden/attestko/" not in client.get("/admin/").content.decode()
    assert client.get("/admin/arenden/attestko/").status_code == 403
    world.superuser.groups.add(Group.objects.get(name=Roll.ATTESTANT))
    assert "/admin/arenden/attestko/" in client.get("/admin/").content.decode()


def test_the_attest_queue_is_titled_as_the_menu_names_it(world, client):
    """Django titles a list "Välj <namn> för visning", which for the queue read "Välj väntar på
    min attest för visning"."""
    client.force_login(world.chef1)
    page = client.get("/admin/arenden/attestko/").content.decode()
    assert "<h1>Väntar på min attest</h1>" in page
    assert "<title>Väntar på min attest |" in page
    assert "Välj väntar" not in page


def test_demo_pages_render_for_every_demo_login(demo, client):
    from django.contrib.auth import get_user_model

    for user in get_user_model().objects.all():
        client.force_login(user)
        for url in (
            f"/admin/arenden/tjansteutlatande/{demo.pk}/change/",
            f"/admin/arenden/arende/{demo.arende_id}/change/",
        ):
            response = client.get(url)
            assert response.status_code == 200, (user.username, url)
        page = html.unescape(response.content.decode())
        assert "Christoffer Carlander, Tf. avdelningschef (steg 1 av 2)" in page
        assert "Lisa Kinnari, Förvaltningschef (steg 2 av 2)" in page
    handelser = [h["handelse"] for h in tidslinje(demo.arende)]
    # Registered 2024-01-10, sent 2024-05-03, attested 2024-05-06 (the story's dates: test_demo_data).
    assert handelser[0] == "Ärendet registrerat"
    assert handelser[-4:] == ["Skickat för attest", "Attesterat", "Attesterat", "Ärendets status ändrad"]


def test_adding_a_document_in_the_admin_creates_its_sections_and_moves_the_case(world, client):
    from arenden.constants import ArendeStatus
    from arenden.models import Tjansteutlatande
    from tests.factories import ArendeFactory, MallFactory

    arende = ArendeFactory(forvaltning=world.forvaltning, handlaggare=world.officer, avdelning=world.avdelning)
    mall = MallFactory()
    client.force_login(world.officer)
    response = client.post(
        "/admin/arenden/tjansteutlatande/add/",
        {
            "arende": arende.pk,
            "mall": mall.pk,
            "titel": "Parkernas belysning",
            "undertitel": "Svar på skrivelse",
            "namnd": world.forvaltning.namnd_id,
            # A meeting still to come: a document cannot be aimed at one already held.
            "sammantradesdatum": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    tu = Tjansteutlatande.objects.get(titel="Parkernas belysning")
    assert tu.sektioner.count() == mall.sektioner.count()
    assert tu.handlaggare == world.officer and tu.telefon == "08-508 000 00"
    assert tu.forvaltning == world.forvaltning and tu.history.get().forvaltning == world.forvaltning
    arende.refresh_from_db()
    assert arende.status == ArendeStatus.UNDER_BEREDNING
    assert tu.history.get().history_user == world.officer


def test_the_admin_offers_a_document_only_its_forvaltnings_namnd(world, client):
    from arenden.models import Namnd, Tjansteutlatande
    from tests.factories import ArendeFactory, MallFactory

    farsta = Namnd.objects.create(namn="Farsta stadsdelsnämnd")
    tu = world.dokument()
    client.force_login(world.officer)
    for url in ("/admin/arenden/tjansteutlatande/add/", f"/admin/arenden/tjansteutlatande/{tu.pk}/change/"):
        form = client.get(url).context["adminform"].form
        assert list(form.fields["namnd"].queryset) == [world.forvaltning.namnd]

    response = client.post(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/", _change_form_data(tu, namnd=farsta.pk))
    assert response.status_code == 200 and "namnd" in response.context["adminform"].form.errors
    tu.refresh_from_db()
    assert tu.namnd == world.forvaltning.namnd

    # A superuser is offered every nämnd; the service still refuses the wrong one.
    arende = ArendeFactory(forvaltning=world.forvaltning, handlaggare=world.officer, avdelning=world.avdelning)
    client.force_login(world.superuser)
    data = {"arende": arende.pk, "mall": MallFactory().pk, "titel": "Fel nämnd", "namnd": farsta.pk}
    refused = client.post("/admin/arenden/tjansteutlatande/add/", data)
    assert refused.status_code == 200  # the form again, with what was typed and the refusal
    assert "inte till Farsta stadsdelsnämnd" in html.unescape(refused.content.decode())
    assert not Tjansteutlatande.objects.filter(arende=arende).exists()


def test_a_chef_who_attested_is_told_so_when_returning_the_document(world, client):
    tu = world.skickat()
    services.attestera(tjansteutlatande=tu, user=world.chef1)
    client.force_login(world.chef1)
    url = f"/admin/arenden/tjansteutlatande/{tu.pk}/aterremittera/"
    fel = "Du har redan attesterat dokumentet i denna attestomgång och kan inte återremittera det."
    assert _messages(_follow(client, client.get(url))) == [fel]
    svar = client.post(url, {"kommentar": "Förtydliga.", "innehall_hash": tu.innehall_hash})
    assert _messages(svar) == [fel] and "Förtydliga." in svar.content.decode()  # what they wrote, not sent
    tu.refresh_from_db()
    assert tu.status == S.TILL_ATTEST


def test_a_chef_never_attests_or_returns_content_sent_again_after_they_opened_it(world, client):
    tu = world.skickat()
    dokument_url = f"/admin/arenden/tjansteutlatande/{tu.pk}/"
    client.force_login(world.chef1)
    _, attest_lasta = _bekrafta(client, dokument_url, "attestera")
    _, retur_lasta = _bekrafta(client, dokument_url, "aterremittera")
    page_link = client.get(f"{dokument_url}change/").content.decode()

    # Meanwhile the officer changes a section, which voids the round, and sends it again.
    sektion = tu.sektioner.first()
    tu.refresh_from_db()
    services.spara_sektion(
        sektion=sektion, text="<p>Nytt innehåll.</p>", expected_version=sektion.version, user=world.officer
    )
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    tu.refresh_from_db()
    assert tu.innehall_hash != attest_lasta["innehall_hash"]

    refused = _follow(client, client.post(f"{dokument_url}attestera/", attest_lasta))
    assert any("skickats för attest på nytt" in m for m in _messages(refused))
    refused = client.post(f"{dokument_url}aterremittera/", {"kommentar": "Nej.", **retur_lasta})
    assert any("skickats för attest på nytt" in m for m in _messages(refused))
    # The link from the page read before is refused too, before any confirmation is shown.
    old_link = re.search(r'href="([^"]*attestera/\?innehall=[0-9a-f]+)"', page_link).group(1)
    assert any("skickats för attest på nytt" in m for m in _messages(_follow(client, client.get(old_link))))
    tu.refresh_from_db()
    assert tu.status == S.TILL_ATTEST and not tu.attesteringar.filter(attesterad__isnull=False).exists()

    # Read again, it is attested: the attest carries the hash of the content now sent.
    _, lasta = _bekrafta(client, dokument_url, "attestera")
    _follow(client, client.post(f"{dokument_url}attestera/", lasta))
    assert tu.attesteringar.get(attesterad__isnull=False).innehall_hash == tu.innehall_hash


@pytest.mark.parametrize("under_tiden", ["ändrat", "skickat på nytt"])
def test_a_return_refused_because_the_document_changed_meanwhile_keeps_the_chefs_comment(world, client, under_tiden):
    # The chef writes what must change; meanwhile the officer saves a section (the round is void,
    # a draft again) or also sends it anew. Sent back to the document's page, the chef lost the
    # comment they wrote; it stays on the page, with why it was not sent, and nothing else happens.
    tu = world.skickat()
    dokument_url = f"/admin/arenden/tjansteutlatande/{tu.pk}/"
    client.force_login(world.chef1)
    _, lasta = _bekrafta(client, dokument_url, "aterremittera")
    sektion = tu.sektioner.first()
    services.spara_sektion(
        sektion=sektion, text="<p>Nytt innehåll.</p>", expected_version=sektion.version, user=world.officer
    )
    if under_tiden == "skickat på nytt":
        services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    tu.refresh_from_db()
    fore = (tu.status, tu.innehall_hash, tu.history.count())

    kommentar = "Bakgrunden behöver polisens lägesbild från 2024.\n\nStryk andra stycket i sammanfattningen."
    svar = client.post(f"{dokument_url}aterremittera/", {"kommentar": kommentar, **lasta})
    assert svar.status_code == 200
    fel = {
        # Not "i status ”Utkast”", which left the chef to guess what happened and what to do.
        "ändrat": "Dokumentet kan inte återremitteras: det väntar inte längre på attest utan är ett utkast igen "
        "(det har ändrats, dragits tillbaka från attest eller återremitterats sedan det skickades). Det kommer "
        "tillbaka till Väntar på min attest när handläggaren skickar det på nytt.",
        "skickat på nytt": services.InnehalletAndrat.MEDDELANDE,
    }[under_tiden]
    assert _messages(svar) == [fel]
    sida = svar.content.decode()
    assert html.escape(kommentar, quote=False) in sida and "Kommentaren är inte skickad" in sida
    assert 'type="submit"' not in sida[sida.index('id="content-main"') :]
    tu.refresh_from_db()
    assert (tu.status, tu.innehall_hash, tu.history.count()) == fore
    assert tu.aterremiss_kommentar == ""


@pytest.mark.parametrize("del_", ["bilagor", "undertecknare"])
def test_a_bilaga_or_signatory_added_in_the_admin_after_attest_voids_it(client, world, del_):
    tu = world.attesterat()
    tu.refresh_from_db()
    data = _change_form_data(tu)
    falt = (
        {"ordning": "1", "titel": "Skrivelse", "text": "Skrivelsens text."}
        if del_ == "bilagor"
        else {"ordning": "1", "namn": "Eva Chef", "befattning": "Stadsdelsdirektör"}
    )
    data.update({"bilagor-TOTAL_FORMS": "0", "undertecknare-TOTAL_FORMS": "0", f"{del_}-TOTAL_FORMS": "1"})
    data.update({f"{del_}-0-{namn}": varde for namn, varde in falt.items()})
    data[f"{del_}-0-tjansteutlatande"] = tu.pk
    client.force_login(world.officer)

    saved = client.post(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/", data)

    assert saved.status_code == 302, saved.content.decode()[:3000]
    tu.refresh_from_db()
    assert getattr(tu, del_).count() == 1
    assert tu.status == S.UTKAST and tu.innehall is None
    assert all(a.makulerad for a in tu.attesteringar.all())
    assert tu.history.first().history_user == world.officer


def test_the_chefs_comparison_shows_a_bilagas_new_text_or_file():
    from arenden.admin.tjansteutlatanden import _rader

    def version(**bilaga):
        return {
            "titel": "Öppna drogscener",
            "undertitel": "",
            "sektioner": [],
            "atgardsgrupper": [],
            "undertecknare": [],
            "bilagor": [{"nummer": 1, "titel": "Skrivelse", "fil": "", "sha256": "", "text": "", **bilaga}],
        }

    assert _rader(version(text="Första lydelsen.")) != _rader(version(text="Andra lydelsen."))
    forsta = _rader(version(fil="bilagor/2024/karta.pdf", sha256="a" * 64))
    andra = _rader(version(fil="bilagor/2024/karta.pdf", sha256="b" * 64))
    assert forsta != andra
    assert "(uppladdad PDF, kontrollsumma aaaaaaaaaaaa)" in forsta


@pytest.mark.parametrize(
    ("andring", "rad"),
    [
        ({"namnd": "Kungsholmens stadsdelsnämnd"}, "Nämnd: Kungsholmens stadsdelsnämnd"),
        ({"sammantradesdatum": "2024-06-13"}, "Sammanträdesdatum: 2024-06-13"),
        ({"handlaggare": {"namn": "Eva Svensson", "telefon": "08-508 250 00"}}, "Handläggare: Eva Svensson"),
        ({"handlaggare": {"namn": "Anna Andersson", "telefon": "08-508 250 99"}}, "Telefon: 08-508 250 99"),
        ({"arendemening": "Öppna drogscener i Sätra"}, "Ärendemening: Öppna drogscener i Sätra"),
        ({"avdelning": "Individ och familj inklusive fritid"}, "Avdelning: Individ och familj inklusive fritid"),
    ],
)
def test_the_chefs_comparison_shows_a_changed_header_field(andring, rad):
    from arenden.admin.tjansteutlatanden import _rader

    forsta = {
        "diarienummer": "SKHLM 2024/123",
        "arendemening": "Öppna drogscener",
        "forvaltning": "Skärholmens stadsdelsförvaltning",
        "avdelning": "Medborgarservice och stadsmiljö",
        "handlaggare": {"namn": "Anna Andersson", "telefon": "08-508 250 00"},
        "namnd": "Skärholmens stadsdelsnämnd",
        "sammantradesdatum": "2024-05-23",
        "titel": "Öppna drogscener",
        "undertitel": "Svar på skrivelse",
        "sektioner": [],
        "atgardsgrupper": [],
        "undertecknare": [],
        "bilagor": [],
    }
    andra = {**forsta, **andring}

    assert rad not in _rader(forsta) and rad in _rader(andra)


def test_a_resend_that_only_moves_the_meeting_date_is_a_change_for_the_chef(world, client):
    tu = world.skickat()
    services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="Fel sammanträde.")
    tu.refresh_from_db()
    services.uppdatera_tjansteutlatande(
        tjansteutlatande=tu,
        data={"sammantradesdatum": datetime.date(2031, 3, 4)},
        expected_version=tu.version,
        user=world.officer,
    )
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)

    client.force_login(world.chef1)
    page = html.unescape(client.get(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/").content.decode())

    assert "Inga ändringar" not in page
    assert 'class="diff"' in page and "2031-03-04" in page


def _andringarnas_text(page):
    """What the chef reads in the document's "ändringar" field: its text, as the browser shows it."""
    falt = page[page.index("field-andringar") :]
    falt = falt[: falt.index("</fieldset>")]
    falt = re.sub(r"<(br|/p|/li|/tr|/h3)\s*/?>", "\n", falt)
    return "\n".join(" ".join(html.unescape(re.sub(r"<[^>]+>", " ", rad)).split()) for rad in falt.splitlines())


@pytest.mark.parametrize(
    ("fore", "efter", "rad"),
    [
        (
            "<p>Polisen deltar i arbetet.</p>",
            "<p><strong>Polisen</strong> deltar i arbetet.</p>",
            "Ärendet: ”Polisen” – fetstil tillagd",
        ),
        (
            "<p>Polisen <em>deltar i arbetet</em>.</p>",
            "<p>Polisen deltar i arbetet.</p>",
            "Ärendet: ”deltar i arbetet” – kursiv stil borttagen",
        ),
        (
            "<ul><li>Trygghetsvandringar</li><li>Platsaktiveringar</li></ul>",
            "<p>Trygghetsvandringar</p><p>Platsaktiveringar</p>",
            "Ärendet: ”Trygghetsvandringar / Platsaktiveringar” – punktlista blev vanliga stycken",
        ),
        (
            "<p>Sätra är fokusområde 2024.</p>",
            "<p><strong>Sätra är fokusområde 2024.</strong></p>",  # a pasted heading is kept as a bold line
            "Ärendet: ”Sätra är fokusområde 2024.” – fetstil tillagd",
        ),
    ],
)
def test_a_resend_that_only_changes_formatting_shows_the_chef_what_changed(world, client, fore, efter, rad):
    """The comparison of the text alone said "Inga ändringar": the chef could attest changed
    emphasis or a list made prose without seeing it."""
    tu = world.dokument()
    sektion = tu.sektioner.get(mall_sektion__rubrik="Ärendet")
    _skriv(sektion, world.officer, fore)
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="Lyft fram det viktiga.")
    _skriv(sektion, world.officer, efter)
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)

    client.force_login(world.chef1)
    page = client.get(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/").content.decode()
    text = _andringarnas_text(page)

    assert "Inga ändringar" not in text, text
    assert "Texten är oförändrad sedan versionen skickad för attest" in text, text
    assert "Formateringen har ändrats" in text, text
    assert rad in text.splitlines(), text
    # Told in words: no markup reaches the chef as text.
    assert "<" not in text and "&lt;" not in page[page.index("field-andringar") :]


def test_the_chef_sees_formatting_beside_a_changed_text(world, client):
    tu = world.dokument()
    sektion = tu.sektioner.get(mall_sektion__rubrik="Ärendet")
    _skriv(sektion, world.officer, "<p>Polisen deltar. Skolan deltar.</p>")
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="Betona polisen.")
    _skriv(sektion, world.officer, "<p><strong>Polisen</strong> deltar. Skolan deltar <em>varje vecka</em>.</p>")
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)

    client.force_login(world.chef1)
    page = client.get(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/").content.decode()
    text = _andringarnas_text(page)

    assert 'class="diff"' in page  # the text's own difference, as before
    assert "Ärendet: ”Polisen” – fetstil tillagd" in text.splitlines(), text
    assert "Ärendet: ny text i kursiv stil: ”varje vecka”" in text.splitlines(), text


def test_many_formatting_changes_are_told_as_a_few_lines_and_a_count(world, client):
    """Every other sentence of a section put in bold is one change to read about, not a line each."""
    meningar = [f"Mening nummer {i} om platsen." for i in range(60)]
    tu = world.dokument()
    sektion = tu.sektioner.get(mall_sektion__rubrik="Ärendet")
    _skriv(sektion, world.officer, "".join(f"<p>{m}</p>" for m in meningar))
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="Se över.")
    ny_text = "".join(f"<p><strong>{m}</strong></p>" if i % 2 == 0 else f"<p>{m}</p>" for i, m in enumerate(meningar))
    _skriv(sektion, world.officer, ny_text)
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)

    client.force_login(world.chef1)
    text = _andringarnas_text(client.get(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/").content.decode())

    rader = [rad for rad in text.splitlines() if rad.startswith("Ärendet: ")]
    assert len(rader) == 19, text
    assert "… och 11 ändringar till i formateringen." in text.splitlines(), text


def test_a_resend_with_the_same_text_and_formatting_still_says_no_change(world, client):
    tu = world.dokument()
    sektion = tu.sektioner.get(mall_sektion__rubrik="Ärendet")
    _skriv(sektion, world.officer, "<p><strong>Polisen</strong> deltar.</p>")
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="Se över.")
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)

    client.force_login(world.chef1)
    text = _andringarnas_text(client.get(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/").content.decode())

    assert "Inga ändringar i texten eller formateringen sedan versionen skickad för attest" in text, text
    assert "Formateringen har ändrats" not in text


def _kedja_utan_kontroll(monkeypatch, tu, kedja):
    """Send `tu` to `kedja` as a chain stored before the sending kept every author out of it."""
    with monkeypatch.context() as m:
        m.setattr(services, "_kontrollera_kedja", lambda *args, **kwargs: None)
        services.skicka_for_attest(tjansteutlatande=tu, user=tu.handlaggare, attestanter=kedja)
    tu.refresh_from_db()


def _skriv(sektion, user, text):
    sektion.refresh_from_db()
    services.spara_sektion(sektion=sektion, text=text, expected_version=sektion.version, user=user)


def _ko(client):
    response = client.get("/admin/arenden/attestko/")
    assert response.status_code == 200
    return {tu.pk: tu for tu in response.context["cl"].result_list}, html.unescape(response.content.decode())


def _koraden(page, titel):
    """The queue's row of the document titled `titel`."""
    return next(rad for rad in re.findall(r"<tr[^>]*>.*?</tr>", page, re.S) if titel in rad)


BYT = (
    "dra tillbaka dokumentet med knappen ”Dra tillbaka från attest”, så att det blir ett utkast igen utan att texten "
    "ändras, och skicka det sedan för attest till en annan attestant."
)
FORFATTAR_HINDER = (
    f"Du har skrivit text i dokumentet och kan inte attestera det. Be handläggaren, Officer Testsson, {BYT}"
)


def test_a_chef_who_wrote_in_a_document_waiting_at_their_step_is_told_why_and_what_to_do(world, client, monkeypatch):
    world.chef1.groups.add(Group.objects.get(name=Roll.HANDLAGGARE))
    skrivet = world.dokument(titel="Parklekar i Sätra")
    _skriv(skrivet.sektioner.first(), world.chef1, "<p>Avdelningschefens stycke.</p>")
    _kedja_utan_kontroll(monkeypatch, skrivet, [world.chef1, world.chef2])
    annat = world.skickat(titel="Belysning i Bredäng")

    client.force_login(world.chef1)
    ko, page = _ko(client)
    # Listed, not left out: its chain waits at this chef, who can neither attest nor return it.
    assert set(ko) == {skrivet.pk, annat.pk}
    assert FORFATTAR_HINDER in _koraden(page, "Parklekar i Sätra")
    assert "Väntar på dig" in _koraden(page, "Belysning i Bredäng")
    assert "Väntar på dig" not in _koraden(page, "Parklekar i Sätra")
    assert "kan inte attestera" not in _koraden(page, "Belysning i Bredäng")

    # The document's page the queue links to says the same, and offers no button that would be refused.
    dokument = html.unescape(client.get(f"/admin/arenden/tjansteutlatande/{skrivet.pk}/change/").content.decode())
    assert FORFATTAR_HINDER in dokument and f"{skrivet.pk}/attestera/" not in dokument
    dokument = html.unescape(client.get(f"/admin/arenden/tjansteutlatande/{annat.pk}/change/").content.decode())
    assert "kan inte attestera det" not in dokument and f"{annat.pk}/attestera/" in dokument

    # The handläggare's page of the chain tells them too.
    client.force_login(world.officer)
    kedjan = html.unescape(client.get(f"/tjansteutlatanden/{skrivet.pk}/attest/").content.decode())
    assert (
        "Chef1 Testsson har skrivit text i dokumentet och kan inte attestera det eller återremittera det. För att "
        f"byta attestant: {BYT}"
    ) in kedjan
    # The button the advice names is there for the handläggare.
    assert f'href="/tjansteutlatanden/{skrivet.pk}/dra-tillbaka/">Dra tillbaka från attest</a>' in kedjan
    kedjan = html.unescape(client.get(f"/tjansteutlatanden/{annat.pk}/attest/").content.decode())
    assert "har skrivit text i dokumentet" not in kedjan


def test_doing_what_the_queue_says_moves_the_document_to_another_attestant(world, client, monkeypatch):
    world.chef1.groups.add(Group.objects.get(name=Roll.HANDLAGGARE))
    tu = world.dokument()
    sektioner = list(tu.sektioner.order_by("mall_sektion__ordning"))
    _skriv(sektioner[0], world.chef1, "<p>Avdelningschefens stycke.</p>")
    _kedja_utan_kontroll(monkeypatch, tu, [world.chef1, world.chef2])

    # The handläggare takes the document back from attest, unchanged, and sends it anew.
    client.force_login(world.officer)
    texter = list(tu.sektioner.order_by("pk").values_list("text", flat=True))
    response = client.post(f"/tjansteutlatanden/{tu.pk}/dra-tillbaka/", {"omgang": tu.attest_omgang})
    assert response.status_code == 302 and response.url == f"/tjansteutlatanden/{tu.pk}/redigera/"
    tu.refresh_from_db()
    assert tu.status == S.UTKAST
    assert list(tu.sektioner.order_by("pk").values_list("text", flat=True)) == texter
    form = client.get(f"/admin/arenden/tjansteutlatande/{tu.pk}/skicka/")
    assert form.context["form"]["forsta"].value() == world.chef2.pk  # the chef who wrote is not proposed
    _follow(client, client.post(f"/admin/arenden/tjansteutlatande/{tu.pk}/skicka/", {"forsta": world.chef2.pk}))

    client.force_login(world.chef1)
    assert tu.pk not in _ko(client)[0]
    client.force_login(world.chef2)
    ko, page = _ko(client)
    assert tu.pk in ko and "Väntar på dig" in page and "kan inte attestera det" not in page


def test_a_chef_who_added_a_bilaga_or_an_atgard_is_told_in_the_queue_they_cannot_attest_it(world, client):
    world.chef1.groups.add(Group.objects.get(name=Roll.HANDLAGGARE))
    client.force_login(world.chef1)
    # The avdelningschef uploads a map as a bilaga on the document's admin page...
    med_bilaga = world.dokument(titel="Parklekar i Sätra")
    data = _change_form_data(med_bilaga)
    data.update({"bilagor-TOTAL_FORMS": "1", "bilagor-0-tjansteutlatande": med_bilaga.pk})
    data.update({"bilagor-0-ordning": "1", "bilagor-0-titel": "Karta över Sätra centrum"})
    data["bilagor-0-fil"] = SimpleUploadedFile("karta.pdf", pdf_bytes(), content_type="application/pdf")
    sparat = client.post(f"/admin/arenden/tjansteutlatande/{med_bilaga.pk}/change/", data)
    assert sparat.status_code == 302, sparat.content.decode()[:3000]
    assert med_bilaga.bilagor.get().fil
    # ...and adds an åtgärd to another document, whose text then prints in it.
    med_atgard = world.dokument(titel="Belysning i Bredäng")
    services.lagg_till_atgard(tjansteutlatande=med_atgard, atgard=AtgardFactory(titel="Ny belysning"), user=world.chef1)
    orort = world.dokument(titel="Hundrastgårdar")
    for tu in (med_bilaga, med_atgard, orort):
        services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    assert [a.attestant for a in med_bilaga.current_attesteringar] == [world.chef2]
    assert [a.attestant for a in med_atgard.current_attesteringar] == [world.chef2]
    # Chains stored before the sending counted these authors wait at the chef who wrote.
    for tu in (med_bilaga, med_atgard):
        tu.attesteringar.filter(attestant=world.chef2).update(
            attestant=world.chef1, namn="Chef1 Testsson", befattning="Avdelningschef"
        )

    ko, page = _ko(client)
    assert set(ko) == {med_bilaga.pk, med_atgard.pk, orort.pk}
    # The list's flag, read in its query, and the rule the services refuse by say the same.
    assert {pk: bool(tu.user_wrote_text) for pk, tu in ko.items()} == {
        pk: world.chef1.pk in tu.forfattar_ids() for pk, tu in ko.items()
    }
    assert FORFATTAR_HINDER in _koraden(page, "Parklekar i Sätra")
    assert FORFATTAR_HINDER in _koraden(page, "Belysning i Bredäng")
    assert "Väntar på dig" in _koraden(page, "Hundrastgårdar")
    dokument = html.unescape(client.get(f"/admin/arenden/tjansteutlatande/{med_bilaga.pk}/change/").content.decode())
    assert FORFATTAR_HINDER in dokument and f"{med_bilaga.pk}/attestera/" not in dokument

    client.force_login(world.officer)
    kedjan = html.unescape(client.get(f"/tjansteutlatanden/{med_atgard.pk}/attest/").content.decode())
    assert "Chef1 Testsson har skrivit text i dokumentet och kan inte attestera det eller återremittera det." in kedjan


def test_a_handlaggare_left_in_their_own_chain_finds_it_in_their_queue_with_what_to_do(world, client, monkeypatch):
    world.officer.groups.add(Group.objects.get(name=Roll.ATTESTANT))
    tu = world.dokument(titel="Parklekar i Sätra")
    _kedja_utan_kontroll(monkeypatch, tu, [world.officer])

    client.force_login(world.officer)
    ko, page = _ko(client)
    assert set(ko) == {tu.pk}
    assert f"Du är handläggare för dokumentet och kan inte attestera det. D{BYT[1:]}" in page
    # The document's page the queue links to leads to the button the advice names.
    dokument = html.unescape(client.get(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/").content.decode())
    assert f'href="/tjansteutlatanden/{tu.pk}/dra-tillbaka/">Dra tillbaka från attest</a>' in dokument
    assert f"{tu.pk}/attestera/" not in dokument


def _ge_till(tu, handlaggare, world, **falt):
    """The registrator gives the document's case to `handlaggare` (and `falt`) while it waits for attest."""
    arende = tu.arende
    arende.handlaggare = handlaggare
    for namn, varde in falt.items():
        setattr(arende, namn, varde)
    services.andra_arende(arende=arende, falt=["handlaggare", *falt], user=world.registrator)
    tu.refresh_from_db()


def test_the_note_names_the_cases_new_handlaggare_who_can_take_it_back(world, client, monkeypatch):
    world.chef1.groups.add(Group.objects.get(name=Roll.HANDLAGGARE))
    tu = world.dokument(titel="Parklekar i Sätra")
    _skriv(tu.sektioner.first(), world.chef1, "<p>Avdelningschefens stycke.</p>")
    _kedja_utan_kontroll(monkeypatch, tu, [world.chef1, world.chef2])
    # Given to an officer of another avdelning: the former one no longer sees the case.
    _ge_till(tu, world.kollega, world, avdelning=world.kollega.profil.avdelning)
    assert tu.handlaggare == world.officer  # sent: it keeps the handläggare it names

    hinder = f"Du har skrivit text i dokumentet och kan inte attestera det. Be handläggaren, Kollega Testsson, {BYT}"
    client.force_login(world.chef1)
    assert hinder in _koraden(_ko(client)[1], "Parklekar i Sätra")
    dokument = html.unescape(client.get(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/").content.decode())
    assert hinder in dokument

    # The one named can do what the note says; the one the document names cannot reach it.
    client.force_login(world.officer)
    assert client.get(f"/tjansteutlatanden/{tu.pk}/dra-tillbaka/").status_code == 404
    client.force_login(world.kollega)
    response = client.post(f"/tjansteutlatanden/{tu.pk}/dra-tillbaka/", {"omgang": tu.attest_omgang})
    assert response.status_code == 302
    tu.refresh_from_db()
    assert (tu.status, tu.handlaggare) == (S.UTKAST, world.kollega)


def test_a_chef_given_the_case_while_it_waits_at_their_step_is_told_to_take_it_back(world, client):
    world.chef1.groups.add(Group.objects.get(name=Roll.HANDLAGGARE))
    tu = world.skickat(titel="Parklekar i Sätra")
    _ge_till(tu, world.chef1, world)

    client.force_login(world.chef1)
    ko, page = _ko(client)
    assert set(ko) == {tu.pk}
    rad = _koraden(page, "Parklekar i Sätra")
    assert f"Du är handläggare för dokumentet och kan inte attestera det. D{BYT[1:]}" in rad
    assert "Väntar på dig" not in rad
    dokument = html.unescape(client.get(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/").content.decode())
    assert f"Du är handläggare för dokumentet och kan inte attestera det. D{BYT[1:]}" in dokument
    assert f"{tu.pk}/attestera/" not in dokument and f"{tu.pk}/aterremittera/" not in dokument
    assert f'href="/tjansteutlatanden/{tu.pk}/dra-tillbaka/">Dra tillbaka från attest</a>' in dokument
    kedjan = html.unescape(client.get(f"/tjansteutlatanden/{tu.pk}/attest/").content.decode())
    assert "Chef1 Testsson är handläggare för dokumentet och kan inte attestera det eller återremittera det." in kedjan


def test_a_handlaggare_who_may_no_longer_write_is_told_the_registrator_can_unblock_it(world, client, monkeypatch):
    world.officer.groups.add(Group.objects.get(name=Roll.ATTESTANT))
    tu = world.dokument(titel="Parklekar i Sätra")
    _kedja_utan_kontroll(monkeypatch, tu, [world.officer])
    # Now an attestant only (a tf. avdelningschef): they may no longer write documents.
    world.officer.groups.set([Group.objects.get(name=Roll.ATTESTANT)])

    hinder = (
        "Du är handläggare för dokumentet och kan inte attestera det. Du har inte behörighet att ändra dokument "
        "och kan därför inte heller dra tillbaka det från attest. Be registratorn ge ärendet till en annan "
        f"handläggare, som då kan {BYT}"
    )
    client.force_login(world.officer)
    assert hinder in _koraden(_ko(client)[1], "Parklekar i Sätra")
    dokument = html.unescape(client.get(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/").content.decode())
    assert hinder in dokument and "/dra-tillbaka/" not in dokument
    assert client.get(f"/tjansteutlatanden/{tu.pk}/dra-tillbaka/").status_code == 403

    # What the note says holds: the case given to another handläggare, they take it back.
    _ge_till(tu, world.kollega, world)
    client.force_login(world.kollega)
    response = client.post(f"/tjansteutlatanden/{tu.pk}/dra-tillbaka/", {"omgang": tu.attest_omgang})
    assert response.status_code == 302
    tu.refresh_from_db()
    assert (tu.status, tu.handlaggare) == (S.UTKAST, world.kollega)


def test_a_bilaga_with_neither_file_nor_text_is_refused_with_the_input_kept(client, world):
    # Listed as "2. Karta" with no file chosen, the bilaga was printed in the document's list
    # of bilagor and attested, and the nämnd got no map: nothing followed the document's pages.
    tu = world.dokument()
    data = _change_form_data(tu)
    data.update({"bilagor-TOTAL_FORMS": "1", "bilagor-0-tjansteutlatande": tu.pk})
    data.update({"bilagor-0-ordning": "2", "bilagor-0-titel": "Karta över Sätra centrum"})
    client.force_login(world.officer)

    refused = client.post(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/", data)

    assert refused.status_code == 200
    page = refused.content.decode()
    assert "En bilaga behöver en PDF-fil eller en text." in page
    assert 'value="Karta över Sätra centrum"' in page
    assert not tu.bilagor.exists()
    with pytest.raises(ValidationError, match="En bilaga behöver en PDF-fil eller en text."):
        services.spara_dokumentdel(
            tjansteutlatande=tu, obj=Bilaga(ordning=2, titel="Karta", text="  "), user=world.officer
        )
    assert not tu.bilagor.exists()


def test_the_chefs_page_of_a_document_reads_its_attestations_and_signatories_with_the_rows(world, client):
    # Every round of the chain stays on the page, each step naming its attestant, and each signatory
    # names the user who signs: read one row at a time, a document returned a few times cost the
    # chef reading it a query a row.
    from arenden.models import Undertecknare

    tu = world.dokument()
    url = f"/admin/arenden/tjansteutlatande/{tu.pk}/change/"
    client.force_login(world.chef2)

    def omgang(n):
        services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
        services.attestera(tjansteutlatande=tu, user=world.chef1)
        services.aterremittera(tjansteutlatande=tu, user=world.chef2, kommentar="Förtydliga bakgrunden.")
        undertecknare = Undertecknare(ordning=n, anvandare=world.chef2, namn="Chef2 Testsson", befattning="Direktör")
        services.spara_dokumentdel(tjansteutlatande=tu, obj=undertecknare, user=world.officer)

    def fragor():
        with CaptureQueriesContext(connection) as fragor:
            sida = client.get(url)
        assert sida.status_code == 200
        return len(fragor), sida.content.decode()

    omgang(1)
    client.get(url)  # what a process reads once (content types) is not the page's
    en, _ = fragor()
    for n in range(2, 5):
        omgang(n)
    fyra, sida = fragor()
    assert sida.count("Chef1 Testsson (chef1)") == 4  # each round's step, named as a person
    assert sida.count("Chef2 Testsson (chef2)") >= 4 + 4  # each round's step and each signatory
    assert fyra == en


def _historikens_rader(page):
    """The document's history page's rows, as text, newest first."""
    tabell = page[page.index('id="change-history"') :]
    tabell = tabell[: tabell.index("</table>")]
    return [
        re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", rad))).strip()
        for rad in re.findall(r"<tr>(.*?)</tr>", tabell, flags=re.S)[1:]
    ]


def test_the_documents_history_tells_what_the_chef_wrote_when_returning_it(world, client):
    """The document's history said "Återremitterat" and the new status, not what the chef asked
    for: the comment is no form's field, and only the latest one stood on the document's page."""
    tu = world.dokument()
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer, attestanter=[world.chef1])
    services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="Förtydliga ärendet.")
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer, attestanter=[world.chef1])

    client.force_login(world.chef1)
    rader = _historikens_rader(client.get(f"/admin/arenden/tjansteutlatande/{tu.pk}/history/").content.decode())

    skickat_igen, aterremitterat = rader[0], rader[1]
    assert "Återremitterat" in aterremitterat and "Förtydliga ärendet." in aterremitterat
    # Sending it again clears the comment on the document; the history does not repeat it there.
    assert "Skickat för attest" in skickat_igen and "Förtydliga" not in skickat_igen


def test_a_return_comment_over_the_limit_is_refused_beside_the_field_and_kept(world, client):
    # Pasted in whole (or posted without the browser's `required`), 200,000 characters were
    # stored and printed in full on the document's page and in its history.
    tu = world.skickat()
    dokument_url = f"/admin/arenden/tjansteutlatande/{tu.pk}/"
    client.force_login(world.chef1)
    _, lasta = _bekrafta(client, dokument_url, "aterremittera")
    kommentar = "Förtydliga bakgrunden. " + "x" * 200_000
    svar = client.post(f"{dokument_url}aterremittera/", {"kommentar": kommentar, **lasta})

    assert svar.status_code == 200
    sida = svar.content.decode()
    falt = sida[sida.index('for="id_kommentar"') :]
    assert re.search(r'class="errorlist"[^>]*>\s*<li>Kommentaren är för lång', falt), falt[:600]
    assert "högst 4\u00a0000 tecken" in sida
    assert kommentar in sida and 'type="submit"' in sida  # kept, to be shortened and sent
    tu.refresh_from_db()
    assert (tu.status, tu.aterremiss_kommentar) == (S.TILL_ATTEST, "")

    with pytest.raises(services.WorkflowError, match="för lång"):
        services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="y" * 4001)
    tu.refresh_from_db()
    assert tu.status == S.TILL_ATTEST

    _follow(client, client.post(f"{dokument_url}aterremittera/", {"kommentar": "z" * 4000, **lasta}))
    tu.refresh_from_db()
    assert (tu.status, tu.aterremiss_kommentar) == (S.UTKAST, "z" * 4000)


@pytest.mark.parametrize(
    "lamnat, varfor",
    [
        ("avslutat", "har inget aktivt konto längre"),
        ("attestant", "har inte längre behörighet att ändra dokument"),
    ],
)
def test_a_chef_returning_to_a_handlaggare_who_left_is_told_who_can_take_it_up(world, client, lamnat, varfor):
    """The officer left (their account closed) or became an attestant while their document waited
    for attest. Returned, it became a draft on their name, and the chef read "återremitterat till
    Officer Testsson" as if they would get it: nobody was told that nobody would."""
    tu = world.skickat()
    if lamnat == "avslutat":
        world.officer.is_active = False
        world.officer.save()
    else:
        world.officer.groups.set([Group.objects.get(name=Roll.ATTESTANT)])
    dokument_url = f"/admin/arenden/tjansteutlatande/{tu.pk}/"
    rad = (
        f"Officer Testsson {varfor} och kan inte ta upp dokumentet. Be registratorn ge ärendet till en "
        "annan handläggare; utkastet följer med ärendet."
    )

    client.force_login(world.chef1)
    confirm, lasta = _bekrafta(client, dokument_url, "aterremittera")
    assert rad in html.unescape(confirm.content.decode())  # before the chef writes the comment
    returned = _follow(
        client, client.post(f"{dokument_url}aterremittera/", {"kommentar": "Förtydliga ärendet.", **lasta})
    )
    assert f"”{tu}” är återremitterat till Officer Testsson. {rad}" in _messages(returned)
    tu.refresh_from_db()
    assert tu.status == S.UTKAST

    # What the message says holds: the case given to a colleague, the draft names them.
    _ge_till(tu, world.kollega, world)
    tu.refresh_from_db()
    assert tu.handlaggare == world.kollega


def test_a_chef_returning_to_a_handlaggare_who_can_write_it_is_told_nothing_more(world, client):
    tu = world.skickat()
    dokument_url = f"/admin/arenden/tjansteutlatande/{tu.pk}/"
    client.force_login(world.chef1)
    confirm, lasta = _bekrafta(client, dokument_url, "aterremittera")
    assert "registratorn" not in confirm.content.decode()
    returned = _follow(
        client, client.post(f"{dokument_url}aterremittera/", {"kommentar": "Förtydliga ärendet.", **lasta})
    )
    assert f"”{tu}” är återremitterat till Officer Testsson." in _messages(returned)


def test_a_chef_reads_the_sections_as_the_document_prints_them_not_their_html(world, client):
    """The chef's page of a document listed each section with its stored HTML in plain sight,
    "<p>Sätra centrum …</p>" and "<span class="fotnot">", under the preview they attest from; so
    did a section's own page."""
    tu = world.dokument()
    sektion = tu.sektioner.first()
    _skriv(
        sektion, world.officer, '<p>Vi <strong>vandrar</strong> i Sätra.<span class="fotnot">Varje fredag.</span></p>'
    )
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)

    client.force_login(world.chef1)
    tryckt = '<p>Vi <strong>vandrar</strong> i Sätra.<span class="fotnot">Varje fredag.</span></p>'
    # The document's page: its preview, and the section below it. The section's page: the section.
    for url, ganger in (
        (f"/admin/arenden/tjansteutlatande/{tu.pk}/change/", 2),
        (f"/admin/arenden/sektion/{sektion.pk}/change/", 1),
    ):
        sida = client.get(url).content.decode()
        assert "&lt;p&gt;" not in sida and "&lt;span" not in sida, url
        assert sida.count(tryckt) == ganger, url

    # A hostile text is shown as the document prints it: sanitised, nothing runs.
    tu2 = world.dokument()
    _skriv(tu2.sektioner.first(), world.officer, "<p>Text</p>")
    sektion2 = tu2.sektioner.first()
    type(sektion2).objects.filter(pk=sektion2.pk).update(text='<p onclick="x()">Text<script>alert(1)</script></p>')
    sida = client.get(f"/admin/arenden/sektion/{sektion2.pk}/change/").content.decode()
    assert "<script>alert" not in sida and "onclick" not in sida

    # The officer, who may change it, still edits the stored text in the box.
    client.force_login(world.officer)
    tu3 = world.dokument()
    _skriv(tu3.sektioner.first(), world.officer, "<p>Utkastets text.</p>")
    sida = client.get(f"/admin/arenden/tjansteutlatande/{tu3.pk}/change/").content.decode()
    assert "&lt;p&gt;Utkastets text.&lt;/p&gt;</textarea>" in sida


@pytest.mark.parametrize("sida", ["sektion", "attestering", "skrivelse", "arende", "tjansteutlatande"])
def test_an_old_version_read_by_a_chef_lists_no_other_forvaltnings_cases_or_documents(world, client, sida):
    """An old version's page showed a reader who may not change the object (a chef) the fields
    of the form as boxes and lists to choose from, not as text: the section's and the
    attestation's "Tjänsteutlåtande" listed every document in the city, other förvaltningar's
    titles and diarienummer included, and the skrivelse's "Ärende" every case."""
    from tests.arenden.test_admin import _utanfor

    utanfor = _utanfor()
    annat = TjansteutlatandeFactory(arende=utanfor, titel="Hässelbys hemliga svar")
    tu = world.skickat()
    services.attestera(tjansteutlatande=tu, user=world.chef1)
    arende = tu.arende
    Skrivelse.objects.create(
        arende=arende, titel="Skrivelsen", forfattare="A (M)", beredning_datum=datetime.date(2024, 1, 10), text="x"
    )
    obj = {
        "sektion": tu.sektioner.first(),
        "attestering": tu.attesteringar.first(),
        "skrivelse": arende.skrivelser.first(),
        "arende": arende,
        "tjansteutlatande": tu,
    }[sida]
    version = obj.history.order_by("history_id").first()

    client.force_login(world.chef1)
    svar = client.get(f"/admin/arenden/{sida}/{obj.pk}/history/{version.history_id}/")

    assert svar.status_code == 200
    page = svar.content.decode()
    assert annat.titel not in page and utanfor.diarienummer not in page and utanfor.arendemening not in page
    start = re.search(rf'<form [^>]*id="historical{sida}_form"', page).start()
    formular = page[start : page.index("</form>", start)]
    assert "<select" not in formular and "<textarea" not in formular and 'type="text"' not in formular


def test_a_handlaggare_whose_account_is_closed_is_named_so_in_the_queue_and_on_the_documents_page(world, client):
    tu = world.skickat(titel="Öppna drogscener")
    world.officer.is_active = False
    world.officer.save()

    client.force_login(world.chef1)
    _, page = _ko(client)
    assert "Officer Testsson (avslutat konto)" in _koraden(page, "Öppna drogscener")
    page = html.unescape(client.get(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/").content.decode())
    handlaggare = re.search(r'<div class="form-row field-handlaggare_som_person">.*?</div>\s*</div>', page, re.S)
    assert "Officer Testsson (officer) (avslutat konto)" in handlaggare.group(0)


def test_a_handlaggare_with_an_open_account_is_named_without_a_mark(world, client):
    tu = world.skickat(titel="Öppna drogscener")
    client.force_login(world.chef1)
    _, page = _ko(client)
    assert "avslutat konto" not in _koraden(page, "Öppna drogscener")
    page = client.get(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/").content.decode()
    assert "Officer Testsson (officer)" in page and "avslutat konto" not in page


@pytest.mark.parametrize("handling", ["attestera", "aterremittera"])
def test_the_confirmation_pages_breadcrumbs_read_as_every_other_admin_pages(world, client, handling):
    tu = world.skickat(titel="Öppna drogscener")
    client.force_login(world.chef1)
    confirm, _ = _bekrafta(client, f"/admin/arenden/tjansteutlatande/{tu.pk}/", handling)
    brodsmulor = re.search(r'<div class="breadcrumbs">(.*?)</div>', confirm.content.decode(), re.S).group(1)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", brodsmulor)).split())
    knapp = "Attestera" if handling == "attestera" else "Återremittera"
    assert text == f"Hem › Ärenden › Tjänsteutlåtanden › {tu} › {knapp}"
    assert 'href="/admin/arenden/"' in brodsmulor
