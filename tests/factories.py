import datetime
import importlib
import io

import factory
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from pypdf import PdfWriter

from arenden.constants import Roll
from arenden.models import Arende, Avdelning, Forvaltning, Mall, MallSektion, Namnd, Profil, Sektion, Tjansteutlatande
from atgarder.models import Atgard, Drogscen


def ensure_roles():
    """Tests with transaction=True flush the database, taking the role groups of migration
    0002_roller with them; put them back the way the migration makes them."""
    if not Group.objects.filter(name=Roll.ATTESTANT).exists():
        roller = importlib.import_module("arenden.migrations.0002_roller")
        roller.skapa_roller(django_apps, None)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="sv_SE")
    last_name = factory.Faker("last_name", locale="sv_SE")
    password = factory.django.Password("pw")

    @factory.post_generation
    def roller(self, create, extracted, **kwargs):
        """`UserFactory(roller=["Handläggare"])`: the role groups the user is in."""
        if create and extracted:
            ensure_roles()
            self.groups.add(*Group.objects.filter(name__in=extracted))


class NamndFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Namnd
        django_get_or_create = ("namn",)

    namn = "Skärholmens stadsdelsnämnd"


class ForvaltningFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Forvaltning
        django_get_or_create = ("diarieprefix",)

    namn = factory.LazyAttribute(lambda o: f"Förvaltning {o.diarieprefix}")
    diarieprefix = "SKHLM"
    namnd = factory.SubFactory(NamndFactory)


class AvdelningFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Avdelning

    forvaltning = factory.SubFactory(ForvaltningFactory)
    namn = factory.Sequence(lambda n: f"Avdelning {n}")


class ProfilFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profil

    user = factory.SubFactory(UserFactory)
    befattning = "Handläggare"
    telefon = "08-508 000 00"


class ArendeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Arende

    forvaltning = factory.SubFactory(ForvaltningFactory)
    diarienummer = factory.LazyAttributeSequence(lambda o, n: f"{o.forvaltning.diarieprefix} 2020/{n + 1}")
    ar = factory.LazyAttribute(lambda o: int(o.diarienummer.split()[1].split("/")[0]))
    lopnummer = factory.LazyAttribute(lambda o: int(o.diarienummer.split("/")[1]))
    # Registered in its number's year, as the diarium requires (`Arende.fel_i_registreringsdagen`):
    # a case numbered 2020 registered today stood after every meeting that took it up.
    registrerad = factory.LazyAttribute(lambda o: datetime.date(o.ar, 1, 1))
    arendemening = factory.Sequence(lambda n: f"Ärende nummer {n}")
    # A case's handläggare has the role: without it they would not see their own case.
    handlaggare = factory.SubFactory(UserFactory, roller=[Roll.HANDLAGGARE])


class MallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mall
        django_get_or_create = ("namn",)
        skip_postgeneration_save = True

    namn = "Testmall"

    @factory.post_generation
    def sektioner(self, create, extracted, **kwargs):
        if create and not self.sektioner.exists():
            for i, rubrik in enumerate(["Förslag till beslut", "Ärendet", "Synpunkter"], start=1):
                MallSektion.objects.create(
                    mall=self, ordning=i, rubrik=rubrik, obligatorisk=i < 3, visar_atgarder=i == 3
                )


class TjansteutlatandeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tjansteutlatande
        skip_postgeneration_save = True

    arende = factory.SubFactory(ArendeFactory)
    mall = factory.SubFactory(MallFactory)
    handlaggare = factory.SelfAttribute("arende.handlaggare")
    namnd = factory.SelfAttribute("arende.forvaltning.namnd")
    titel = factory.Sequence(lambda n: f"Tjänsteutlåtande {n}")
    undertitel = "Svar på skrivelse"

    @factory.post_generation
    def with_sections(self, create, extracted, **kwargs):
        if create:
            for ms in self.mall.sektioner.all():
                Sektion.objects.create(tjansteutlatande=self, mall_sektion=ms, text=f"<p>Text under {ms.rubrik}.</p>")


class DrogscenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Drogscen

    namn = factory.Sequence(lambda n: f"Centrum {n}")
    omrade = "Skärholmen"


class AtgardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Atgard

    typ = "social"
    titel = factory.Sequence(lambda n: f"Åtgärd {n}")
    beskrivning = "Förvaltningen gör något konkret."


def pdf_bytes(pages=1, password=None):
    """A real PDF of blank A4 pages, as an upload would bring it."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
