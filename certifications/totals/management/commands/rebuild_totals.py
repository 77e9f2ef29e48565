"""``manage.py rebuild_totals``: recount the maintained totals from the records (after a bulk load)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from certifications.totals.tallies import tallies_rebuild


class Command(BaseCommand):
    help = "Recount the maintained totals (certifications, mentors, deliveries and notices per state) from the rows."

    def handle(self, *args, **options) -> None:
        rows = tallies_rebuild()
        self.stdout.write(f"{rows} tally rows written")
