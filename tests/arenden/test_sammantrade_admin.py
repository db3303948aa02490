import datetime
import re

import pytest

from arenden.models import Foredragningspunkt, Sammantrade
from tests.arenden.meeting import attesterat_dokument, sammantrade, sekreterare
from tests.factories import TjansteutlatandeFactory, UserFactory


@pytest.fixture
def sekr_client(client, db):
    client.force_login(sekreterare())
    return client


def _url(mote, rest=""):
    return f"/admin/arenden/sammantrade/{mote.pk}/{rest}"


def _sedd_ordning(page):
    """The order of the items the meeting's page shows, which its ▲/▼ buttons send along: it is
    in the change form that holds the buttons."""
    formular = page[page.index('id="sammantrade_form"') :]
    return re.findall(r'name="sedd_ordning" value="(\d+)"', formular[: formular.index("</form>")])


def _sida(client, mote):
    """The meeting's change form as the browser posts it, unchanged: each field the page shows
    with its hidden copy (Django's show_hidden_initial), which tells what the user changed."""
    form = client.get(_url(mote, "change/")).context["adminform"].form
    data = {}
    for namn in ("namnd", "datum", "tid", "plats"):
        if namn in form.fields:
            varde = form[namn].value()
            varde = "" if varde is None else f"{varde:%H:%M}" if namn == "tid" else str(varde)
            data[namn] = data[f"initial-{namn}"] = varde
    punkter = list(mote.punkter.order_by("nummer"))
    data.update({"punkter-TOTAL_FORMS": str(len(punkter)), "punkter-INITIAL_FORMS": str(len(punkter))})
    for i, punkt in enumerate(punkter):
        data.update({f"punkter-{i}-id": punkt.pk, f"punkter-{i}-sammantrade": mote.pk})
    return data


def _fel(response):
    return str(response.context["adminform"].form.non_field_errors())


def test_secretary_builds_the_list_in_the_admin(sekr_client):
    mote = sammantrade()
    a, b = attesterat_dokument(titel="Första"), attesterat_dokument(titel="Andra")
    for tu in (a, b):
        assert sekr_client.post(_url(mote, "lagg-till/"), {"tjansteutlatande": tu.pk}).status_code == 302
    sekr_client.post(_url(mote, "lagg-till/"), {"titel": "Information från förvaltningen"})
    punkter = list(mote.punkter.order_by("nummer"))
    assert [p.rubrik for p in punkter] == ["Första", "Andra", "Information från förvaltningen"]

    page = sekr_client.get(_url(mote, "change/")).content.decode()
    assert "Första" in page and "Registrera beslut" in page and "Skapa mötespaket" in page

    sekr_client.post(_url(mote, f"punkt/{punkter[1].pk}/flytta/upp/"), {"sedd_ordning": _sedd_ordning(page)})
    assert [p.rubrik for p in mote.punkter.order_by("nummer")] == ["Andra", "Första", "Information från förvaltningen"]
    # Only ▲ and ▼ move an item; any other direction in the address moves nothing.
    page = sekr_client.get(_url(mote, "change/")).content.decode()
    felaktig = sekr_client.post(
        _url(mote, f"punkt/{punkter[1].pk}/flytta/sidled/"), {"sedd_ordning": _sedd_ordning(page)}
    )
    assert felaktig.status_code == 404
    assert [p.rubrik for p in mote.punkter.order_by("nummer")] == ["Andra", "Första", "Information från förvaltningen"]

    sekr_client.post(_url(mote, f"punkt/{punkter[0].pk}/ta-bort/"))
    assert list(mote.punkter.order_by("nummer").values_list("nummer", flat=True)) == [1, 2]
    a.refresh_from_db()
    assert a.status == "attesterad"


def test_a_draft_cannot_be_added_through_the_admin(sekr_client):
    mote = sammantrade()
    utkast = TjansteutlatandeFactory()
    response = sekr_client.post(_url(mote, "lagg-till/"), {"tjansteutlatande": utkast.pk}, follow=True)
    assert "kan inte sättas på listan: det är inte längre ett attesterat dokument" in response.content.decode()
    assert not Foredragningspunkt.objects.exists()


def test_an_information_item_with_too_long_a_title_is_told_so(sekr_client):
    mote = sammantrade()
    response = sekr_client.post(_url(mote, "lagg-till/"), {"titel": "R" * 301}, follow=True)
    page = response.content.decode()
    assert "Rubriken: Säkerställ att detta värde har som mest 300 tecken (den har 301)." in page
    assert "attesterat" not in page.split('class="messagelist"')[1].split("</ul>")[0]
    assert not Foredragningspunkt.objects.exists()
    # The rubrik typed is in the form again, once: a later visit shows the empty form.
    assert 'name="titel" value="' + "R" * 301 + '"' in page
    assert "R" * 301 not in sekr_client.get(_url(mote, "change/")).content.decode()


def _valt_dokument(page):
    select = page[page.index('name="tjansteutlatande"') :]
    return re.findall(r'<option value="(\d+)" selected>', select[: select.index("</select>")])


def test_a_refused_document_stays_chosen_on_the_meetings_page(sekr_client):
    from arenden import services

    tidigare, senare = sammantrade(), sammantrade(datum=datetime.date(2024, 6, 13))
    tu = attesterat_dokument(titel="Bordlagt")
    kollega = sekreterare("sekr2")
    punkt = services.satt_pa_foredragningslista(sammantrade=senare, tjansteutlatande=tu, user=kollega)
    services.bordlagg(punkt=punkt, user=kollega)

    response = sekr_client.post(_url(tidigare, "lagg-till/"), {"tjansteutlatande": tu.pk}, follow=True)

    page = response.content.decode()
    assert "bordlades på sammanträdet" in page
    assert not tidigare.punkter.exists()
    # The document chosen is still chosen, so the secretary sees which one was refused.
    assert _valt_dokument(page) == [str(tu.pk)]
    assert _valt_dokument(sekr_client.get(_url(tidigare, "change/")).content.decode()) == []


def test_a_document_and_a_rubrik_together_are_refused_with_both_kept(sekr_client):
    mote = sammantrade()
    tu = attesterat_dokument(titel="Med dokument")

    response = sekr_client.post(
        _url(mote, "lagg-till/"), {"tjansteutlatande": tu.pk, "titel": "Egen rubrik"}, follow=True
    )

    page = response.content.decode()
    assert "inte båda" in page
    assert not mote.punkter.exists()
    assert _valt_dokument(page) == [str(tu.pk)]
    assert 'name="titel" value="Egen rubrik"' in page


def test_a_decision_whose_extract_cannot_be_made_keeps_the_typed_text(sekr_client, settings):
    from arenden import pdf, services

    mote = sammantrade()
    punkt = services.satt_pa_foredragningslista(
        sammantrade=mote, tjansteutlatande=attesterat_dokument(), user=sekreterare("sekr2")
    )
    pdf.render_protokollsutdrag(punkt, sekreterare="X")  # a started worker: the limit is on rendering
    settings.PDF_RENDER_TIMEOUT = 1
    beslut = "Nämnden beslutar enligt förslaget. " + "Ord och ord igen. " * 40000

    response = sekr_client.post(_url(mote, f"punkt/{punkt.pk}/beslut/"), {"beslut": beslut})

    assert response.status_code == 200
    page = response.content.decode()
    assert "inte skapas inom tidsgränsen (1 s) och avbröts" in page
    assert "Nämnden beslutar enligt förslaget. Ord och ord igen." in page  # the text is kept
    punkt.refresh_from_db()
    assert not punkt.is_decided


def test_an_agenda_pdf_that_cannot_be_made_is_told_in_swedish(sekr_client, monkeypatch):
    from arenden import pdf

    mote = sammantrade()

    def renderer_gives_up(_mote):  # as the render process does when it overruns its limits
        raise pdf.PdfError("PDF:en kunde inte skapas inom tidsgränsen (30 s) och avbröts.")

    monkeypatch.setattr(pdf, "render_foredragningslista", renderer_gives_up)
    response = sekr_client.get(_url(mote, "foredragningslista.pdf"), follow=True)

    assert response.redirect_chain[-1][0].endswith(_url(mote, "change/"))
    assert "PDF:en kunde inte skapas inom tidsgränsen (30 s) och avbröts." in response.content.decode()


def test_a_new_time_that_clashes_with_another_meeting_of_the_day_is_refused(sekr_client):
    import datetime

    fm = sammantrade()
    fm.tid = datetime.time(13, 0)
    fm.save()
    em = Sammantrade.objects.create(namnd=fm.namnd, datum=fm.datum, tid=datetime.time(18, 0), plats="Rådhuset")
    sekr_client.post(_url(em, "lagg-till/"), {"titel": "Information"})  # now its date is read-only

    response = sekr_client.post(
        _url(em, "change/"),
        {
            "tid": "13:00",
            "plats": "Rådhuset",
            "punkter-TOTAL_FORMS": "1",
            "punkter-INITIAL_FORMS": "1",
            "punkter-0-id": em.punkter.get().pk,
            "punkter-0-sammantrade": em.pk,
        },
    )

    assert response.status_code == 200
    assert "Nämnden har redan ett sammanträde den dagen och tiden." in response.content.decode()
    em.refresh_from_db()
    assert em.tid == datetime.time(18, 0)


def test_a_new_date_is_refused_when_an_item_came_on_the_list_meanwhile(db):
    import datetime

    from django.forms import modelform_factory

    from arenden import services
    from arenden.admin.sammantraden import SammantradeForm

    mote = sammantrade()
    ny_dag = mote.datum + datetime.timedelta(days=7)
    # The form as the secretary sent it, made while the meeting had no items (date editable) ...
    Form = modelform_factory(Sammantrade, form=SammantradeForm, fields=["namnd", "datum", "tid", "plats"])
    form = Form(
        {"namnd": mote.namnd_id, "datum": ny_dag.isoformat(), "tid": mote.tid.strftime("%H:%M"), "plats": "Rådhuset"},
        instance=mote,
    )
    # ... and a colleague puts a document on the list before it is saved.
    tu = attesterat_dokument()
    services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekreterare())

    assert not form.is_valid()
    assert "Mötet har fått punkter på föredragningslistan medan du ändrade det" in str(form.errors)
    mote.refresh_from_db()
    tu.refresh_from_db()
    assert tu.sammantradesdatum == mote.datum != ny_dag


def test_meeting_pages_are_the_secretaries(client, db):
    mote = sammantrade()
    client.force_login(UserFactory(username="handl", is_staff=True))
    assert client.get(_url(mote, "change/")).status_code == 403
    assert client.post(_url(mote, "lagg-till/"), {"titel": "X"}).status_code == 403
    assert not Foredragningspunkt.objects.exists()


def test_a_secretary_prepares_only_their_own_namnds_meetings(client, db):
    from arenden import services
    from arenden.models import Namnd, Sammantradesexport
    from tests.factories import ForvaltningFactory

    egen = sammantrade()
    annan_namnd = Namnd.objects.create(namn="Farsta stadsdelsnämnd")
    annat = sammantrade(namnd=annan_namnd)
    farsta_sekr = sekreterare("farsta_sekr", forvaltning=ForvaltningFactory(diarieprefix="FARST", namnd=annan_namnd))
    punkt = services.satt_pa_foredragningslista(sammantrade=annat, titel="Farstas punkt", user=farsta_sekr)
    export = services.bestall_export(sammantrade=annat, typ="zip", user=farsta_sekr)
    client.force_login(sekreterare())

    lista = client.get("/admin/arenden/sammantrade/").content.decode()
    assert str(egen) in lista and str(annat) not in lista
    assert client.get(_url(egen, "change/")).status_code == 200
    assert client.get(_url(annat, "change/")).status_code == 404
    assert client.get(_url(annat, "history/")).status_code == 404
    version = annat.history.first().history_id
    assert client.get(_url(annat, f"history/{version}/")).status_code == 404
    assert client.post(_url(annat, "lagg-till/"), {"titel": "Inte min"}).status_code == 404
    assert client.post(_url(annat, f"punkt/{punkt.pk}/ta-bort/")).status_code == 404
    assert client.get(f"/admin/arenden/sammantrade/export/{export.pk}/").status_code == 404
    assert list(annat.punkter.values_list("titel", flat=True)) == ["Farstas punkt"]
    form = client.get("/admin/arenden/sammantrade/add/").context["adminform"].form
    assert list(form.fields["namnd"].queryset) == [egen.namnd]
    assert Sammantradesexport.objects.count() == 1


def test_a_secretary_is_not_offered_another_forvaltnings_document_addressed_to_their_namnd(client, db):
    from arenden.models import Namnd
    from tests.factories import ForvaltningFactory

    farsta = Namnd.objects.create(namn="Farsta stadsdelsnämnd")
    egen = attesterat_dokument(arende__forvaltning=ForvaltningFactory(diarieprefix="FARST", namnd=farsta))
    fel = attesterat_dokument(namnd=farsta)  # a Skärholmen case's document addressed to Farsta
    mote = sammantrade(namnd=farsta)
    client.force_login(sekreterare("farsta_sekr", forvaltning=egen.arende.forvaltning))
    form = client.get(_url(mote, "change/")).context["ny_punkt_form"]
    assert list(form.fields["tjansteutlatande"].queryset) == [egen]
    client.post(_url(mote, "lagg-till/"), {"tjansteutlatande": fel.pk})
    assert not mote.punkter.exists()


def test_a_shared_namnds_secretary_is_offered_what_every_forvaltning_addresses_to_it_and_nothing_else(client, db):
    # A nämnd that more than one förvaltning answers to receives each one's documents: its
    # meeting's list holds them all, and the secretary who prepares it is offered them all. Not a
    # draft, nor a document addressed to another nämnd, nor one already on this list.
    from arenden import services
    from arenden.models import Namnd
    from tests.factories import ArendeFactory, ForvaltningFactory

    mote = sammantrade()
    skhlm = ForvaltningFactory(diarieprefix="SKHLM", namnd=mote.namnd)
    grannen = ForvaltningFactory(diarieprefix="GRANN", namnd=mote.namnd)
    farsta = ForvaltningFactory(diarieprefix="FARST", namnd=Namnd.objects.create(namn="Farsta stadsdelsnämnd"))
    egen = attesterat_dokument(arende=ArendeFactory(forvaltning=skhlm))
    grannens = attesterat_dokument(arende=ArendeFactory(forvaltning=grannen))
    farstas = attesterat_dokument(arende=ArendeFactory(forvaltning=farsta))
    utkast = TjansteutlatandeFactory(arende=ArendeFactory(forvaltning=grannen))
    pa_listan = attesterat_dokument(arende=ArendeFactory(forvaltning=grannen))
    sekr = sekreterare(forvaltning=skhlm)
    services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=pa_listan, user=sekr)
    client.force_login(sekr)

    form = client.get(_url(mote, "change/")).context["ny_punkt_form"]
    assert list(form.fields["tjansteutlatande"].queryset) == [egen, grannens]
    for tu in (farstas, utkast):
        client.post(_url(mote, "lagg-till/"), {"tjansteutlatande": tu.pk})
    assert client.post(_url(mote, "lagg-till/"), {"tjansteutlatande": grannens.pk}).status_code == 302
    assert list(mote.punkter.order_by("nummer").values_list("tjansteutlatande", flat=True)) == [
        pa_listan.pk,
        grannens.pk,
    ]
    # Farsta's secretary prepares Farsta's meetings only: this one is not theirs to see.
    client.force_login(sekreterare("farsta_sekr", forvaltning=farsta))
    assert client.get(_url(mote, "change/")).status_code == 404


def test_a_shared_namnds_secretary_sees_another_forvaltnings_item_named_and_every_link_opens(client, db):
    # The meeting's list holds what every förvaltning answering to the nämnd sent; the document's
    # own page is its förvaltning's (a 404 for the other's secretary), so its item is named
    # there without a link, and each link the page gives leads somewhere the secretary may go.
    from arenden import services
    from tests.factories import ArendeFactory, ForvaltningFactory

    mote = sammantrade()
    skhlm = ForvaltningFactory(diarieprefix="SKHLM", namnd=mote.namnd)
    grannen = ForvaltningFactory(diarieprefix="GRANN", namnd=mote.namnd)
    egen = attesterat_dokument(titel="Skärholmens punkt", arende=ArendeFactory(forvaltning=skhlm))
    grannens = attesterat_dokument(titel="Grannens punkt", arende=ArendeFactory(forvaltning=grannen))
    sekr = sekreterare(forvaltning=skhlm)
    for tu in (egen, grannens):
        services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr)
    client.force_login(sekr)

    page = client.get(_url(mote, "change/")).content.decode()
    assert f'<a href="/admin/arenden/tjansteutlatande/{egen.pk}/change/">Skärholmens punkt</a>' in page
    assert "Grannens punkt" in page and grannens.arende.diarienummer in page
    assert f"/admin/arenden/tjansteutlatande/{grannens.pk}/" not in page
    lankar = set(re.findall(r'href="(/[^"#]*)"', page))
    assert lankar
    for lank in sorted(lankar):
        assert client.get(lank.replace("&amp;", "&")).status_code == 200, lank


def test_secretary_postpones_an_item_in_the_admin_after_confirming(sekr_client):
    from arenden import services

    mote = sammantrade()
    tu = attesterat_dokument(titel="Bordläggs")
    punkt = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekreterare("sekr2"))
    url = _url(mote, f"punkt/{punkt.pk}/bordlagg/")
    sida = sekr_client.get(_url(mote, "change/")).content.decode()
    assert f'href="{url}" aria-label="Bordlägg, punkt 1">Bordlägg</a>' in sida

    bekrafta = sekr_client.get(url)
    assert bekrafta.status_code == 200
    assert "Ärendet bordläggs." in bekrafta.content.decode()
    punkt.refresh_from_db()
    assert not punkt.bordlagd  # asking changes nothing

    response = sekr_client.post(url, follow=True)
    page = response.content.decode()
    assert "Punkt 1 är bordlagd." in page
    punkt.refresh_from_db()
    tu.refresh_from_db()
    assert punkt.bordlagd and tu.status == "attesterad"
    assert f"/protokollsutdrag/{punkt.pk}/" in page and url not in page
    assert "Bordlagd" in page and "Ärendet bordläggs." in page


@pytest.mark.parametrize("utfall", ["beslutad", "bordlagd"])
def test_an_item_already_dealt_with_offers_no_confirmation_page(sekr_client, utfall):
    # Posting is refused for an item decided or postponed; the page to confirm on was still
    # offered, with a form that could only fail. It leads back to the meeting, told why.
    from arenden import services

    mote = sammantrade()
    tu = attesterat_dokument(titel="Avgjord")
    sekr2 = sekreterare("sekr2")
    punkt = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr2)
    if utfall == "beslutad":
        services.registrera_beslut(punkt=punkt, beslut="Nämnden godkänner.", user=sekr2)
        vagran = "Beslut är redan registrerat för punkt 1."
    else:
        services.bordlagg(punkt=punkt, user=sekr2)
        vagran = "Punkt 1 är bordlagd och kan inte få något beslut på det här sammanträdet."
    punkt.refresh_from_db()
    sparat = (punkt.beslut, punkt.beslutad, punkt.bordlagd)

    for vad in ("beslut", "bordlagg"):
        url = _url(mote, f"punkt/{punkt.pk}/{vad}/")
        response = sekr_client.get(url, follow=True)
        assert response.redirect_chain == [(_url(mote, "change/"), 302)], vad
        assert vagran in " ".join(str(m) for m in response.context["messages"]), vad
        # The refused post leads back the same way and says the same.
        posted = sekr_client.post(url, {"beslut": "Något annat."}, follow=True)
        assert posted.redirect_chain == [(_url(mote, "change/"), 302)], vad
        assert vagran in " ".join(str(m) for m in posted.context["messages"]), vad
    punkt.refresh_from_db()
    assert (punkt.beslut, punkt.beslutad, punkt.bordlagd) == sparat


def _beslut_registrerade(punkt):
    return Foredragningspunkt.history.filter(id=punkt.pk, history_change_reason__startswith="Beslut registrerat")


@pytest.mark.parametrize(
    "nar, text",
    [
        ("innan sidan skickas", "Något annat."),
        ("innan sidan skickas", ""),
        ("medan beslutet registreras", "Något annat."),
    ],
)
def test_a_decision_posted_for_an_item_a_colleague_decided_meanwhile_leads_back(sekr_client, monkeypatch, nar, text):
    # The form opened in one tab, the item decided in another (or by a colleague): the post was
    # refused with the form shown again, as if editing the text could help. It leads back to the
    # meeting's page as opening the form now does, with the service's refusal, and the first
    # decision is the only one. An emptied text changes nothing: no text makes a second decision.
    from arenden import services

    mote = sammantrade()
    sekr2 = sekreterare("sekr2")
    punkt = services.satt_pa_foredragningslista(
        sammantrade=mote, tjansteutlatande=attesterat_dokument(titel="Avgjord"), user=sekr2
    )
    url = _url(mote, f"punkt/{punkt.pk}/beslut/")
    assert sekr_client.get(url).status_code == 200  # the form, before anyone decided

    registrera = services.registrera_beslut

    def kollegans_beslut():
        registrera(punkt=punkt, beslut="Nämnden godkänner.", user=sekr2)

    if nar == "innan sidan skickas":
        kollegans_beslut()
    else:  # after the view has looked at the item, before the service locks it

        def kollegan_hinner_forst(**kwargs):
            kollegans_beslut()
            return registrera(**kwargs)

        monkeypatch.setattr(services, "registrera_beslut", kollegan_hinner_forst)

    response = sekr_client.post(url, {"beslut": text}, follow=True)

    assert response.redirect_chain == [(_url(mote, "change/"), 302)]
    assert [str(m) for m in response.context["messages"]] == ["Beslut är redan registrerat för punkt 1."]
    punkt.refresh_from_db()
    assert punkt.beslut == "Nämnden godkänner."
    assert _beslut_registrerade(punkt).count() == 1


def test_a_decision_posted_for_an_item_taken_off_the_list_meanwhile_leads_back(sekr_client, monkeypatch):
    from arenden import services

    mote = sammantrade()
    sekr2 = sekreterare("sekr2")
    punkt = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=attesterat_dokument(), user=sekr2)
    registrera = services.registrera_beslut

    def kollegan_tar_bort_punkten(**kwargs):
        services.ta_bort_fran_foredragningslista(punkt=punkt, user=sekr2)
        return registrera(**kwargs)

    monkeypatch.setattr(services, "registrera_beslut", kollegan_tar_bort_punkten)
    response = sekr_client.post(_url(mote, f"punkt/{punkt.pk}/beslut/"), {"beslut": "Något."}, follow=True)

    assert response.redirect_chain == [(_url(mote, "change/"), 302)]
    assert [str(m) for m in response.context["messages"]] == [services.BORTTAGEN_PUNKT]
    assert not mote.punkter.exists()


def test_a_decision_posted_without_text_shows_the_form_again(sekr_client):
    # What the secretary can put right stays on the form: the item is still open for a decision.
    from arenden import services

    mote = sammantrade()
    punkt = services.satt_pa_foredragningslista(
        sammantrade=mote, tjansteutlatande=attesterat_dokument(), user=sekreterare("sekr2")
    )

    response = sekr_client.post(_url(mote, f"punkt/{punkt.pk}/beslut/"), {"beslut": "   "})

    assert response.status_code == 200
    assert "Rätta felen nedan." in response.content.decode()
    assert response.context["form"].errors == {"beslut": ["Detta fält måste fyllas i."]}
    punkt.refresh_from_db()
    assert not punkt.is_decided and not _beslut_registrerade(punkt).exists()


@pytest.mark.parametrize("data", [{"typ": "docx"}, {}])
def test_an_unknown_export_type_is_told_in_swedish(sekr_client, data):
    # Only a hand-made request can send it, but the page went back without a word.
    from arenden.models import Sammantradesexport

    mote = sammantrade()
    response = sekr_client.post(_url(mote, "export/"), data, follow=True)

    assert response.redirect_chain == [(_url(mote, "change/"), 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "Exporten är inte beställd: okänd typ av export. Välj Mötespaket (en PDF) eller Zip med en PDF per punkt."
    ]
    assert not Sammantradesexport.objects.exists()


def test_a_meeting_later_than_today_offers_no_decision(sekr_client):
    import datetime

    from django.utils import timezone

    from arenden import services

    mote = sammantrade(datum=timezone.localdate() + datetime.timedelta(days=1))
    tu = attesterat_dokument()
    punkt = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekreterare("sekr2"))
    beslut_url, bordlagg_url = (_url(mote, f"punkt/{punkt.pk}/{vad}/") for vad in ("beslut", "bordlagg"))

    page = sekr_client.get(_url(mote, "change/")).content.decode()
    assert beslut_url not in page and bordlagg_url not in page
    assert "Beslut registreras från sammanträdesdagen." in page
    response = sekr_client.get(beslut_url, follow=True)
    assert response.redirect_chain[-1][0].endswith(_url(mote, "change/"))
    assert "har inte hållits än" in response.content.decode()
    sekr_client.post(beslut_url, {"beslut": "Nämnden godkänner."})
    sekr_client.post(bordlagg_url)
    punkt.refresh_from_db()
    tu.refresh_from_db()
    assert not punkt.is_decided
    assert (tu.status, tu.arende.status) == ("pa_foredragningslista", "pa_foredragningslista")


def test_two_secretaries_on_one_meeting_each_save_only_their_own_change(client, db):
    mote = sammantrade()
    a = sekreterare("a")
    b = sekreterare("b", forvaltning=a.profil.avdelning.forvaltning)
    client.force_login(a)
    a_sida = _sida(client, mote)
    client.force_login(b)
    b_sida = _sida(client, mote)  # opened before A saves

    client.force_login(a)
    assert client.post(_url(mote, "change/"), {**a_sida, "plats": "Rådhuset, sal 3"}).status_code == 302
    client.force_login(b)
    assert client.post(_url(mote, "change/"), {**b_sida, "tid": "19:00"}).status_code == 302

    mote.refresh_from_db()
    assert (mote.plats, mote.tid) == ("Rådhuset, sal 3", datetime.time(19, 0))
    senaste = mote.history.first()
    assert (senaste.history_user, senaste.plats, senaste.tid) == (b, "Rådhuset, sal 3", datetime.time(19, 0))


def test_a_field_a_colleague_changed_after_the_page_was_opened_is_refused_with_the_input_kept(client, db):
    mote = sammantrade()
    a = sekreterare("a")
    b = sekreterare("b", forvaltning=a.profil.avdelning.forvaltning)
    client.force_login(b)
    b_sida = _sida(client, mote)
    client.force_login(a)
    client.post(_url(mote, "change/"), {**_sida(client, mote), "plats": "Rådhuset, sal 3", "tid": "17:30"})

    client.force_login(b)
    response = client.post(_url(mote, "change/"), {**b_sida, "plats": "Sätra bibliotek"})

    assert response.status_code == 200
    assert "Någon annan har ändrat mötet efter att du öppnade sidan (sparat nu: plats ”Rådhuset, sal 3”)" in _fel(
        response
    )
    form = response.context["adminform"].form
    assert form["plats"].value() == "Sätra bibliotek"  # what B typed stays
    assert form["tid"].value() == "17:30:00"  # the field B left alone shows what is stored
    mote.refresh_from_db()
    assert (mote.plats, mote.tid) == ("Rådhuset, sal 3", datetime.time(17, 30))
    # Saving the form again after reading the message replaces A's place, and only that, on purpose.
    assert client.post(_url(mote, "change/"), form.data).status_code == 302
    mote.refresh_from_db()
    assert (mote.plats, mote.tid) == ("Sätra bibliotek", datetime.time(17, 30))


def test_a_new_date_from_a_page_shown_before_the_list_had_items_is_refused_not_dropped(client, db):
    mote = sammantrade()
    sekr = sekreterare()
    client.force_login(sekr)
    sida = _sida(client, mote)  # no items yet: nämnd and date are in the form
    assert "datum" in sida
    from arenden import services

    services.satt_pa_foredragningslista(sammantrade=mote, titel="Information", user=sekreterare("kollega"))
    sida = {**sida, "punkter-TOTAL_FORMS": "1", "punkter-INITIAL_FORMS": "1"}
    sida.update({"punkter-0-id": mote.punkter.get().pk, "punkter-0-sammantrade": mote.pk})

    response = client.post(_url(mote, "change/"), {**sida, "datum": "2024-06-13"})

    assert response.status_code == 200
    assert "Mötet har fått punkter på föredragningslistan medan du ändrade det" in _fel(response)
    assert response.context["adminform"].form["datum"].value() == "2024-06-13"
    mote.refresh_from_db()
    assert mote.datum == datetime.date(2024, 5, 23)
    # From the same page, a new place with the date left as shown is saved.
    assert client.post(_url(mote, "change/"), {**sida, "plats": "Rådhuset"}).status_code == 302
    mote.refresh_from_db()
    assert (mote.datum, mote.plats) == (datetime.date(2024, 5, 23), "Rådhuset")


def test_two_secretaries_moving_items_from_the_same_page_do_not_undo_each_other(client, db):
    mote = sammantrade()
    a = sekreterare("a")
    b = sekreterare("b", forvaltning=a.profil.avdelning.forvaltning)
    from arenden import services

    x, y, z = (services.satt_pa_foredragningslista(sammantrade=mote, titel=t, user=a) for t in "XYZ")
    client.force_login(a)
    sedd = _sedd_ordning(client.get(_url(mote, "change/")).content.decode())
    assert sedd == [str(x.pk), str(y.pk), str(z.pk)]  # both pages show X, Y, Z

    client.post(_url(mote, f"punkt/{z.pk}/flytta/upp/"), {"sedd_ordning": sedd})
    client.force_login(b)
    response = client.post(_url(mote, f"punkt/{y.pk}/flytta/upp/"), {"sedd_ordning": sedd}, follow=True)

    page = response.content.decode()
    assert "Någon annan har ändrat föredragningslistan medan du arbetade." in page
    assert list(mote.punkter.order_by("nummer").values_list("titel", flat=True)) == ["X", "Z", "Y"]
    assert _sedd_ordning(page) == [str(x.pk), str(z.pk), str(y.pk)]  # B sees the current order


def test_a_second_click_on_an_item_already_removed_is_told_in_swedish(sekr_client):
    # The button pressed twice (or on a page a colleague has changed since) reached an item that
    # is gone: the secretary got "Sidan finns inte" instead of being told what happened.
    mote = sammantrade()
    sekr_client.post(_url(mote, "lagg-till/"), {"titel": "Information från förvaltningen"}, follow=True)
    punkt = mote.punkter.get()
    sekr_client.post(_url(mote, f"punkt/{punkt.pk}/ta-bort/"), follow=True)
    assert not mote.punkter.exists()

    # The meeting's page they land on is loaded anew: it shows the list as it is, so it does not
    # ask them to reload it (as it did, on the very page it had just loaded).
    for rest, method in (
        ("ta-bort/", "post"),
        ("flytta/upp/", "post"),
        ("beslut/", "get"),
        ("beslut/", "post"),
        ("bordlagg/", "get"),
        ("bordlagg/", "post"),
    ):
        response = getattr(sekr_client, method)(_url(mote, f"punkt/{punkt.pk}/{rest}"), follow=True)
        assert response.status_code == 200, rest
        assert response.redirect_chain[-1][0].endswith(_url(mote, "change/")), rest
        assert [str(m) for m in response.context["messages"]] == [
            "Punkten har tagits bort från föredragningslistan."
        ], rest
        assert "Ladda om" not in response.content.decode(), rest


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_meeting_a_colleague_adds_between_the_check_and_the_save_is_refused_with_the_input_kept(
    client, roller, monkeypatch
):
    """Two secretaries adding the nämnd's same meeting at once: the form found the day and time
    free, the colleague's was stored before the write, and the database's refusal was an error
    page that took the typed place with it."""
    from arenden.admin.sammantraden import SammantradeAdmin
    from tests.arenden.test_admin_versioner import en_annan_sparar, forst

    sekr = sekreterare()
    namnd = sekr.profil.avdelning.forvaltning.namnd
    client.force_login(sekr)

    def kollegan():
        Sammantrade.objects.create(namnd=namnd, datum=datetime.date(2024, 9, 12), tid=datetime.time(18), plats="Salen")

    monkeypatch.setattr(
        SammantradeAdmin, "save_model", forst(lambda: en_annan_sparar(kollegan), SammantradeAdmin.save_model)
    )
    response = client.post(
        "/admin/arenden/sammantrade/add/",
        {
            "namnd": namnd.pk,
            "datum": "2024-09-12",
            "tid": "18:00",
            "plats": "Skärholmens medborgarhus",
            "punkter-TOTAL_FORMS": "0",
            "punkter-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert list(Sammantrade.objects.values_list("plats", flat=True)) == ["Salen"]
    page = response.content.decode()
    assert "Nämnden har redan ett sammanträde den dagen och tiden." in page
    assert response.context["adminform"].form["plats"].value() == "Skärholmens medborgarhus"


def _ta_bort_motet(client, mote, hur):
    """Delete the meeting from its own page ("sidan") or with the list's action ("listan")."""
    if hur == "sidan":
        return client.post(_url(mote, "delete/"), {"post": "yes"})
    return client.post(
        "/admin/arenden/sammantrade/",
        {"action": "delete_selected", "_selected_action": [mote.pk], "post": "yes"},
    )


@pytest.mark.parametrize("hur", ["sidan", "listan"])
def test_a_deleted_meeting_leaves_no_export_file_behind(client, db, django_capture_on_commit_callbacks, hur):
    """A cancelled meeting: its items are taken off and it is deleted, from its own page or
    from the list's action. Its exports' rows go with it; their files went nowhere and stayed
    in the archive, named by no row, for ever (and in every backup)."""
    from arenden import services

    sekr = sekreterare()
    client.force_login(sekr)
    mote = sammantrade()
    punkt = services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=attesterat_dokument(), user=sekr)
    export = services.bestall_export(sammantrade=mote, typ="zip", user=sekr)
    services.kor_export(export_id=export.pk)
    export.refresh_from_db()
    fil, storage = export.fil.name, export.fil.storage
    assert storage.exists(fil)
    services.ta_bort_fran_foredragningslista(punkt=punkt, user=sekr)

    with django_capture_on_commit_callbacks(execute=True):
        response = _ta_bort_motet(client, mote, hur)

    assert response.status_code == 302
    assert not Sammantrade.objects.filter(pk=mote.pk).exists()
    assert not storage.exists(fil)


@pytest.mark.parametrize("hur", ["sidan", "listan"])
def test_a_meeting_with_items_is_not_deleted_and_the_page_names_them(client, db, hur):
    """A meeting with items is kept, and the secretary is told why: the list's action said that
    their account had no right to delete meetings at all, and the meeting's page opened while its
    list was empty (a colleague put an item on it since) led to "Du har inte behörighet" (403)."""
    from arenden import services

    sekr = sekreterare()
    client.force_login(sekr)
    mote = sammantrade()
    services.satt_pa_foredragningslista(
        sammantrade=mote, tjansteutlatande=attesterat_dokument(titel="Öppna drogscener"), user=sekr
    )

    response = _ta_bort_motet(client, mote, hur)

    assert response.status_code == 200
    page = response.content.decode()
    assert "behörighet" not in page
    assert "punkt 1 på föredragningslistan: Öppna drogscener" in page
    assert Sammantrade.objects.filter(pk=mote.pk).exists()
    # The meeting's own page offers no deletion while its list has items.
    assert _url(mote, "delete/") not in client.get(_url(mote, "change/")).content.decode()


def test_an_empty_meetings_page_offers_its_deletion(sekr_client):
    mote = sammantrade()
    assert _url(mote, "delete/") in sekr_client.get(_url(mote, "change/")).content.decode()


@pytest.mark.parametrize("hur", ["tjansten", "sidan"])
def test_a_deleted_meeting_names_who_deleted_it_in_its_history(client, db, hur):
    """A cancelled meeting's deletion is in its history with the secretary who deleted it and
    why, also when the service is called outside a request (a script, a job), where no
    middleware knows the user."""
    from arenden import services

    sekr = sekreterare()
    mote = sammantrade()
    if hur == "tjansten":
        services.ta_bort_sammantrade(sammantrade=mote, user=sekr)
    else:
        client.force_login(sekr)
        assert client.post(_url(mote, "delete/"), {"post": "yes"}).status_code == 302

    rad = Sammantrade.history.filter(id=mote.pk).order_by("history_id").last()
    assert (rad.history_type, rad.history_user, rad.history_change_reason) == ("-", sekr, "Borttaget")


def _listans_rader(page):
    """The rows of the meeting's history page's table of its list's changes, as text."""
    tabell = page[page.index('id="listans-historik"') :]
    tabell = tabell[: tabell.index("</table>")]
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", rad)).strip()
        for rad in re.findall(r"<tr>(.*?)</tr>", tabell, flags=re.S)[1:]
    ]


def test_a_meetings_history_shows_its_lists_changes_with_who_and_when(client, db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from arenden import services
    from arenden.models import Foredragningspunkt

    mote = sammantrade()
    sekr, kollega = sekreterare(), sekreterare("kollega")
    kollega.first_name, kollega.last_name = "Karin", "Kollega"
    kollega.save()
    beslutas, bordlaggs, tas_bort = (attesterat_dokument(titel=t) for t in ("Beslutas", "Bordläggs", "Tas bort"))
    for tu in (beslutas, bordlaggs, tas_bort):
        services.satt_pa_foredragningslista(sammantrade=mote, tjansteutlatande=tu, user=sekr)
    services.satt_pa_foredragningslista(sammantrade=mote, titel="Information", user=kollega)
    services.ta_bort_fran_foredragningslista(punkt=mote.punkter.get(tjansteutlatande=tas_bort), user=kollega)
    ids = list(mote.punkter.order_by("nummer").values_list("pk", flat=True))
    ny = [ids[2], ids[0], ids[1]]
    services.ordna_foredragningslista(sammantrade=mote, punkt_ids=ny, sedd_ordning=ids, user=sekr)
    services.registrera_beslut(punkt=mote.punkter.get(tjansteutlatande=beslutas), beslut="Godkänt.", user=kollega)
    services.bordlagg(punkt=mote.punkter.get(tjansteutlatande=bordlaggs), user=sekr)
    client.force_login(sekr)
    url = _url(mote, "history/")

    page = client.get(url).content.decode()
    rader = _listans_rader(page)
    tid = r"\d{4}-\d\d-\d\d \d\d:\d\d"
    assert all(re.match(tid, rad) for rad in rader)
    rader = [re.sub(tid + " ", "", rad) for rad in rader]
    kalle = services.display_name(kollega)
    sekr_namn = services.display_name(sekr)
    forvantat = [
        f"3. Bordläggs {bordlaggs.arende.diarienummer} Bordlagd {sekr_namn}",
        f"2. Beslutas {beslutas.arende.diarienummer} Beslut registrerat {kalle}",
        f"3. Bordläggs {bordlaggs.arende.diarienummer} Flyttad från punkt 2 {sekr_namn}",
        f"2. Beslutas {beslutas.arende.diarienummer} Flyttad från punkt 1 {sekr_namn}",
        f"1. Information Flyttad från punkt 3 {sekr_namn}",
        f"3. Information Flyttad från punkt 4 {kalle}",
        f"3. Tas bort {tas_bort.arende.diarienummer} Borttagen från listan {kalle}",
        f"4. Information Tillagd på listan {kalle}",
        f"3. Tas bort {tas_bort.arende.diarienummer} Tillagd på listan {sekr_namn}",
        f"2. Bordläggs {bordlaggs.arende.diarienummer} Tillagd på listan {sekr_namn}",
        f"1. Beslutas {beslutas.arende.diarienummer} Tillagd på listan {sekr_namn}",
    ]
    assert [rad[: len(f)] for rad, f in zip(rader, forvantat, strict=True)] == forvantat
    assert "Beslut: Godkänt." in rader[1]
    assert "11 händelser på föredragningslistan" in page

    # Paginated as the other history pages, the same queries for a page of many rows as of few.
    client.get(url)
    with CaptureQueriesContext(connection) as fa:
        client.get(url)
    info = mote.punkter.get(titel="Information")
    for i in range(50):
        info.titel = f"Information {i}"
        services.spara_med_orsak(info, user=kollega if i % 2 else sekr, reason="Rubriken ändrad")
    with CaptureQueriesContext(connection) as manga:
        forsta = client.get(url).content.decode()
    assert len(manga) == len(fa)
    assert len(_listans_rader(forsta)) == 50 and "61 händelser på föredragningslistan" in forsta
    andra = client.get(url + "?listan=2").content.decode()
    assert [re.sub(tid + " ", "", r) for r in _listans_rader(andra)] == rader
    assert Foredragningspunkt.history.filter(sammantrade_id=mote.pk).count() == 61
    # With both tables past a page, each one's page links keep the page the other shows.
    for i in range(50):
        mote.plats = f"Sal {i}"
        services.spara_med_orsak(mote, user=sekr, reason="Lokalen ändrad")
    bada = client.get(url + "?p=2&listan=2").content.decode()
    assert 'href="?listan=2&amp;p=1"' in bada  # the meeting's own table, the list's page kept
    assert 'href="?p=2&amp;listan=1"' in bada  # the list's table, the meeting's page kept
    # Who made a change links to their page where the reader may open it, as on every history page.
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    assert f'<a href="/admin/auth/user/{kollega.pk}/change/">{kalle}</a>' in client.get(url).content.decode()


@pytest.mark.parametrize("skrivet", ["18:30", "18:30:00"])
def test_the_meetings_time_shows_as_hours_and_minutes_and_is_saved_as_typed(sekr_client, skrivet):
    # The admin's time widget writes 18:00, and the page showed the stored time as 18:00:00.
    mote = sammantrade()
    page = sekr_client.get(_url(mote, "change/")).content.decode()
    assert re.search(r'<input type="text" name="tid" value="18:00"', page), re.findall(r"<input[^>]*tid[^>]*>", page)

    data = _sida(sekr_client, mote)
    data["initial-tid"] = re.search(r'name="initial-tid" value="([^"]*)"', page).group(1)  # the page's hidden copy
    data["tid"] = skrivet
    response = sekr_client.post(_url(mote, "change/"), data)
    assert response.status_code == 302, _fel(response)
    mote.refresh_from_db()
    assert mote.tid == datetime.time(18, 30)


def test_a_meeting_without_items_says_its_list_is_empty_and_how_items_are_added(sekr_client):
    # The list showed its column headings over an empty blue bar, and nothing said it was empty.
    mote = sammantrade()
    page = sekr_client.get(_url(mote, "change/")).content.decode()
    listan = page[page.index('id="punkter-group"') : page.index('class="submit-row"')]
    assert "<table" not in listan
    assert re.search(
        r"<p>Föredragningslistan är tom\. Lägg till attesterade tjänsteutlåtanden och informationspunkter "
        r"under ”Lägg till på föredragningslistan” nedan\.</p>",
        listan,
    ), listan
    # The page is still saved as a whole, the list's (empty) formset with it.
    data = _sida(sekr_client, mote)
    data["plats"] = "Skärholmens medborgarhus"
    assert sekr_client.post(_url(mote, "change/"), data).status_code == 302
    mote.refresh_from_db()
    assert mote.plats == "Skärholmens medborgarhus"

    sekr_client.post(_url(mote, "lagg-till/"), {"titel": "Information från förvaltningen"})
    page = sekr_client.get(_url(mote, "change/")).content.decode()
    listan = page[page.index('id="punkter-group"') : page.index('class="submit-row"')]
    assert "<table" in listan and "Information från förvaltningen" in listan and "är tom" not in listan
