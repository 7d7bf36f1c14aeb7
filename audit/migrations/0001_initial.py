# The AuditEvent model moves here from the security app. Its table (with the
# append-only trigger of security 0002) stays where it is: a state-only move.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("security", "0007_session_end_reason_2fa_enabled"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("action", models.CharField(db_index=True, max_length=64)),
                        ("outcome", models.CharField(choices=[("success", "Success"), ("failure", "Failure"), ("denied", "Denied")], default="success", max_length=10)),
                        ("team_id", models.BigIntegerField(blank=True, db_index=True, null=True)),
                        ("ip", models.GenericIPAddressField(blank=True, null=True)),
                        ("user_agent", models.TextField(blank=True)),
                        ("metadata", models.JSONField(blank=True, default=dict)),
                        ("actor", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="audit_events_as_actor", to=settings.AUTH_USER_MODEL)),
                        ("impersonator", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="audit_events_as_impersonator", to=settings.AUTH_USER_MODEL)),
                        ("user", models.ForeignKey(blank=True, help_text="The affected user.", null=True, on_delete=django.db.models.deletion.PROTECT, related_name="audit_events", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "security_auditevent",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [models.Index(fields=["user", "-created_at"], name="security_au_user_id_1e54d6_idx")],
                    },
                ),
            ],
        ),
    ]
