"""Who may do what: every role against every transition and every admin URL of the workflow,
in one table. Outside a user's scope is a 404."""

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.urls import reverse

from arenden import services
from arenden.constants import TjansteutlatandeStatus as S
from arenden.models import Bilaga
from tests.arenden.world import build_world
from tests.factories import ArendeFactory, AtgardFactory, MallFactory, pdf_bytes

ROLLER = "anonym outsider officer kollega chef1 chef2 sekreterare registrator superuser frammande".split()


def _rad(action, **per_roll):
    return [(roll, action, per_roll[roll]) for roll in ROLLER]


# ok = the change happened; nekad = refused, nothing changed; login = sent to the login page.
# fmt: off
TABELL = [
    *_rad("skicka (tjänst)", anonym="nekad", outsider="nekad", officer="ok", kollega="nekad", chef1="nekad",
          chef2="nekad", sekreterare="nekad", registrator="nekad", superuser="ok", frammande="nekad"),
    *_rad("attestera (tjänst)", anonym="nekad", outsider="nekad", officer="nekad", kollega="nekad", chef1="ok",
          chef2="nekad", sekreterare="nekad", registrator="nekad", superuser="nekad", frammande="nekad"),
    *_rad("återremittera (tjänst)", anonym="nekad", outsider="nekad", officer="nekad", kollega="nekad", chef1="ok",
          chef2="nekad", sekreterare="nekad", registrator="nekad", superuser="nekad", frammande="nekad"),
    *_rad("spara sektion (tjänst)", anonym="nekad", outsider="nekad", officer="ok", kollega="nekad", chef1="nekad",
          chef2="nekad", sekreterare="nekad", registrator="nekad", superuser="ok", frammande="nekad"),
    *_rad("ändra sidhuvud (tjänst)", anonym="nekad", outsider="nekad", officer="ok", kollega="nekad",
          chef1="nekad", chef2="nekad", sekreterare="nekad", registrator="nekad", superuser="ok", frammande="nekad"),
    *_rad("lägg till åtgärd (tjänst)", anonym="nekad", outsider="nekad", officer="ok", kollega="nekad",
          chef1="nekad", chef2="nekad", sekreterare="nekad", registrator="nekad", superuser="ok", frammande="nekad"),
    *_rad("skapa dokument (tjänst)", anonym="nekad", outsider="nekad", officer="ok", kollega="nekad",
          chef1="nekad", chef2="nekad", sekreterare="nekad", registrator="nekad", superuser="ok", frammande="nekad"),
    *_rad("GET dokumentlista", anonym="login", outsider="403", officer="200", kollega="200", chef1="200",
          chef2="200", sekreterare="200", registrator="200", superuser="200", frammande="200"),
    *_rad("GET dokumentsida", anonym="login", outsider="404", officer="200", kollega="404", chef1="200",
          chef2="200", sekreterare="200", registrator="200", superuser="200", frammande="404"),
    *_rad("GET dokumenthistorik", anonym="login", outsider="404", officer="200", kollega="404", chef1="200",
          chef2="200", sekreterare="200", registrator="200", superuser="200", frammande="404"),
    *_rad("POST ändra dokument", anonym="login", outsider="404", officer="ok", kollega="404", chef1="403",
          chef2="403", sekreterare="403", registrator="403", superuser="ok", frammande="404"),
    *_rad("POST skicka för attest", anonym="login", outsider="404", officer="ok", kollega="404", chef1="403",
          chef2="403", sekreterare="403", registrator="403", superuser="ok", frammande="404"),
    *_rad("POST attestera", anonym="login", outsider="404", officer="403", kollega="404", chef1="ok",
          chef2="nekad", sekreterare="403", registrator="403", superuser="403", frammande="404"),
    *_rad("POST återremittera", anonym="login", outsider="404", officer="403", kollega="404", chef1="ok",
          chef2="nekad", sekreterare="403", registrator="403", superuser="403", frammande="404"),
    *_rad("GET väntar på min attest", anonym="login", outsider="403", officer="403", kollega="403", chef1="200",
          chef2="200", sekreterare="403", registrator="403", superuser="403", frammande="200"),
    *_rad("GET ärendesida med tidslinje", anonym="login", outsider="404", officer="200", kollega="404",
          chef1="200", chef2="200", sekreterare="200", registrator="200", superuser="200", frammande="404"),
    *_rad("GET sektionshistorik", anonym="login", outsider="404", officer="200", kollega="404", chef1="200",
          chef2="200", sekreterare="200", registrator="403", superuser="200", frammande="404"),
    *_rad("GET PDF", anonym="login", outsider="404", officer="200", kollega="404", chef1="200",
          chef2="200", sekreterare="200", registrator="200", superuser="200", frammande="404"),
    *_rad("GET bilagans fil", anonym="login", outsider="404", officer="200", kollega="404", chef1="200",
          chef2="200", sekreterare="200", registrator="200", superuser="200", frammande="404"),
    *_rad("GET attesteringar", anonym="login", outsider="404", officer="200", kollega="404", chef1="200",
          chef2="200", sekreterare="200", registrator="403", superuser="200", frammande="404"),
    # People: those who work in a förvaltning the user works in, and the user (`synliga_personer`).
    *_rad("GET personlista", anonym="login", outsider="403", officer="200", kollega="200", chef1="200",
          chef2="200", sekreterare="200", registrator="200", superuser="200", frammande="200"),
    *_rad("GET kollegas personsida", anonym="login", outsider="403", officer="200", kollega="200", chef1="200",
          chef2="200", sekreterare="200", registrator="200", superuser="200", frammande="404"),
    *_rad("GET personsida i annan förvaltning", anonym="login", outsider="404", officer="404", kollega="404",
          chef1="404", chef2="404", sekreterare="404", registrator="404", superuser="200", frammande="200"),
    *_rad("GET personhistorik i annan förvaltning", anonym="login", outsider="404", officer="404", kollega="404",
          chef1="404", chef2="404", sekreterare="404", registrator="404", superuser="200", frammande="200"),
]
# fmt: on


def _status(response):
    # The admin sends anonymous users to its own login page, the officers' pages to theirs.
    if response.status_code == 302 and response.url.startswith(("/admin/login/", reverse("login"))):
        return "login"
    return str(response.status_code)


def _effekt(response, changed):
    status = _status(response)
    if status in {"login", "403", "404"}:
        assert not changed(), "a refused request changed the document"
        return status
    return "ok" if changed() else "nekad"


def _tjanst(fn):
    try:
        fn()
    except services.WorkflowError:
        return "nekad"
    return "ok"


def utfor(action, world, user, client):
    actor = user or AnonymousUser()
    if action == "skicka (tjänst)":
        tu = world.dokument()
        return _tjanst(
            lambda: services.skicka_for_attest(tjansteutlatande=tu, user=actor, attestanter=[world.chef1, world.chef2])
        )
    if action == "attestera (tjänst)":
        tu = world.skickat()
        return _tjanst(lambda: services.attestera(tjansteutlatande=tu, user=actor))
    if action == "återremittera (tjänst)":
        tu = world.skickat()
        return _tjanst(lambda: services.aterremittera(tjansteutlatande=tu, user=actor, kommentar="Förtydliga."))
    if action == "spara sektion (tjänst)":
        sektion = world.dokument().sektioner.first()
        return _tjanst(
            lambda: services.spara_sektion(
                sektion=sektion, text="<p>Ny text.</p>", expected_version=sektion.version, user=actor
            )
        )
    if action == "ändra sidhuvud (tjänst)":
        tu = world.dokument()
        return _tjanst(
            lambda: services.uppdatera_tjansteutlatande(
                tjansteutlatande=tu, data={"titel": "Ny titel"}, expected_version=tu.version, user=actor
            )
        )
    if action == "lägg till åtgärd (tjänst)":
        tu = world.dokument()
        return _tjanst(lambda: services.lagg_till_atgard(tjansteutlatande=tu, atgard=AtgardFactory(), user=actor))
    if action == "skapa dokument (tjänst)":
        # A case without a document: while it has one not yet decided, nobody starts another.
        arende = ArendeFactory(forvaltning=world.forvaltning, handlaggare=world.officer, avdelning=world.avdelning)
        return _tjanst(
            lambda: services.skapa_tjansteutlatande(arende=arende, mall=MallFactory(), user=actor, titel="Nytt")
        )

    if user is not None:
        client.force_login(user)
    if action == "GET personlista":
        return _status(client.get("/admin/auth/user/"))
    if action == "GET kollegas personsida":
        return _status(client.get(f"/admin/auth/user/{world.kollega.pk}/change/"))
    if action == "GET personsida i annan förvaltning":
        return _status(client.get(f"/admin/auth/user/{world.frammande.pk}/change/"))
    if action == "GET personhistorik i annan förvaltning":
        return _status(client.get(f"/admin/auth/user/{world.frammande.pk}/history/"))
    tu = world.skickat() if action in {"POST attestera", "POST återremittera"} else world.dokument()
    base = f"/admin/arenden/tjansteutlatande/{tu.pk}"
    if action == "GET dokumentlista":
        return _status(client.get("/admin/arenden/tjansteutlatande/"))
    if action == "GET dokumentsida":
        return _status(client.get(f"{base}/change/"))
    if action == "GET dokumenthistorik":
        return _status(client.get(f"{base}/history/"))
    if action == "GET väntar på min attest":
        return _status(client.get("/admin/arenden/attestko/"))
    if action == "GET ärendesida med tidslinje":
        return _status(client.get(f"/admin/arenden/arende/{tu.arende_id}/change/"))
    if action == "GET sektionshistorik":
        return _status(client.get(f"/admin/arenden/sektion/{tu.sektioner.first().pk}/history/"))
    if action == "GET PDF":
        return _status(client.get(f"/tjansteutlatanden/{tu.pk}/pdf/"))
    if action == "GET bilagans fil":
        bilaga = Bilaga(tjansteutlatande=tu, ordning=1, titel="Skrivelse")
        bilaga.fil.save("skrivelse.pdf", ContentFile(pdf_bytes()), save=True)
        return _status(client.get(f"/bilagor/{bilaga.pk}/fil/"))
    if action == "GET attesteringar":
        steg = world.skickat().attesteringar.first()
        return _status(client.get(f"/admin/arenden/attestering/{steg.pk}/change/"))
    if action == "POST ändra dokument":
        from tests.arenden.test_admin import _change_form_data

        data = _change_form_data(tu, **{"sektioner-0-text": "<p>Ändrad i admin.</p>"})
        response = client.post(f"{base}/change/", data)
        return _effekt(response, lambda: tu.sektioner.filter(text="<p>Ändrad i admin.</p>").exists())
    if action == "POST skicka för attest":
        response = client.post(f"{base}/skicka/", {"forsta": world.chef1.pk, "andra": world.chef2.pk})
        return _effekt(response, lambda: tu.attesteringar.exists())
    if action == "POST attestera":
        response = client.post(f"{base}/attestera/", {"innehall_hash": tu.innehall_hash})
        return _effekt(response, lambda: tu.attesteringar.filter(attesterad__isnull=False).exists())
    if action == "POST återremittera":
        response = client.post(
            f"{base}/aterremittera/", {"kommentar": "Förtydliga bakgrunden.", "innehall_hash": tu.innehall_hash}
        )
        tu.refresh_from_db()
        return _effekt(response, lambda: tu.attesteringar.filter(makulerad__isnull=False).exists())
    raise AssertionError(action)


@pytest.mark.parametrize(("roll", "action", "expected"), TABELL, ids=[f"{r}-{a}" for r, a, _ in TABELL])
def test_permission_table(db, client, roll, action, expected):
    world = build_world()
    assert utfor(action, world, world.user(roll), client) == expected


def test_refused_transitions_leave_the_document_as_it_was(db):
    world = build_world()
    tu = world.skickat()
    for user in (world.officer, world.chef2, world.superuser, world.sekreterare):
        with pytest.raises(services.WorkflowError):
            services.attestera(tjansteutlatande=tu, user=user)
    tu.refresh_from_db()
    assert tu.status == S.TILL_ATTEST
    assert not tu.attesteringar.filter(attesterad__isnull=False).exists()


def test_a_case_given_to_another_officer_takes_its_document_along(db, client):
    """The registrator gives the case to a colleague in another avdelning (the admin saves the
    case as it is). The former officer, who may no longer see the case, cannot open or change
    its document either: a save would have voided the attest round the case is in."""
    world = build_world()
    tu = world.skickat()
    arende = tu.arende
    arende.handlaggare, arende.avdelning = world.kollega, world.kollega.profil.avdelning
    arende._history_user = world.registrator
    arende.save()
    sektion = tu.sektioner.first()
    redigera = reverse("arenden:redigera", args=[tu.pk])
    spara = reverse("arenden:spara_sektion", args=[tu.pk, sektion.pk])

    def save(text):
        body = json.dumps({"text": text, "version": sektion.version})
        return client.post(spara, body, content_type="application/json").status_code

    client.force_login(world.officer)
    assert client.get(reverse("arenden:arende", args=[arende.pk])).status_code == 404
    assert client.get(redigera).status_code == 404
    assert save("<p>Den tidigare handläggarens text.</p>") == 404
    assert client.get(f"/admin/arenden/tjansteutlatande/{tu.pk}/change/").status_code == 404
    with pytest.raises(services.WorkflowError, match="behörighet"):
        services.spara_sektion(sektion=sektion, text="<p>x</p>", expected_version=sektion.version, user=world.officer)
    tu.refresh_from_db()
    assert tu.status == S.TILL_ATTEST and not tu.attesteringar.filter(makulerad__isnull=False).exists()

    client.force_login(world.kollega)
    assert client.get(redigera).status_code == 200
    assert save("<p>Den nya handläggarens text.</p>") == 200
    sektion.refresh_from_db()
    assert sektion.text == "<p>Den nya handläggarens text.</p>"
