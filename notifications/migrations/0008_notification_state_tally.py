from django.db import migrations
from django.db.models import Count

COUNTED = "notifications.notification"


def count_notifications(apps, schema_editor):
    """The notices' tally starts from the notifications there are (one row per state)."""
    Notification = apps.get_model("notifications", "Notification")
    StateTally = apps.get_model("totals", "StateTally")
    StateTally.objects.filter(counted=COUNTED).delete()
    groups = Notification.objects.order_by().values("state").annotate(n=Count("*"))
    StateTally.objects.bulk_create([StateTally(counted=COUNTED, state=g["state"], rows=g["n"]) for g in groups])


def forget(apps, schema_editor):
    apps.get_model("totals", "StateTally").objects.filter(counted=COUNTED).delete()


class Migration(migrations.Migration):
    """Notifications per state come from a tally (decision 0044)."""

    dependencies = [
        ("notifications", "0005_renewal_notices"),
        ("totals", "0006_state_tallies"),
    ]

    operations = [
        migrations.RunPython(count_notifications, forget),
    ]
