from django.db import migrations, models


class Migration(migrations.Migration):
    """The tally of rows per state of the reacting apps' tables; their own migrations count what is there."""

    dependencies = [
        ("totals", "0005_mentor_tallies"),
    ]

    operations = [
        migrations.CreateModel(
            name="StateTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("counted", models.CharField(max_length=100)),
                ("state", models.CharField(max_length=20)),
                ("rows", models.BigIntegerField(default=0)),
            ],
            options={
                "verbose_name": "state tally",
                "verbose_name_plural": "state tallies",
            },
        ),
    ]
