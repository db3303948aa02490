"""The attest chain: separation of duties, content bound to the attest, voiding on edit,
the concurrency of two attests, lost updates refused, and the state rules."""

import datetime
import threading

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from arenden import services
from arenden.constants import ArendeStatus, Roll
from arenden.constants import TjansteutlatandeStatus as S
from arenden.models import Arende, Attestering, Bilaga, MallSektion, Profil, Tjansteutlatande, Undertecknare
from arenden.snapshot import build_snapshot, snapshot_hash
from arenden.tidslinje import tidslinje
from atgarder.models import Atgard
from tests.arenden.world import build_world, person
from tests.factories import ArendeFactory, AtgardFactory, MallFactory, pdf_bytes


@pytest.fixture
def world(db):
    return build_world()


# --- roles ------------------------------------------------------------------------------


def test_migration_creates_the_four_roles_with_the_attest_permission_only_for_attestants(db):
    roller = {
        g.name: g
        for g in Group.objects.filter(
            name__in=[Roll.HANDLAGGARE, Roll.ATTESTANT, Roll.NAMNDSEKRETERARE, Roll.REGISTRATOR]
        )
    }
    assert len(roller) == 4
    attest = Permission.objects.get(codename="attestera_tjansteutlatande")
    assert [g.name for g in attest.group_set.all()] == [Roll.ATTESTANT]
    assert roller[Roll.HANDLAGGARE].permissions.filter(codename="change_tjansteutlatande").exists()
    assert roller[Roll.REGISTRATOR].permissions.filter(codename="add_arende").exists()
    assert not roller[Roll.ATTESTANT].permissions.filter(codename="change_sektion").exists()


def test_demo_users_have_their_roles_and_see_the_demo_case(demo):
    from django.contrib.auth import get_user_model

    users = {u.username: u for u in get_user_model().objects.all()}
    assert set(users["anette"].groups.values_list("name", flat=True)) == {Roll.HANDLAGGARE}
    assert set(users["lisa"].groups.values_list("name", flat=True)) == {Roll.ATTESTANT}
    for username in ("anette", "christoffer", "lisa", "sekreterare", "admin"):
        assert Arende.objects.for_user(users[username]).filter(pk=demo.arende_id).exists(), username
    assert demo.status == S.ATTESTERAD
    assert demo.innehall_hash == snapshot_hash(demo.innehall)


def test_scope_by_role(world):
    tu = world.dokument()
    synliga = {
        roll: Tjansteutlatande.objects.for_user(getattr(world, roll)).filter(pk=tu.pk).exists()
        for roll in (
            "officer",
            "kollega",
            "chef1",
            "chef2",
            "sekreterare",
            "registrator",
            "outsider",
            "frammande",
            "superuser",
        )
    }
    assert synliga == {
        "officer": True,
        "kollega": False,
        "chef1": True,
        "chef2": True,
        "sekreterare": True,
        "registrator": True,
        "outsider": False,
        "frammande": False,
        "superuser": True,
    }


def test_a_handlaggare_sees_the_cases_of_their_avdelning(world):
    tu = world.dokument()
    granne = person("granne", Roll.HANDLAGGARE, avdelning=world.avdelning)
    assert Arende.objects.for_user(granne).filter(pk=tu.arende_id).exists()


# --- separation of duties -----------------------------------------------------------------


def test_handlaggare_cannot_attest_own_document_even_as_a_chef(world):
    world.officer.groups.add(Group.objects.get(name=Roll.ATTESTANT))
    tu = world.dokument()
    with pytest.raises(services.WorkflowError, match="handläggare"):
        services.skicka_for_attest(tjansteutlatande=tu, user=world.superuser, attestanter=[world.officer])
    services.skicka_for_attest(tjansteutlatande=tu, user=world.superuser, attestanter=[world.chef1])
    with pytest.raises(services.WorkflowError, match="handläggare för dokumentet"):
        services.attestera(tjansteutlatande=tu, user=world.officer)
    assert not tu.can_be_attested_by(world.officer)
    assert not Attestering.objects.filter(attesterad__isnull=False).exists()


def _skriver_ocksa(chef):
    """A chef who also writes: the admin and the officers' editor let them save sections."""
    chef.groups.add(Group.objects.get(name=Roll.HANDLAGGARE))


def _spara(sektion, user, text):
    sektion.refresh_from_db()
    services.spara_sektion(sektion=sektion, text=text, expected_version=sektion.version, user=user)


def test_a_chef_who_wrote_a_section_is_left_out_of_the_default_chain(world):
    _skriver_ocksa(world.chef1)
    _skriver_ocksa(world.chef2)
    arende = ArendeFactory(forvaltning=world.forvaltning, handlaggare=world.officer, avdelning=world.avdelning)
    # The förvaltningschef starts the document from the mall: empty sections are not writing.
    tu = services.skapa_tjansteutlatande(arende=arende, mall=MallFactory(), user=world.chef2, titel="Parklekar")
    sektioner = list(tu.sektioner.order_by("mall_sektion__ordning"))
    for sektion in sektioner:
        _spara(sektion, world.officer, "<p>Handläggarens text.</p>")
    _spara(sektioner[1], world.chef1, "<p>Avdelningschefens stycke.</p>")
    assert services.standard_attestanter(tu) == [world.chef2]
    with CaptureQueriesContext(connection) as fragor:
        services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    assert [a.attestant for a in tu.current_attesteringar] == [world.chef2]
    # Who wrote is read once for the whole send, however many wrote.
    assert len([f for f in fragor if '"arenden_historicalsektion"' in f["sql"]]) == 1


def test_a_chef_who_wrote_a_section_in_the_editor_cannot_be_named_in_the_chain(world, client):
    _skriver_ocksa(world.chef1)
    tu = world.dokument()
    sektion = tu.sektioner.first()
    client.force_login(world.chef1)
    url = reverse("arenden:spara_sektion", args=[tu.pk, sektion.pk])
    body = {"text": "<p>Avdelningschefens stycke.</p>", "version": sektion.version}
    assert client.post(url, body, content_type="application/json").status_code == 200
    with pytest.raises(services.WorkflowError) as fel:
        services.skicka_for_attest(tjansteutlatande=tu, user=world.officer, attestanter=[world.chef1, world.chef2])
    assert str(fel.value) == "Chef1 Testsson har skrivit text i dokumentet och kan inte attestera det."
    tu.refresh_from_db()
    assert tu.status == S.UTKAST and not tu.attesteringar.exists()


def test_a_section_author_left_in_a_chain_can_neither_attest_nor_return_it(world, monkeypatch):
    _skriver_ocksa(world.chef1)
    tu = world.dokument()
    _spara(tu.sektioner.first(), world.chef1, "<p>Avdelningschefens stycke.</p>")
    # A chain stored without the sending's check, as one sent before it covered every author.
    monkeypatch.setattr(services, "_kontrollera_kedja", lambda *args, **kwargs: None)
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer, attestanter=[world.chef1, world.chef2])
    assert not tu.can_be_attested_by(world.chef1)
    with pytest.raises(services.WorkflowError) as fel:
        services.attestera(tjansteutlatande=tu, user=world.chef1)
    assert str(fel.value) == "Du har skrivit text i dokumentet och kan inte attestera det själv."
    with pytest.raises(services.WorkflowError) as fel:
        services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="Förtydliga.")
    assert str(fel.value) == "Du har skrivit text i dokumentet och kan inte återremittera det själv."
    tu.refresh_from_db()
    assert tu.status == S.TILL_ATTEST and tu.aterremiss_kommentar == ""
    assert not tu.attesteringar.filter(attesterad__isnull=False).exists()


# What the nämnd reads besides the sections: a bilaga held as text or as a file, and an åtgärd
# the document reports on (its text prints in the section that lists the åtgärder).
SKRIVET_INNEHALL = {
    "bilaga som text": lambda tu, user: services.spara_dokumentdel(
        tjansteutlatande=tu,
        obj=Bilaga(ordning=2, titel="Avdelningschefens redogörelse", text="Allt går bra i Sätra centrum."),
        user=user,
    ),
    "bilaga som fil": lambda tu, user: services.spara_dokumentdel(
        tjansteutlatande=tu,
        obj=Bilaga(ordning=2, titel="Karta", fil=SimpleUploadedFile("karta.pdf", pdf_bytes())),
        user=user,
    ),
    "åtgärd": lambda tu, user: services.lagg_till_atgard(
        tjansteutlatande=tu, atgard=AtgardFactory(titel="Trygghetsvandringar i Sätra"), user=user
    ),
    # Striking the handläggare's bilaga is writing, as striking a paragraph of a section is.
    "bilaga borttagen": lambda tu, user: services.spara_dokumentdel(
        tjansteutlatande=tu,
        obj=services.spara_dokumentdel(
            tjansteutlatande=tu, obj=Bilaga(ordning=2, titel="Minnesanteckning", text="Utkast."), user=tu.handlaggare
        ),
        user=user,
        ta_bort=True,
    ),
}


def _chef1_ar_forfattare_och_utanfor_kedjan(world, tu):
    """chef1 wrote in `tu`: left out of its default chain, refused when named in it."""
    assert world.chef1.pk in tu.forfattar_ids()
    assert services.standard_attestanter(tu) == [world.chef2]
    with pytest.raises(services.WorkflowError) as fel:
        services.skicka_for_attest(tjansteutlatande=tu, user=world.officer, attestanter=[world.chef1, world.chef2])
    assert str(fel.value) == "Chef1 Testsson har skrivit text i dokumentet och kan inte attestera det."
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    assert [a.attestant for a in tu.current_attesteringar] == [world.chef2]


@pytest.mark.parametrize("skriv", SKRIVET_INNEHALL.values(), ids=SKRIVET_INNEHALL.keys())
def test_a_chef_who_wrote_a_bilaga_or_chose_an_atgard_is_kept_out_of_the_chain(world, skriv):
    _skriver_ocksa(world.chef1)
    tu = world.dokument()
    skriv(tu, world.chef1)
    _chef1_ar_forfattare_och_utanfor_kedjan(world, tu)
    assert not tu.can_be_attested_by(world.chef1)


@pytest.mark.parametrize("skriv", SKRIVET_INNEHALL.values(), ids=SKRIVET_INNEHALL.keys())
def test_a_bilaga_or_atgard_author_left_in_a_stored_chain_can_neither_attest_nor_return_it(world, skriv):
    _skriver_ocksa(world.chef1)
    tu = world.dokument()
    skriv(tu, world.chef1)
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer, attestanter=[world.chef2])
    # A chain stored before the sending counted these authors: it waits at the one who wrote.
    tu.attesteringar.filter(attestant=world.chef2).update(
        attestant=world.chef1, namn="Chef1 Testsson", befattning="Avdelningschef"
    )
    with pytest.raises(services.WorkflowError) as fel:
        services.attestera(tjansteutlatande=tu, user=world.chef1)
    assert str(fel.value) == "Du har skrivit text i dokumentet och kan inte attestera det själv."
    with pytest.raises(services.WorkflowError) as fel:
        services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="Förtydliga.")
    assert str(fel.value) == "Du har skrivit text i dokumentet och kan inte återremittera det själv."
    tu.refresh_from_db()
    assert tu.status == S.TILL_ATTEST and tu.aterremiss_kommentar == ""
    assert not tu.attesteringar.filter(attesterad__isnull=False).exists()


def test_signing_or_setting_the_header_is_not_writing_the_document_but_choosing_its_atgarder_is(world):
    _skriver_ocksa(world.chef1)
    _skriver_ocksa(world.chef2)
    tu = world.dokument()
    # The avdelningschef adds their own signature and moves the document to another meeting.
    services.spara_dokumentdel(
        tjansteutlatande=tu,
        obj=Undertecknare(ordning=1, anvandare=world.chef1, namn="Chef1 Testsson", befattning="Avdelningschef"),
        user=world.chef1,
    )
    tu.refresh_from_db()
    services.uppdatera_tjansteutlatande(
        tjansteutlatande=tu,
        data={"sammantradesdatum": timezone.localdate() + datetime.timedelta(days=30)},
        expected_version=tu.version,
        user=world.chef1,
    )
    # The förvaltningschef adds an åtgärd: what the document reports is theirs too.
    SKRIVET_INNEHALL["åtgärd"](tu, world.chef2)
    assert world.chef1.pk not in tu.forfattar_ids()
    assert services.standard_attestanter(tu) == [world.chef1]


def _andra_i_registret(client, atgard, **andringar):
    """Save the åtgärd's admin page (the register) with `andringar` over what it shows."""
    from tests.arenden.test_admin_versioner import _sidan

    url = f"/admin/atgarder/atgard/{atgard.pk}/change/"
    svar = client.post(url, {**_sidan(client, url, "atgard_form"), **andringar})
    assert svar.status_code == 302, svar.content.decode()[:2000]


def test_a_chef_who_edited_the_printed_text_of_a_documents_atgard_in_the_register_cannot_attest_it(world, client):
    # The åtgärd's text prints in the document as the förvaltning's answer: whoever wrote it there
    # wrote what the nämnd reads, in the editor or in the register.
    _skriver_ocksa(world.chef1)
    tu = world.dokument()
    atgard = AtgardFactory(titel="Trygghetsvandringar", beskrivning="Handläggarens text.")
    services.lagg_till_atgard(tjansteutlatande=tu, atgard=atgard, user=world.officer)
    client.force_login(world.chef1)
    _andra_i_registret(client, atgard, beskrivning="Avdelningschefens text.")
    atgard.refresh_from_db()
    assert atgard.history.first().history_user == world.chef1

    assert Tjansteutlatande.objects.with_forfattare_flags(world.chef1).get(pk=tu.pk).user_wrote_text
    _chef1_ar_forfattare_och_utanfor_kedjan(world, tu)
    assert "Avdelningschefens text." in str(tu.innehall)


def test_a_chef_who_changed_only_what_a_document_does_not_print_of_its_atgard_may_attest_it(world, client):
    from atgarder.models import Drogscen

    _skriver_ocksa(world.chef1)
    tu = world.dokument()
    atgard = AtgardFactory(titel="Trygghetsvandringar", beskrivning="Handläggarens text.")
    services.lagg_till_atgard(tjansteutlatande=tu, atgard=atgard, user=world.officer)
    # The same chef's text in an åtgärd the document does not list is not in it either.
    annan = AtgardFactory(titel="Platsaktiveringar", beskrivning="Handläggarens text.")
    sen = Drogscen.objects.create(namn="Sätra centrum", omrade="Sätra")
    client.force_login(world.chef1)
    _andra_i_registret(client, atgard, period_start="2024-01-01", drogscener=[str(sen.pk)])
    _andra_i_registret(client, annan, beskrivning="Avdelningschefens text.")
    assert atgard.history.filter(history_user=world.chef1).exists()

    assert world.chef1.pk not in tu.forfattar_ids()
    assert not Tjansteutlatande.objects.with_forfattare_flags(world.chef1).get(pk=tu.pk).user_wrote_text
    assert services.standard_attestanter(tu) == [world.chef1, world.chef2]


def _ge_chefen_arendet(world, tu):
    """The registrator gives the document's case to the avdelningschef, who also writes."""
    _skriver_ocksa(world.chef1)
    arende = tu.arende
    arende.handlaggare = world.chef1
    services.andra_arende(arende=arende, falt=["handlaggare"], user=world.registrator)
    tu.refresh_from_db()


def test_a_chef_given_the_case_while_it_waits_for_their_attest_can_take_it_back_but_not_attest_it(world):
    tu = world.skickat()
    _ge_chefen_arendet(world, tu)
    assert tu.handlaggare == world.officer  # sent: it keeps the handläggare it names
    assert tu.kan_dras_tillbaka_av(world.chef1)  # they answer for it now

    assert not tu.can_be_attested_by(world.chef1)
    with pytest.raises(services.WorkflowError) as fel:
        services.attestera(tjansteutlatande=tu, user=world.chef1)
    assert str(fel.value) == "Du är handläggare för dokumentet och kan inte attestera det själv."
    with pytest.raises(services.WorkflowError) as fel:
        services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="Förtydliga.")
    assert str(fel.value) == "Du är handläggare för dokumentet och kan inte återremittera det själv."
    tu.refresh_from_db()
    assert tu.status == S.TILL_ATTEST and tu.aterremiss_kommentar == ""
    assert not tu.attesteringar.filter(attesterad__isnull=False).exists()


def test_the_cases_handlaggare_is_left_out_of_the_chain_when_its_document_is_sent_again(world):
    tu = world.attesterat()
    _ge_chefen_arendet(world, tu)
    # An edit of the attested document makes it a draft that still names the former handläggare.
    services.uppdatera_tjansteutlatande(
        tjansteutlatande=tu, data={"titel": "Parklekar"}, expected_version=tu.version, user=world.officer
    )
    tu.refresh_from_db()
    assert (tu.status, tu.handlaggare, tu.arende.handlaggare) == (S.UTKAST, world.officer, world.chef1)

    assert services.standard_attestanter(tu) == [world.chef2]
    with pytest.raises(services.WorkflowError) as fel:
        services.skicka_for_attest(tjansteutlatande=tu, user=world.officer, attestanter=[world.chef1, world.chef2])
    assert str(fel.value) == "Chef1 Testsson är handläggare för dokumentet och kan inte attestera det."
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    assert [a.attestant for a in tu.current_attesteringar] == [world.chef2]


def test_second_attestant_cannot_attest_before_the_first(world):
    tu = world.skickat()
    assert tu.next_attestering.attestant == world.chef1
    with pytest.raises(services.WorkflowError, match="tur"):
        services.attestera(tjansteutlatande=tu, user=world.chef2)
    services.attestera(tjansteutlatande=tu, user=world.chef1)
    tu.refresh_from_db()
    assert tu.status == S.TILL_ATTEST
    assert tu.next_attestering.attestant == world.chef2
    services.attestera(tjansteutlatande=tu, user=world.chef2)
    tu.refresh_from_db()
    assert tu.status == S.ATTESTERAD
    assert tu.arende.status == ArendeStatus.REDO_FOR_NAMND
    assert tu.next_attestering is None


def test_the_same_chef_cannot_attest_twice(world):
    tu = world.skickat()
    services.attestera(tjansteutlatande=tu, user=world.chef1)
    with pytest.raises(services.WorkflowError, match="redan attesterat"):
        services.attestera(tjansteutlatande=tu, user=world.chef1)
    assert tu.attesteringar.filter(attesterad__isnull=False).count() == 1
    annat = world.dokument()
    with pytest.raises(services.WorkflowError, match="en gång"):
        services.skicka_for_attest(tjansteutlatande=annat, user=world.officer, attestanter=[world.chef1, world.chef1])


def test_a_user_without_the_attestant_role_can_never_attest(world):
    tu = world.dokument()
    with pytest.raises(services.WorkflowError, match="rollen Attestant"):
        services.skicka_for_attest(tjansteutlatande=tu, user=world.officer, attestanter=[world.sekreterare])
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer, attestanter=[world.chef1])
    # The role is taken away after the document was sent: the chain no longer helps.
    world.chef1.groups.clear()
    del world.chef1._arenden_roller
    with pytest.raises(services.WorkflowError, match="rollen Attestant"):
        services.attestera(tjansteutlatande=tu, user=world.chef1)


def test_a_chef_whose_account_is_closed_is_refused_for_that_reason(world):
    # The default chain names the avdelning's chef, whose account has since been closed: the
    # refusal said they lacked the Attestant role, which sent the officer to ask for a role.
    world.chef1.is_active = False
    world.chef1.save()
    tu = world.dokument()
    with pytest.raises(services.WorkflowError) as refusal:
        services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    assert str(refusal.value) == (
        "Chef1 Testsson har inget aktivt konto längre och kan inte attestera. Välj en annan attestant."
    )


def test_who_may_attest_is_one_rule_for_both_choosers_and_the_chain(world):
    from arenden.admin.tjansteutlatanden import SkickaForm
    from arenden.forms import SkickaForAttestForm

    # The permission given to a person by name, not through the Attestant role.
    world.sekreterare.user_permissions.add(Permission.objects.get(codename="attestera_tjansteutlatande"))
    tu = world.dokument()
    for form in (SkickaForAttestForm, SkickaForm):
        erbjudna = set(form(forvalda=[], tjansteutlatande=tu).fields["forsta"].queryset)
        assert {world.chef1, world.sekreterare} <= erbjudna, form
        assert world.officer not in erbjudna, form
        # Another förvaltning's chef would be refused (no access to the case): not offered.
        assert world.frammande not in erbjudna, form
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer, attestanter=[world.sekreterare])
    services.attestera(tjansteutlatande=tu, user=world.sekreterare)
    assert tu.attesteringar.get().attestant == world.sekreterare


def test_attestation_stores_name_title_and_hash_of_the_moment(world):
    tu = world.skickat()
    services.attestera(tjansteutlatande=tu, user=world.chef1)
    steg = tu.attesteringar.get(ordning=1)
    assert (steg.namn, steg.befattning) == ("Chef1 Testsson", "Avdelningschef")
    assert steg.innehall_hash == tu.innehall_hash == snapshot_hash(tu.innehall)
    assert steg.history.first().history_user == world.chef1


# --- concurrency --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_attests_of_the_same_step_at_the_same_moment_give_one_attestation():
    """The chef clicks Attestera in two windows at once (or two requests race): the row lock
    makes the second wait and then see the step taken."""
    world = build_world()
    tu = world.skickat()
    barrier = threading.Barrier(2)
    results = []

    def worker():
        try:
            barrier.wait()
            services.attestera(tjansteutlatande=Tjansteutlatande.objects.get(pk=tu.pk), user=world.chef1)
            results.append("ok")
        except services.WorkflowError as exc:
            results.append(str(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["Du har redan attesterat dokumentet i denna attestomgång.", "ok"]
    steg = tu.attesteringar.get(ordning=1)
    assert [h.history_change_reason for h in steg.history.all()].count(services.ATTESTERAT) == 1
    assert tu.history.filter(history_change_reason__startswith=services.ATTESTERAT).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_chefs_racing_on_the_last_step_give_one_final_attestation():
    """chef1 attests; then chef2 and chef1 hit the last step at once: only chef2 may take it,
    exactly once, and the document ends attested."""
    world = build_world()
    tu = world.skickat()
    services.attestera(tjansteutlatande=tu, user=world.chef1)
    barrier = threading.Barrier(3)
    results = []

    def worker(user):
        try:
            barrier.wait()
            services.attestera(tjansteutlatande=Tjansteutlatande.objects.get(pk=tu.pk), user=user)
            results.append(user.username)
        except services.WorkflowError:
            results.append("nekad")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(u,)) for u in (world.chef2, world.chef2, world.chef1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["chef2", "nekad", "nekad"]
    tu.refresh_from_db()
    assert tu.status == S.ATTESTERAD
    assert tu.history.filter(history_change_reason__startswith=services.ATTESTERAT).count() == 2


# --- content bound to the attest ------------------------------------------------------------


@pytest.mark.parametrize("tillstand", ["till_attest", "attesterad"])
def test_editing_any_section_after_sending_voids_the_attest_and_returns_to_utkast(world, tillstand):
    for index in range(3):
        tu = world.skickat() if tillstand == "till_attest" else world.attesterat()
        if tillstand == "till_attest":
            services.attestera(tjansteutlatande=tu, user=world.chef1)  # one completed, one pending
        sektion = list(tu.sektioner.order_by("mall_sektion__ordning"))[index]
        services.spara_sektion(
            sektion=sektion, text="<p>Ändrad efter attest.</p>", expected_version=sektion.version, user=world.officer
        )
        tu.refresh_from_db()
        assert tu.status == S.UTKAST
        assert tu.innehall is None and tu.innehall_hash == ""
        steg = list(tu.attesteringar.all())
        assert steg and all(a.makulerad for a in steg)
        assert all(a.history.first().history_user == world.officer for a in steg)
        senaste = tu.history.first()
        assert senaste.history_user == world.officer
        assert senaste.status == S.UTKAST
        assert senaste.history_change_reason == f"Sektion ändrad: {sektion.mall_sektion.rubrik}{services.MAKULERAD}"
        assert tu.arende.status == ArendeStatus.UNDER_BEREDNING
        handelser = [h["handelse"] for h in tidslinje(tu.arende)]
        assert any("attesten makulerad" in h for h in handelser)


def test_the_timeline_tells_the_case_following_its_document_in_words(world):
    tu = world.dokument()
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    services.attestera(tjansteutlatande=tu, user=world.chef1)
    services.attestera(tjansteutlatande=tu, user=world.chef2)

    handelser = [(h["handelse"], h["anvandare"], h["detalj"]) for h in tidslinje(tu.arende)]
    assert handelser[-5:] == [
        ("Skickat för attest", world.officer, "Attestanter: Chef1 Testsson → Chef2 Testsson"),
        ("Ärendets status ändrad", world.officer, "Under beredning"),
        ("Attesterat", world.chef1, "Chef1 Testsson, Avdelningschef (steg 1 av 2)"),
        ("Attesterat", world.chef2, "Chef2 Testsson, Stadsdelsdirektör (steg 2 av 2)"),
        ("Ärendets status ändrad", world.chef2, "Redo för nämnd"),
    ], handelser


def test_the_timeline_tells_a_persons_saves_of_one_day_as_one_event(world):
    tu = world.dokument()
    granne = person("granne", Roll.HANDLAGGARE, avdelning=world.avdelning)
    bakgrund, forslag = tu.sektioner.order_by("mall_sektion__ordning", "pk")[:2]
    rubrik = {bakgrund.pk: bakgrund.mall_sektion.rubrik, forslag.pk: forslag.mall_sektion.rubrik}

    def spara(sektion, user, text):
        sektion.refresh_from_db()
        services.spara_sektion(sektion=sektion, text=f"<p>{text}</p>", expected_version=sektion.version, user=user)

    for i, sektion in enumerate([bakgrund, forslag, bakgrund, bakgrund]):
        spara(sektion, world.officer, f"Igår, {i}")
    igar = timezone.now() - datetime.timedelta(days=1)
    tu.history.filter(history_change_reason__startswith="Sektion ändrad").update(history_date=igar)
    # Today: the officer's saves, a colleague's, the officer's again.
    spara(forslag, world.officer, "Idag")
    spara(bakgrund, world.officer, "Idag igen")
    spara(bakgrund, granne, "Grannens rad")
    spara(forslag, world.officer, "Sist")

    sparningar = [(h["anvandare"], h["detalj"]) for h in tidslinje(tu.arende) if h["handelse"] == "Sektion ändrad"]
    assert sparningar[0] == (
        world.officer,
        f"{rubrik[bakgrund.pk]}, {rubrik[forslag.pk]} (4 sparningar, den sista {timezone.localtime(igar):%H:%M})",
    )
    assert sparningar[1][0] == world.officer
    assert sparningar[1][1].startswith(f"{rubrik[forslag.pk]}, {rubrik[bakgrund.pk]} (2 sparningar, den sista ")
    assert sparningar[2:] == [(granne, rubrik[bakgrund.pk]), (world.officer, rubrik[forslag.pk])]
    # Every save is still in the document's own history.
    assert tu.history.filter(history_change_reason__startswith="Sektion ändrad").count() == 8


def test_adding_an_atgard_or_a_header_change_after_attest_voids_it_too(world):
    tu = world.attesterat()
    services.lagg_till_atgard(tjansteutlatande=tu, atgard=AtgardFactory(), user=world.officer)
    assert tu.status == S.UTKAST
    assert all(a.makulerad for a in tu.attesteringar.all())
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    assert tu.attest_omgang == 2
    services.uppdatera_tjansteutlatande(
        tjansteutlatande=tu, data={"titel": "Ny titel"}, expected_version=tu.version, user=world.officer
    )
    assert tu.status == S.UTKAST
    assert not tu.current_attesteringar.exists()


def _attesterat_med_delar(world):
    """An attested document with two åtgärder, a bilaga and a signatory: every printed part an
    edit after attest can touch."""
    tu = world.med_delar(
        bilaga={"titel": "Skrivelse", "text": "Text."},
        undertecknare={"namn": "Eva Chef", "befattning": "Stadsdelsdirektör"},
    )
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    services.attestera(tjansteutlatande=tu, user=world.chef1)
    services.attestera(tjansteutlatande=tu, user=world.chef2)
    tu.refresh_from_db()
    assert tu.status == S.ATTESTERAD and tu.innehall is not None
    return tu


def _ny_bilaga(tu, user):
    services.spara_dokumentdel(tjansteutlatande=tu, obj=Bilaga(ordning=2, titel="Karta", text="Karta."), user=user)


def _andrad_bilaga(tu, user):
    bilaga = tu.bilagor.get()
    bilaga.titel = "Skrivelse; Öppna drogscener"
    services.spara_dokumentdel(tjansteutlatande=tu, obj=bilaga, user=user)


def _ny_undertecknare(tu, user):
    ny = Undertecknare(ordning=2, namn="Per Avdelning", befattning="Tf. avdelningschef")
    services.spara_dokumentdel(tjansteutlatande=tu, obj=ny, user=user)


def _andrad_undertecknare(tu, user):
    undertecknare = tu.undertecknare.get()
    undertecknare.befattning = "Tf. stadsdelsdirektör"
    services.spara_dokumentdel(tjansteutlatande=tu, obj=undertecknare, user=user)


def _borttagen_undertecknare(tu, user):
    services.spara_dokumentdel(tjansteutlatande=tu, obj=tu.undertecknare.get(), user=user, ta_bort=True)


def _ny_ordning(tu, user):
    ids = list(tu.atgard_val.order_by("ordning").values_list("atgard_id", flat=True))
    services.ordna_atgarder(tjansteutlatande=tu, atgard_ids=ids[::-1], user=user)


def _borttagen_atgard(tu, user):
    services.ta_bort_atgard(tjansteutlatande=tu, atgard=tu.atgard_val.first().atgard, user=user)


@pytest.mark.parametrize(
    "andring",
    [
        _ny_bilaga,
        _andrad_bilaga,
        _ny_undertecknare,
        _andrad_undertecknare,
        _borttagen_undertecknare,
        _ny_ordning,
        _borttagen_atgard,
    ],
)
def test_every_printed_part_edited_after_attest_voids_it_in_the_history(world, andring):
    tu = _attesterat_med_delar(world)
    fore = tu.history.count()

    andring(tu, world.officer)

    tu.refresh_from_db()
    assert tu.status == S.UTKAST
    assert tu.innehall is None
    assert tu.attesteringar.count() == 2
    assert all(a.makulerad for a in tu.attesteringar.all())
    nya = list(tu.history.all()[: tu.history.count() - fore])
    assert nya and all(h.history_user == world.officer for h in nya)
    assert any(h.status == S.UTKAST for h in nya)


def test_saving_unchanged_text_keeps_the_attest(world):
    tu = world.attesterat()
    sektion = tu.sektioner.first()
    services.spara_sektion(sektion=sektion, text=sektion.text, expected_version=sektion.version, user=world.officer)
    tu.refresh_from_db()
    assert tu.status == S.ATTESTERAD


def test_attested_content_and_hash_survive_later_edits_of_atgard_and_titles(world):
    tu = world.dokument()
    atgard = AtgardFactory(titel="Trygghetsvandringar", beskrivning="Vi går trygghetsvandringar i Sätra.")
    services.lagg_till_atgard(tjansteutlatande=tu, atgard=atgard, user=world.officer)
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    services.attestera(tjansteutlatande=tu, user=world.chef1)
    services.attestera(tjansteutlatande=tu, user=world.chef2)
    tu.refresh_from_db()
    frozen, digest = tu.innehall, tu.innehall_hash
    assert "Vi går trygghetsvandringar i Sätra." in str(frozen)

    # Later the register, a chef's title and the officer's name change, outside the document.
    atgard = Atgard.objects.get(pk=atgard.pk)
    atgard.beskrivning = "Helt ny text om åtgärden."
    atgard.save()
    Profil.objects.filter(user=world.chef2).update(befattning="Förvaltningschef")
    world.officer.first_name = "Bytt"
    world.officer.save()

    tu.refresh_from_db()
    assert tu.status == S.ATTESTERAD
    assert tu.innehall == frozen and tu.innehall_hash == digest == snapshot_hash(tu.innehall)
    assert "Helt ny text om åtgärden." in str(build_snapshot(tu))  # the live content did change
    assert tu.attesteringar.get(ordning=2).befattning == "Stadsdelsdirektör"


def test_sending_with_an_empty_required_section_fails_and_names_it(world):
    tu = world.dokument()
    sektion = tu.sektioner.get(mall_sektion__rubrik="Ärendet")
    services.spara_sektion(sektion=sektion, text="<p> </p>", expected_version=sektion.version, user=world.officer)
    assert services.saknade_sektioner(tu) == ["Ärendet"]
    with pytest.raises(services.WorkflowError, match="”Ärendet”"):
        services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    tu.refresh_from_db()
    assert tu.status == S.UTKAST and not tu.attesteringar.exists() and tu.innehall is None


def test_a_required_heading_added_to_the_mall_later_does_not_block_drafts_begun_before(world):
    tu = world.dokument()
    MallSektion.objects.create(mall=tu.mall, ordning=4, rubrik="Barnkonsekvensanalys", obligatorisk=True)

    assert services.saknade_sektioner(tu) == []
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    tu.refresh_from_db()
    assert tu.status == S.TILL_ATTEST and not tu.sektioner.filter(mall_sektion__rubrik="Barnkonsekvensanalys")

    # A document begun after the change has the heading, and must write it.
    arende = ArendeFactory(forvaltning=world.forvaltning, handlaggare=world.officer, avdelning=world.avdelning)
    ny = services.skapa_tjansteutlatande(arende=arende, mall=tu.mall, user=world.officer, titel="Nästa svar")
    assert services.saknade_sektioner(ny) == ["Förslag till beslut", "Ärendet", "Barnkonsekvensanalys"]


def test_return_needs_a_comment_and_voids_the_round(world):
    tu = world.skickat()
    with pytest.raises(services.WorkflowError, match="kommentar"):
        services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="  ")
    services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="Förtydliga bakgrunden.")
    tu.refresh_from_db()
    assert tu.status == S.UTKAST and tu.aterremiss_kommentar == "Förtydliga bakgrunden."
    assert all(a.makulerad for a in tu.attesteringar.all())


def test_a_return_comment_is_saved_without_a_nul_character(world):
    # PostgreSQL refuses a NUL in a text: the admin's return form answered 500 with one in it.
    tu = world.skickat()
    services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="Förtydliga\x00 bakgrunden.")
    tu.refresh_from_db()
    assert tu.aterremiss_kommentar == "Förtydliga bakgrunden."


def test_sending_again_clears_the_return_comment_which_the_history_keeps(world, client):
    tu = world.skickat()
    services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="Förtydliga bakgrunden.")
    client.force_login(world.officer)
    attest = reverse("arenden:skicka_for_attest", args=[tu.pk])
    assert "Återremitterat med kommentar" in client.get(attest).content.decode()
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    page = client.get(attest).content.decode()
    assert "Återremitterat med kommentar" not in page and "Förtydliga bakgrunden." not in page
    tu.refresh_from_db()
    assert tu.aterremiss_kommentar == ""
    sent = tu.history.latest()
    assert (sent.history_change_reason, sent.aterremiss_kommentar) == (services.SKICKAT, "")
    assert tu.history.filter(
        history_change_reason=services.ATERREMITTERAT, aterremiss_kommentar="Förtydliga bakgrunden."
    ).exists()
    handelser = [(h["handelse"], h["detalj"]) for h in tidslinje(tu.arende)]
    assert (services.ATERREMITTERAT, "Förtydliga bakgrunden.") in handelser


def test_a_refused_return_says_why_in_its_own_words(world):
    tu = world.skickat()
    services.attestera(tjansteutlatande=tu, user=world.chef1)
    with pytest.raises(services.WorkflowError) as fel:
        services.aterremittera(tjansteutlatande=tu, user=world.chef1, kommentar="Förtydliga.")
    # Not "Du har redan återremitterat": the chef attested it, and nothing was returned.
    assert str(fel.value) == "Du har redan attesterat dokumentet i denna attestomgång och kan inte återremittera det."
    tu.refresh_from_db()
    assert tu.status == S.TILL_ATTEST and tu.aterremiss_kommentar == ""

    annat = world.skickat()
    for user, varfor in (
        (world.chef2, "Det är Chef1 Testssons tur att attestera eller återremittera dokumentet först."),
        (world.officer, "Du har inte behörighet att återremittera (rollen Attestant krävs)."),
    ):
        with pytest.raises(services.WorkflowError) as fel:
            services.aterremittera(tjansteutlatande=annat, user=user, kommentar="Förtydliga.")
        assert str(fel.value) == varfor


@pytest.mark.parametrize(
    "efternamn, tur",
    [("Claes", "Hans Claes tur"), ("Fox", "Hans Fox tur"), ("Lindqvist", "Hans Lindqvists tur")],
)
def test_a_chef_whose_turn_it_is_is_named_in_swedish_genitive(world, efternamn, tur):
    """A name ending in s, x or z takes no genitive s in Swedish: "Hans Claess tur" was printed."""
    world.chef1.first_name, world.chef1.last_name = "Hans", efternamn
    world.chef1.save()
    tu = world.skickat()
    with pytest.raises(services.WorkflowError) as fel:
        services.attestera(tjansteutlatande=tu, user=world.chef2)
    assert str(fel.value) == f"Det är {tur} att attestera först."


# --- withdrawal from attest ------------------------------------------------------------------


def _texter(tu):
    return list(tu.sektioner.order_by("mall_sektion__ordning").values_list("text", "version"))


def test_the_handlaggare_withdraws_a_sent_document_unchanged_and_its_rounds_attestations_are_void(world):
    tu = world.skickat()
    services.attestera(tjansteutlatande=tu, user=world.chef1)  # one given, one pending
    tu.refresh_from_db()
    version, omgang, texter = tu.version, tu.attest_omgang, _texter(tu)

    assert services.dra_tillbaka_fran_attest(tjansteutlatande=tu, user=world.officer, omgang=omgang) is True

    tu.refresh_from_db()
    assert tu.status == S.UTKAST
    assert tu.innehall is None and tu.innehall_hash == ""
    assert (tu.version, tu.attest_omgang) == (version + 1, omgang)
    assert _texter(tu) == texter  # nothing written in the text
    steg = list(tu.attesteringar.order_by("ordning"))
    assert [bool(a.attesterad) for a in steg] == [True, False]  # the given attest is kept, void
    assert all(a.makulerad for a in steg)
    assert [(a.history.first().history_change_reason, a.history.first().history_user) for a in steg] == [
        (f"Makulerad: {services.DRAGET_TILLBAKA}", world.officer)
    ] * 2
    senaste = tu.history.first()
    assert (senaste.history_change_reason, senaste.history_user, senaste.status) == (
        services.DRAGET_TILLBAKA,
        world.officer,
        S.UTKAST,
    )
    tu.arende.refresh_from_db()
    assert tu.arende.status == ArendeStatus.UNDER_BEREDNING
    # Out of the chefs' queues.
    assert not Tjansteutlatande.objects.awaiting_attest_by(world.chef2).exists()
    assert tu.next_attestering is None
    handelser = [(h["handelse"], h["anvandare"], h["detalj"]) for h in tidslinje(tu.arende)]
    assert handelser[-1] == (
        services.DRAGET_TILLBAKA,
        world.officer,
        "Åter utkast, oförändrat; makulerad attest: Chef1 Testsson",
    ), handelser
    assert ("Attesterat", world.chef1, "Chef1 Testsson, Avdelningschef (steg 1 av 2); senare makulerad") in handelser

    # A draft like any other: sent again, to another chain, in a new round.
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer, attestanter=[world.chef2])
    tu.refresh_from_db()
    assert tu.attest_omgang == omgang + 1
    assert [a.attestant for a in tu.current_attesteringar] == [world.chef2]


def test_a_withdrawal_before_anyone_attested_says_so_in_the_timeline(world):
    tu = world.skickat()
    services.dra_tillbaka_fran_attest(tjansteutlatande=tu, user=world.officer)
    handelser = [(h["handelse"], h["detalj"]) for h in tidslinje(tu.arende)]
    assert handelser[-1] == (services.DRAGET_TILLBAKA, "Åter utkast, oförändrat")


INGEN_BEHORIGHET = "Du har inte behörighet att dra tillbaka dokumentet från attest."
BARA_HANDLAGGAREN = "Bara handläggaren, Officer Testsson, kan dra tillbaka dokumentet från attest."


@pytest.mark.parametrize(
    ("vem", "fel"),
    [
        ("chef1", INGEN_BEHORIGHET),  # the attestant whose step it is returns it, with a comment
        ("chef2", INGEN_BEHORIGHET),
        ("sekreterare", INGEN_BEHORIGHET),
        ("registrator", INGEN_BEHORIGHET),
        ("outsider", INGEN_BEHORIGHET),
        ("kollega", INGEN_BEHORIGHET),  # another avdelning's officer: not in their scope
        ("granne", BARA_HANDLAGGAREN),  # the avdelning's other officer, who may write in it
        ("superuser", BARA_HANDLAGGAREN),
    ],
)
def test_only_the_handlaggare_withdraws_a_document_from_attest(world, vem, fel):
    if vem == "granne":
        user = person("granne", Roll.HANDLAGGARE, avdelning=world.avdelning)
    else:
        user = getattr(world, vem)
    tu = world.skickat()
    assert not tu.kan_dras_tillbaka_av(user)
    with pytest.raises(services.WorkflowError) as refused:
        services.dra_tillbaka_fran_attest(tjansteutlatande=tu, user=user, omgang=tu.attest_omgang)
    assert str(refused.value) == fel
    tu.refresh_from_db()
    assert tu.status == S.TILL_ATTEST and tu.innehall_hash
    assert not tu.attesteringar.filter(makulerad__isnull=False).exists()
    assert tu.kan_dras_tillbaka_av(world.officer)


def test_a_case_given_to_another_officer_while_its_document_waits_is_withdrawn_by_the_new_one(world):
    tu = world.skickat()
    ny = person("ny", Roll.HANDLAGGARE, avdelning=world.avdelning)
    arende = tu.arende
    arende.handlaggare = ny
    services.andra_arende(arende=arende, falt=["handlaggare"], user=world.superuser)
    tu.refresh_from_db()
    assert tu.handlaggare == world.officer  # sent: it keeps the handläggare it names
    # Anyone else is sent to the one who answers for it now, not to the one it names.
    with pytest.raises(services.WorkflowError) as refused:
        services.dra_tillbaka_fran_attest(tjansteutlatande=tu, user=world.superuser)
    assert str(refused.value) == "Bara handläggaren, Ny Testsson, kan dra tillbaka dokumentet från attest."

    assert services.dra_tillbaka_fran_attest(tjansteutlatande=tu, user=ny) is True

    tu.refresh_from_db()
    assert tu.status == S.UTKAST
    assert tu.handlaggare == ny  # the draft names the one who answers for it now
    assert tu.history.filter(history_change_reason=services.DRAGET_TILLBAKA, history_user=ny).exists()


def test_a_document_attested_at_its_last_step_meanwhile_is_not_withdrawn(world):
    tu = world.skickat()
    sedd = Tjansteutlatande.objects.get(pk=tu.pk)  # the officer's page, before the last attest
    services.attestera(tjansteutlatande=tu, user=world.chef1)
    services.attestera(tjansteutlatande=tu, user=world.chef2)

    with pytest.raises(services.WorkflowError) as refused:
        services.dra_tillbaka_fran_attest(tjansteutlatande=sedd, user=world.officer, omgang=sedd.attest_omgang)

    assert str(refused.value) == services.REDAN_ATTESTERAT
    tu.refresh_from_db()
    assert tu.status == S.ATTESTERAD and tu.innehall_hash == snapshot_hash(tu.innehall)
    assert not tu.attesteringar.filter(makulerad__isnull=False).exists()
    assert tu.arende.status == ArendeStatus.REDO_FOR_NAMND
    assert not tu.history.filter(history_change_reason=services.DRAGET_TILLBAKA).exists()


def test_withdrawing_twice_writes_nothing_the_second_time(world):
    tu = world.skickat()
    omgang = tu.attest_omgang
    assert services.dra_tillbaka_fran_attest(tjansteutlatande=tu, user=world.officer, omgang=omgang) is True
    tu.refresh_from_db()
    version, rader, steg = tu.version, tu.history.count(), Attestering.history.count()

    assert services.dra_tillbaka_fran_attest(tjansteutlatande=tu, user=world.officer, omgang=omgang) is False

    tu.refresh_from_db()
    assert tu.status == S.UTKAST
    assert (tu.version, tu.history.count(), Attestering.history.count()) == (version, rader, steg)


def test_a_withdrawal_from_a_page_of_an_earlier_round_leaves_the_document_sent_anew(world):
    tu = world.skickat()
    forsta = tu.attest_omgang
    services.dra_tillbaka_fran_attest(tjansteutlatande=tu, user=world.officer, omgang=forsta)
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer, attestanter=[world.chef2])

    # The first page's button, clicked again (another tab, the Back button).
    with pytest.raises(services.WorkflowError) as refused:
        services.dra_tillbaka_fran_attest(tjansteutlatande=tu, user=world.officer, omgang=forsta)

    assert str(refused.value) == services.OMGANGEN_BYTT
    tu.refresh_from_db()
    assert tu.status == S.TILL_ATTEST and tu.attest_omgang == forsta + 1
    assert not tu.current_attesteringar.filter(makulerad__isnull=False).exists()


def test_a_document_on_a_meetings_list_is_not_withdrawn_from_attest(world):
    tu = world.attesterat()
    Tjansteutlatande.objects.filter(pk=tu.pk).update(status=S.PA_FOREDRAGNINGSLISTA)
    with pytest.raises(services.WorkflowError) as refused:
        services.dra_tillbaka_fran_attest(tjansteutlatande=tu, user=world.officer)
    assert str(refused.value) == "Dokumentet har status ”På föredragningslista” och kan inte dras tillbaka från attest."
    tu.refresh_from_db()
    assert tu.status == S.PA_FOREDRAGNINGSLISTA


@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_racing_the_last_attest_leaves_one_of_them_whole():
    """The officer withdraws while the last chef attests: the document's lock lets one finish
    before the other starts, and the second is refused, whichever it is."""
    world = build_world()
    tu = world.skickat()
    services.attestera(tjansteutlatande=tu, user=world.chef1)
    barrier = threading.Barrier(2)
    results = {}

    def worker(namn, gora):
        try:
            barrier.wait()
            gora(Tjansteutlatande.objects.get(pk=tu.pk))
            results[namn] = "ok"
        except services.WorkflowError as exc:
            results[namn] = str(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(
            target=worker,
            args=("attest", lambda dok: services.attestera(tjansteutlatande=dok, user=world.chef2)),
        ),
        threading.Thread(
            target=worker,
            args=(
                "tillbaka",
                lambda dok: services.dra_tillbaka_fran_attest(
                    tjansteutlatande=dok, user=world.officer, omgang=tu.attest_omgang
                ),
            ),
        ),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tu.refresh_from_db()
    steg = list(tu.attesteringar.order_by("ordning"))
    if results["attest"] == "ok":
        assert results["tillbaka"] == services.REDAN_ATTESTERAT
        assert tu.status == S.ATTESTERAD and not any(a.makulerad for a in steg)
    else:
        assert results["tillbaka"] == "ok"
        assert results["attest"].startswith("Dokumentet kan inte attesteras: det väntar inte längre på attest")
        assert tu.status == S.UTKAST and all(a.makulerad for a in steg)
        assert steg[1].attesterad is None


def test_transitions_follow_the_table(world):
    tu = world.attesterat()
    with pytest.raises(services.WorkflowError, match="kan inte skickas för attest"):
        services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    Tjansteutlatande.objects.filter(pk=tu.pk).update(status=S.PA_FOREDRAGNINGSLISTA)
    sektion = tu.sektioner.first()
    with pytest.raises(services.WorkflowError, match="kan inte ändras"):
        services.spara_sektion(sektion=sektion, text="<p>x</p>", expected_version=sektion.version, user=world.officer)
    for handelse, (fran, till) in services.OVERGANGAR.items():
        assert fran <= set(S) and till in S, handelse


# --- lost updates ---------------------------------------------------------------------------


def test_stale_section_edit_is_refused_and_returns_the_users_text(world):
    sektion = world.dokument().sektioner.first()
    start = sektion.version
    services.spara_sektion(sektion=sektion, text="<p>Kollegans text.</p>", expected_version=start, user=world.officer)
    with pytest.raises(services.ConflictError) as info:
        services.spara_sektion(sektion=sektion, text="<p>Min text.</p>", expected_version=start, user=world.officer)
    assert info.value.your_text == "<p>Min text.</p>"
    assert info.value.current_text == "<p>Kollegans text.</p>"
    assert info.value.current_version == start + 1
    sektion.refresh_from_db()
    assert sektion.text == "<p>Kollegans text.</p>"


def test_stale_header_edit_is_refused(world):
    tu = world.dokument()
    start = tu.version
    services.uppdatera_tjansteutlatande(
        tjansteutlatande=tu, data={"titel": "A"}, expected_version=start, user=world.officer
    )
    with pytest.raises(services.ConflictError):
        services.uppdatera_tjansteutlatande(
            tjansteutlatande=tu, data={"titel": "B"}, expected_version=start, user=world.officer
        )
    tu.refresh_from_db()
    assert tu.titel == "A"


def test_a_document_goes_only_to_the_namnd_its_forvaltning_answers_to(world):
    from arenden.models import Namnd
    from tests.factories import ArendeFactory

    farsta = Namnd.objects.create(namn="Farsta stadsdelsnämnd")
    tu = world.dokument()
    rader = tu.history.count()
    with pytest.raises(services.WorkflowError, match="ställs till Skärholmens stadsdelsnämnd"):
        services.uppdatera_tjansteutlatande(
            tjansteutlatande=tu, data={"namnd": farsta}, expected_version=tu.version, user=world.officer
        )
    tu.refresh_from_db()
    assert tu.namnd == world.forvaltning.namnd and tu.history.count() == rader

    arende = ArendeFactory(forvaltning=world.forvaltning, handlaggare=world.officer, avdelning=world.avdelning)
    with pytest.raises(services.WorkflowError, match="inte till Farsta stadsdelsnämnd"):
        services.skapa_tjansteutlatande(
            arende=arende, mall=tu.mall, user=world.officer, titel="Till fel nämnd", namnd=farsta
        )
    assert not arende.tjansteutlatanden.exists()
    ny = services.skapa_tjansteutlatande(
        arende=arende, mall=tu.mall, user=world.officer, titel="Till rätt nämnd", namnd=world.forvaltning.namnd
    )
    assert ny.namnd == world.forvaltning.namnd


def test_attested_pdf_text_and_hash_survive_later_edits_of_atgard_and_title(world):
    """Rendered afresh each time (the stored copy is removed), the attested PDF still prints the
    frozen text, the titles of the day of attest and the short hash."""
    from django.core.files.storage import default_storage

    from arenden import pdf
    from tests.arenden.pdftext import pages

    tu = world.dokument()
    atgard = AtgardFactory(titel="Trygghetsvandringar", beskrivning="Vi går trygghetsvandringar i Sätra.")
    services.lagg_till_atgard(tjansteutlatande=tu, atgard=atgard, user=world.officer)
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    services.attestera(tjansteutlatande=tu, user=world.chef1)
    services.attestera(tjansteutlatande=tu, user=world.chef2)
    tu.refresh_from_db()
    digest = tu.innehall_hash

    def fresh_text():
        default_storage.delete(pdf._cache_path(tu))
        return "\n".join(pages(pdf.render_tjansteutlatande(tu)))

    before = fresh_text()
    assert "Vi går trygghetsvandringar i Sätra." in " ".join(before.split())
    assert digest[:16] in before.replace(" ", "")

    atgard = Atgard.objects.get(pk=atgard.pk)
    atgard.beskrivning = "Helt ny text om åtgärden."
    atgard.save()
    Profil.objects.filter(user=world.chef2).update(befattning="Förvaltningschef")
    tu.refresh_from_db()
    after = fresh_text()
    assert after == before
    assert "Helt ny text" not in after and "Förvaltningschef" not in after
    assert tu.innehall_hash == digest


def test_the_same_content_attested_again_by_others_prints_its_new_attestations(world):
    from arenden import pdf
    from tests.arenden.pdftext import pages

    tu = world.dokument()
    sektion = tu.sektioner.first()
    services.spara_sektion(
        sektion=sektion, text="<p>Förslaget.</p>", expected_version=sektion.version, user=world.officer
    )
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)
    services.attestera(tjansteutlatande=tu, user=world.chef1)
    services.attestera(tjansteutlatande=tu, user=world.chef2)
    tu.refresh_from_db()
    forsta_hash = tu.innehall_hash
    forsta = "\n".join(pages(pdf.render_tjansteutlatande(tu)))  # stored under the content's hash
    assert "Chef1 Testsson" in forsta and "Chef2 Testsson" in forsta

    # Edited and written back word for word: the same content, attested by someone else.
    for text in ("<p>Ett annat förslag.</p>", "<p>Förslaget.</p>"):
        sektion.refresh_from_db()
        services.spara_sektion(sektion=sektion, text=text, expected_version=sektion.version, user=world.officer)
    chef3 = person("chef3", Roll.ATTESTANT, avdelning=world.avdelning, befattning="Tf. avdelningschef")
    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer, attestanter=[chef3])
    services.attestera(tjansteutlatande=tu, user=chef3)
    tu.refresh_from_db()
    assert tu.innehall_hash == forsta_hash

    andra = "\n".join(pages(pdf.render_tjansteutlatande(tu)))
    assert "Chef3 Testsson" in andra
    assert "Chef1 Testsson" not in andra and "Chef2 Testsson" not in andra


def test_a_document_still_waiting_for_attest_does_not_print_as_approved(world):
    # Downloaded between the avdelningschef's attest and the förvaltningschef's, the PDF said
    # "Detta dokument har godkänts digitalt" above the one attestation: read as an approved
    # document, which it is not until the whole chain has attested it.
    from arenden import pdf
    from tests.arenden.pdftext import find_in_order, pages

    def pdf_text():
        tu.refresh_from_db()
        return "\n".join(pages(pdf.render_tjansteutlatande(tu)))

    tu = world.skickat()
    vantar = pdf_text()
    assert find_in_order(vantar, ["Dokumentet är inte attesterat. Det väntar på attest av Chef1 Testsson."]) == []
    assert "godkänts" not in vantar

    services.attestera(tjansteutlatande=tu, user=world.chef1)
    text = pdf_text()
    assert "godkänts" not in text
    rader = [
        "Attesterat av",
        "Dokumentet väntar på attest av Chef2 Testsson och är inte godkänt än. Attesterat hittills:",
        "Chef1 Testsson, Avdelningschef",
        f"Innehåll skickat för attest, SHA-256: {tu.innehall_hash[:16]}",
    ]
    assert find_in_order(text, rader) == []

    services.attestera(tjansteutlatande=tu, user=world.chef2)
    text = pdf_text()
    assert "väntar på attest" not in text
    rader = [
        "Detta dokument har godkänts digitalt av följande personer:",
        "Chef2 Testsson, Stadsdelsdirektör",
        "Chef1 Testsson, Avdelningschef",
        f"Attesterat innehåll, SHA-256: {tu.innehall_hash[:16]}",
    ]
    assert find_in_order(text, rader) == []


def test_a_signatory_who_is_a_user_signs_with_the_name_held_when_the_document_is_sent(world):
    tu = world.dokument()
    services.spara_dokumentdel(
        tjansteutlatande=tu,
        obj=Undertecknare(ordning=1, anvandare=world.chef2, namn="Chef2 Testsson", befattning="Stadsdelsdirektör"),
        user=world.officer,
    )
    services.spara_dokumentdel(
        tjansteutlatande=tu,
        obj=Undertecknare(ordning=2, namn="Extern Person", befattning="Polisen"),
        user=world.officer,
    )
    world.chef2.last_name = "Gift-Namn"  # a new surname between drafting and sending
    world.chef2.save()

    services.skicka_for_attest(tjansteutlatande=tu, user=world.officer)

    tu.refresh_from_db()
    assert [(u["namn"], u["befattning"]) for u in tu.innehall["undertecknare"]] == [
        ("Chef2 Gift-Namn", "Stadsdelsdirektör"),  # the title is the one typed: the role signed in
        ("Extern Person", "Polisen"),
    ]
    rad = tu.undertecknare.get(ordning=1).history.first()
    assert (rad.namn, rad.history_user) == ("Chef2 Gift-Namn", world.officer)
