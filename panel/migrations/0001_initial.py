import secrets

from django.db import migrations, models


def create_rows(apps, schema_editor):
    Generation = apps.get_model("panel", "Generation")
    Generation.objects.get_or_create(name="team_access", defaults={"value": secrets.randbits(62)})


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Generation",
            fields=[
                ("name", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("value", models.BigIntegerField()),
            ],
            options={"db_table": "panel_generation"},
        ),
        migrations.RunPython(create_rows, migrations.RunPython.noop),
    ]
