"""Fixed people for the attestation tests: one förvaltning with two avdelningar, its two chefs,
an officer, a colleague in the other avdelning, a secretary, a registrator, someone with no role,
a chef of another förvaltning and a superuser."""

from dataclasses import dataclass

from django.contrib.auth.models import Group

from arenden import services
from arenden.constants import Roll
from tests.factories import (
    ArendeFactory,
    AvdelningFactory,
    ForvaltningFactory,
    MallFactory,
    ProfilFactory,
    TjansteutlatandeFactory,
    UserFactory,
    ensure_roles,
)


def person(username, *roller, avdelning=None, befattning="Handläggare", **extra):
    user = UserFactory(
        username=username, is_staff=True, first_name=username.capitalize(), last_name="Testsson", **extra
    )
    ProfilFactory(user=user, avdelning=avdelning, befattning=befattning)
    for roll in roller:
        user.groups.add(Group.objects.get(name=roll))
    return user


@dataclass
class World:
    forvaltning: object
    avdelning: object
    officer: object
    kollega: object
    chef1: object
    chef2: object
    sekreterare: object
    registrator: object
    outsider: object
    frammande: object
    superuser: object

    def user(self, roll):
        return None if roll == "anonym" else getattr(self, roll)

    def dokument(self, **kwargs):
        arende = ArendeFactory(forvaltning=self.forvaltning, handlaggare=self.officer, avdelning=self.avdelning)
        return TjansteutlatandeFactory(arende=arende, mall=MallFactory(), **kwargs)

    def med_delar(self, *, bilaga, undertecknare):
        """A draft with two åtgärder, one bilaga and one signatory (Bilaga and Undertecknare
        fields): every printed part besides the sections."""
        from arenden.models import Bilaga, Undertecknare
        from tests.factories import AtgardFactory

        tu = self.dokument()
        for titel in ("Trygghetsvandringar", "Platsaktiveringar"):
            services.lagg_till_atgard(tjansteutlatande=tu, atgard=AtgardFactory(titel=titel), user=self.officer)
        for obj in (Bilaga(ordning=1, **bilaga), Undertecknare(ordning=1, **undertecknare)):
            services.spara_dokumentdel(tjansteutlatande=tu, obj=obj, user=self.officer)
        tu.refresh_from_db()
        return tu

    def skickat(self, **kwargs):
        tu = self.dokument(**kwargs)
        services.skicka_for_attest(tjansteutlatande=tu, user=self.officer)
        return tu

    def attesterat(self):
        tu = self.skickat()
        services.attestera(tjansteutlatande=tu, user=self.chef1)
        services.attestera(tjansteutlatande=tu, user=self.chef2)
        return tu


def build_world():
    ensure_roles()
    skhlm = ForvaltningFactory(diarieprefix="SKHLM", namn="Skärholmens stadsdelsförvaltning")
    avd = AvdelningFactory(forvaltning=skhlm, namn="Medborgarservice och stadsmiljö")
    annan_avd = AvdelningFactory(forvaltning=skhlm, namn="Individ och familj inklusive fritid")
    adm = AvdelningFactory(forvaltning=skhlm, namn="Administrativa avdelningen")
    chef1 = person("chef1", Roll.ATTESTANT, avdelning=avd, befattning="Avdelningschef")
    chef2 = person("chef2", Roll.ATTESTANT, befattning="Stadsdelsdirektör")
    avd.chef = chef1
    avd.save()
    skhlm.chef = chef2
    skhlm.save()
    annan = ForvaltningFactory(diarieprefix="HASO", namn="Hässelby-Vällingby stadsdelsförvaltning")
    annan_avd_chef = person(
        "frammande", Roll.ATTESTANT, avdelning=AvdelningFactory(forvaltning=annan), befattning="Avdelningschef"
    )
    return World(
        forvaltning=skhlm,
        avdelning=avd,
        officer=person("officer", Roll.HANDLAGGARE, avdelning=avd),
        kollega=person("kollega", Roll.HANDLAGGARE, avdelning=annan_avd),
        chef1=chef1,
        chef2=chef2,
        sekreterare=person("sekreterare", Roll.NAMNDSEKRETERARE, avdelning=adm, befattning="Nämndsekreterare"),
        registrator=person("registrator", Roll.REGISTRATOR, avdelning=adm, befattning="Registrator"),
        outsider=person("outsider", avdelning=avd),
        frammande=annan_avd_chef,
        superuser=person("superuser", is_superuser=True),
    )
