"""One user action is one history row, also when it changes a tracked many-to-many field (an
ärende's cited cases, an åtgärd's aktörer, drogscener and cited cases). simple_history writes a
row for the save and another for each add and each remove of such a field (its m2m_changed
signal): the history page then told three changes where the user made one."""

import pytest
from django.utils import timezone
from simple_history.utils import get_m2m_reverse_field_name

from arenden import services
from arenden.models import Arende
from atgarder.models import Aktor, Atgard
from atgarder.services import skapa_atgard
from tests.arenden.test_admin import _arende_form_data, _atgard_form_data, _inline_management
from tests.factories import ArendeFactory, AtgardFactory, DrogscenFactory, ForvaltningFactory, UserFactory


def _m2m(rad, falt):
    """The ids a history row holds for the many-to-many field `falt`, as of that row."""
    target = get_m2m_reverse_field_name(type(rad).instance_type._meta.get_field(falt))
    return {getattr(m, f"{target}_id") for m in getattr(rad, falt).all()}


def _andringar(client, url):
    """The newest history row's changes as the history page lists them, by field name."""
    svar = client.get(url)
    assert svar.status_code == 200
    nyaste = svar.context["page_obj"].object_list[0]
    return {str(andring["field"]).lower(): andring for andring in nyaste.history_delta_changes}


@pytest.mark.parametrize(
    ("fore", "efter", "ny_mening"),
    [
        ([], ["a"], None),
        (["a"], ["b"], None),
        (["a"], ["a", "b"], "Ny ärendemening"),
        (["a"], ["b"], "Ny ärendemening"),
        (["a"], [], None),
        (["a"], ["a"], "Ny ärendemening"),
    ],
    ids=[
        "citerar-ett",
        "byter-citerat",
        "lagger-till-och-andrar-falt",
        "byter-och-andrar-falt",
        "tar-bort",
        "bara-falt",
    ],
)
def test_one_save_of_a_case_in_the_admin_is_one_history_row(admin_client, admin_user, fore, efter, ny_mening):
    arende = ArendeFactory(arendemening="Som förut")
    andra = {"a": ArendeFactory(), "b": ArendeFactory()}
    arende.citerade.set([andra[n] for n in fore])
    rader = arende.history.count()
    data = _arende_form_data(arende, citerade=[andra[n].pk for n in efter])
    data["initial-citerade"] = [andra[n].pk for n in fore]
    if ny_mening:
        data["arendemening"] = ny_mening
    url = f"/admin/arenden/arende/{arende.pk}/"
    assert admin_client.post(f"{url}change/", data).status_code == 302

    assert arende.history.count() == rader + 1
    rad = arende.history.first()
    assert rad.history_user == admin_user and rad.history_type == "~"
    assert rad.arendemening == (ny_mening or "Som förut")
    assert _m2m(rad, "citerade") == {andra[n].pk for n in efter}
    andringar = _andringar(admin_client, f"{url}history/")
    assert ("ärendemening" in andringar) is bool(ny_mening)
    assert ("citerade ärenden" in andringar) is (set(fore) != set(efter))
    if set(fore) != set(efter):
        nya = str(andringar["citerade ärenden"]["new"])
        assert all(str(andra[n]) in nya for n in efter)


def test_a_case_registered_with_cited_cases_in_the_admin_is_one_history_row(admin_client, admin_user):
    forvaltning = ForvaltningFactory()
    citerade = [ArendeFactory(forvaltning=forvaltning), ArendeFactory(forvaltning=forvaltning)]
    data = {
        "diarienummer": "",
        "forvaltning": forvaltning.pk,
        "arendemening": "Öppna drogscener",
        "registrerad": timezone.localdate().isoformat(),
        "citerade": [a.pk for a in citerade],
        "citerade_utanfor_diariet": "",
        **_inline_management("skrivelser", 0, 0),
        **_inline_management("tjansteutlatanden", 0, 0),
    }
    svar = admin_client.post("/admin/arenden/arende/add/", data)
    assert svar.status_code == 302, svar.context and svar.context["adminform"].form.errors

    arende = Arende.objects.get(arendemening="Öppna drogscener")
    assert [(r.history_type, r.history_change_reason, r.history_user) for r in arende.history.all()] == [
        ("+", "Registrerat", admin_user)
    ]
    assert _m2m(arende.history.get(), "citerade") == {a.pk for a in citerade}
    # The case's timeline tells the registration once.
    from arenden.tidslinje import tidslinje

    assert [h["handelse"] for h in tidslinje(arende)] == ["Ärendet registrerat"]


def test_one_save_of_a_measure_in_the_admin_is_one_history_row(admin_client, admin_user):
    atgard = AtgardFactory(titel="Som förut")
    polisen, skolan = Aktor.objects.create(namn="Polisen"), Aktor.objects.create(namn="Skolan")
    atgard.aktorer.set([polisen])
    citerat = ArendeFactory()
    rader = atgard.history.count()
    data = {**_atgard_form_data(atgard), "titel": "Ny titel"}
    data.update({"aktorer": [skolan.pk], "initial-aktorer": [polisen.pk], "citerade_arenden": [citerat.pk]})
    data.update(_inline_management("utfall", 0, 0))
    assert admin_client.post(f"/admin/atgarder/atgard/{atgard.pk}/change/", data).status_code == 302

    assert atgard.history.count() == rader + 1
    rad = atgard.history.first()
    assert (rad.history_user, rad.titel) == (admin_user, "Ny titel")
    assert (_m2m(rad, "aktorer"), _m2m(rad, "citerade_arenden")) == ({skolan.pk}, {citerat.pk})
    andringar = _andringar(admin_client, f"/admin/atgarder/atgard/{atgard.pk}/history/")
    assert {"titel", "aktörer", "citerade ärenden"} <= set(andringar)


def test_a_measure_created_in_the_editor_is_one_history_row(db):
    user = UserFactory(is_superuser=True)
    aktor, drogscen = Aktor.objects.create(namn="Polisen"), DrogscenFactory()
    atgard = skapa_atgard(
        user=user,
        typ="social",
        titel="Fältassistenter",
        beskrivning="Kvällar i centrum.",
        aktorer=[aktor],
        drogscener=[drogscen],
    )
    rad = Atgard.history.get(id=atgard.pk)  # the only one
    assert (rad.history_type, rad.history_user, rad.history_change_reason) == (
        "+",
        user,
        "Skapad i tjänsteutlåtandets editor",
    )
    assert (_m2m(rad, "aktorer"), _m2m(rad, "drogscener")) == ({aktor.pk}, {drogscen.pk})


def test_a_service_save_that_changes_no_many_to_many_field_is_one_row_as_before(db):
    user = UserFactory(is_superuser=True)
    arende = ArendeFactory(arendemening="Som förut")
    arende.citerade.add(ArendeFactory())
    rader = arende.history.count()
    arende.arendemening = "Ny"
    services.andra_arende(arende=arende, falt=["arendemening"], user=user)
    assert arende.history.count() == rader + 1
    assert arende.history.first().history_user == user


def test_a_role_given_with_the_account_closed_on_the_users_page_is_one_history_row(admin_client, admin_user):
    from django.contrib.auth.models import Group

    from arenden.constants import Roll
    from tests.arenden.test_admin_versioner import _formular

    anna = UserFactory(username="anna", is_staff=True)
    anna.groups.add(Group.objects.get(name=Roll.HANDLAGGARE))
    rader = anna.history.count()
    url = f"/admin/auth/user/{anna.pk}/change/"
    sidan = _formular(admin_client.get(url), "user_form")
    attestant = Group.objects.get(name=Roll.ATTESTANT)
    sidan["groups"] = [str(attestant.pk)]  # one role taken, another given
    sidan.pop("user_permissions", None)
    sidan.pop("is_active")
    assert admin_client.post(url, sidan).status_code == 302

    assert anna.history.count() == rader + 1
    rad = anna.history.first()
    assert (rad.history_user, rad.is_active) == (admin_user, False)
    assert _m2m(rad, "groups") == {attestant.pk}


def test_rights_given_to_a_group_on_its_page_are_one_history_row(admin_client, admin_user):
    from django.contrib.auth.models import Group, Permission

    grupp = Group.objects.create(name="Praktikanter")
    las, andra = Permission.objects.filter(codename__in=["view_arende", "change_arende"]).order_by("codename")
    grupp.permissions.add(las)
    rader = grupp.history.count()
    svar = admin_client.post(
        f"/admin/auth/group/{grupp.pk}/change/", {"name": "Praktikanter", "permissions": [andra.pk]}
    )
    assert svar.status_code == 302

    assert grupp.history.count() == rader + 1
    rad = grupp.history.first()
    assert rad.history_user == admin_user and _m2m(rad, "permissions") == {andra.pk}
