"""The role groups and their permissions, plus the attest permissions and the attest queue.

Groups are fetched with get_or_create by name, so a database where `load_demo` (or a person)
already created a group keeps it and gets the permissions added.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

LASA = ("view",)
SKRIVA = ("add", "change", "view")
ALLT = ("add", "change", "delete", "view")

DOKUMENT = ("tjansteutlatande", "sektion", "tjansteutlatandeatgard", "bilaga", "undertecknare", "attestering")
REGISTER = ("atgard", "drogscen", "aktor", "utfall")
GRUND = ("namnd", "forvaltning", "avdelning", "mall", "mallsektion", "profil")

ROLLER = {
    # Drafts the förvaltning's answers: writes documents and keeps the åtgärder register.
    "Handläggare": {
        "arenden": {
            "arende": LASA, "skrivelse": LASA, "tjansteutlatande": SKRIVA, "sektion": ("change", "view"),
            "tjansteutlatandeatgard": ALLT, "bilaga": ALLT, "undertecknare": ALLT, "attestering": LASA,
            **dict.fromkeys(GRUND, LASA),
        },
        "atgarder": {"atgard": SKRIVA, "drogscen": SKRIVA, "aktor": SKRIVA, "utfall": ALLT},
        "auth": {"user": LASA},
        "extra": ["arenden.skicka_tjansteutlatande_for_attest"],
    },
    # A chef: reads the förvaltning's documents and attests them; changes nothing by hand.
    "Attestant": {
        "arenden": {
            "arende": LASA, "skrivelse": LASA, **dict.fromkeys(DOKUMENT, LASA), **dict.fromkeys(GRUND, LASA),
        },
        "atgarder": dict.fromkeys(REGISTER, LASA),
        "auth": {"user": LASA},
        "extra": ["arenden.attestera_tjansteutlatande"],
    },
    # Meetings, exports and decisions (the meeting screens check this role themselves).
    "Nämndsekreterare": {
        "arenden": {
            "arende": LASA, "skrivelse": LASA, **dict.fromkeys(DOKUMENT, LASA), **dict.fromkeys(GRUND, LASA),
        },
        "atgarder": dict.fromkeys(REGISTER, LASA),
        "auth": {"user": LASA},
        "extra": [],
    },
    # Registers ärenden and the skrivelser that start them.
    "Registrator": {
        "arenden": {
            "arende": SKRIVA, "skrivelse": SKRIVA, "tjansteutlatande": LASA, **dict.fromkeys(GRUND, LASA),
        },
        "atgarder": {},
        "auth": {"user": LASA},
        "extra": [],
    },
}


def skapa_roller(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the groups need them now.
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = True  # historical app configs have none; create_permissions wants one
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for namn, spec in ROLLER.items():
        group, _ = Group.objects.get_or_create(name=namn)
        codenames = []
        for app_label in ("arenden", "atgarder", "auth"):
            for model, actions in spec[app_label].items():
                codenames += [(app_label, f"{action}_{model}") for action in actions]
        codenames += [tuple(perm.split(".")) for perm in spec["extra"]]
        for app_label, codename in codenames:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def ta_bort_roller(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLLER).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("arenden", "0002_initial"),
        ("atgarder", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="AttestKo",
            fields=[],
            options={
                "verbose_name": "väntar på min attest",
                "verbose_name_plural": "väntar på min attest",
                "proxy": True,
                "default_permissions": (),
                "indexes": [],
                "constraints": [],
            },
            bases=("arenden.tjansteutlatande",),
        ),
        migrations.AlterModelOptions(
            name="tjansteutlatande",
            options={
                "ordering": ["-skapad", "-pk"],
                "permissions": [
                    ("attestera_tjansteutlatande", "Kan attestera tjänsteutlåtanden"),
                    ("skicka_tjansteutlatande_for_attest", "Kan skicka tjänsteutlåtanden för attest"),
                ],
                "verbose_name": "tjänsteutlåtande",
                "verbose_name_plural": "tjänsteutlåtanden",
            },
        ),
        migrations.RunPython(skapa_roller, ta_bort_roller),
    ]
