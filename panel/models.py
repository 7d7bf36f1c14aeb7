from django.db import models


class Generation(models.Model):
    """A named value that every write to some data replaces, in the writing transaction
    (panel.generations): a process may keep what it built from that data for as long as
    the value it read with the request's session is unchanged."""

    name = models.CharField(max_length=64, primary_key=True)
    value = models.BigIntegerField()

    class Meta:
        db_table = "panel_generation"

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"
