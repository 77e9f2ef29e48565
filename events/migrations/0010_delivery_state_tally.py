from django.db import migrations
from django.db.models import Count

COUNTED = "events.webhookdelivery"


def count_deliveries(apps, schema_editor):
    """The deliveries' tally starts from the deliveries there are (one row per state)."""
    WebhookDelivery = apps.get_model("events", "WebhookDelivery")
    StateTally = apps.get_model("totals", "StateTally")
    StateTally.objects.filter(counted=COUNTED).delete()
    groups = WebhookDelivery.objects.order_by().values("state").annotate(n=Count("*"))
    StateTally.objects.bulk_create([StateTally(counted=COUNTED, state=g["state"], rows=g["n"]) for g in groups])


def forget(apps, schema_editor):
    apps.get_model("totals", "StateTally").objects.filter(counted=COUNTED).delete()


class Migration(migrations.Migration):
    """Deliveries per state come from a tally (decision 0044)."""

    dependencies = [
        ("events", "0007_renewal_request_events"),
        ("totals", "0006_state_tallies"),
    ]

    operations = [
        migrations.RunPython(count_deliveries, forget),
    ]
