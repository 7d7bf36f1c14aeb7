# AuditEvent now belongs to the audit app (audit 0001). Only Django's state changes: the
# table, its rows and its append-only trigger stay. The content type follows the model,
# so admin log entries and permissions keep pointing at it.

from django.db import migrations


def move_content_type(apps, schema_editor, *, old="security", new="audit"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if ContentType.objects.using(db).filter(app_label=new, model="auditevent").exists():
        return
    ContentType.objects.using(db).filter(app_label=old, model="auditevent").update(app_label=new)


def move_back(apps, schema_editor):
    move_content_type(apps, schema_editor, old="audit", new="security")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("security", "0008_lockout_attempt_slots"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
        ),
        migrations.RunPython(move_content_type, move_back),
    ]
