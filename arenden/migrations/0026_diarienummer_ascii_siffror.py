"""A diarienummer's year and running number in the digits 0-9 only: the validator's \\d took the
digits of every script, which int() reads as the same number, so a case could be stored as
"SKHLM 20٢٢/1048", number 2022/1048 to the database and to no search or reader. Only the
validator changes; no column does."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("arenden", "0025_atgarder_pa_arendet"),
    ]

    operations = [
        migrations.AlterField(
            model_name="arende",
            name="diarienummer",
            field=models.CharField(
                error_messages={"unique": "Diarienumret finns redan i diariet och kan inte användas igen."},
                help_text="Lämna tomt så delar systemet ut nästa nummer. Äldre ärenden kan föras in med sitt befintliga nummer, till exempel SKHLM 2022/1048.",
                max_length=30,
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        "^(?P<prefix>[A-ZÅÄÖ]{2,10}) (?P<ar>(19|20)[0-9]{2})/(?P<lopnummer>[1-9][0-9]{0,6})$",
                        code="diarienummer_format",
                        message="Diarienumret ska skrivas som PREFIX ÅR/NUMMER, till exempel SKHLM 2022/1048 (versaler, ett mellanslag, snedstreck, inga inledande nollor).",
                    )
                ],
                verbose_name="diarienummer",
            ),
        ),
        migrations.AlterField(
            model_name="historicalarende",
            name="diarienummer",
            field=models.CharField(
                db_index=True,
                error_messages={"unique": "Diarienumret finns redan i diariet och kan inte användas igen."},
                help_text="Lämna tomt så delar systemet ut nästa nummer. Äldre ärenden kan föras in med sitt befintliga nummer, till exempel SKHLM 2022/1048.",
                max_length=30,
                validators=[
                    django.core.validators.RegexValidator(
                        "^(?P<prefix>[A-ZÅÄÖ]{2,10}) (?P<ar>(19|20)[0-9]{2})/(?P<lopnummer>[1-9][0-9]{0,6})$",
                        code="diarienummer_format",
                        message="Diarienumret ska skrivas som PREFIX ÅR/NUMMER, till exempel SKHLM 2022/1048 (versaler, ett mellanslag, snedstreck, inga inledande nollor).",
                    )
                ],
                verbose_name="diarienummer",
            ),
        ),
    ]
