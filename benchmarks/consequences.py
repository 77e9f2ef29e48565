"""The expiry floor's notices and tallies: the same rows the job writes, as set-based SQL (PostgreSQL).

``benchmarks.expiry.floor_run`` splices these into its statements so that the
floor writes every consequence the job writes, not only history, events and
deliveries:

- the certifications' tally: step 1's ``valid`` -> ``expired`` moves, one delta
  row per day key and one per month key (``TALLY_CTE``, in the statement that
  marks the records);
- the mentors' tally and the notices: one ``mentor_paused`` notice per mentor
  the floor pauses, naming the mentor's lowest due record (whose reason became
  the pause reason), and the two delta rows moving them from ``active`` to
  ``paused``/``auto`` (``PAUSE_CTES``, in the statement that pauses them).

The rows are compared with the job's by ``RESULT_QUERIES``: the notices row by
row, the tallies as each key's sum (the job writes a delta per chunk or batch,
the floor one per run; both sum to the same totals).
"""

from __future__ import annotations

from certhub.ids import CROCKFORD_ALPHABET
from certifications.models import Certification, Mentor
from certifications.totals.models import CertificationTally, MentorTally
from notifications.models import NO_EMAIL, Notification, NotificationKind, NotificationState
from notifications.services.notices import PAUSED_SUBJECT

CERT = Certification._meta.db_table
MENTOR = Mentor._meta.db_table
TALLY = CertificationTally._meta.db_table
MENTOR_TALLY = MentorTally._meta.db_table
NOTICE = Notification._meta.db_table

# Step 1's moves, from the ``marked`` CTE (``RETURNING id, certification_type_id, expires_at``).
TALLY_CTE = f"""
tallied AS (
    INSERT INTO {TALLY} (certification_type_id, deleted, span, expires_on, valid, expired, revoked)
    SELECT certification_type_id, false, 'day', day, -count(*), count(*), 0
    FROM (SELECT certification_type_id, (expires_at AT TIME ZONE 'UTC')::date AS day FROM marked) g
    GROUP BY certification_type_id, day
    UNION ALL
    SELECT certification_type_id, false, 'month', date_trunc('month', day)::date, -count(*), count(*), 0
    FROM (SELECT certification_type_id, (expires_at AT TIME ZONE 'UTC')::date AS day FROM marked) g
    GROUP BY certification_type_id, date_trunc('month', day)
)"""

# From the ``paused`` CTE (``RETURNING m.id, m.email, m.pause_reason, first.cert_id``): a notice each, ids drawn
# per row in SQL as the product draws them, and the mentors' two delta rows.
PAUSE_CTES = f"""
noticed AS (
    INSERT INTO {NOTICE} (notification_id, kind, mentor_id, certification_id, recipient, subject, state, attempts,
                          last_error, created_at)
    SELECT 'ntf_' || (SELECT string_agg(substr('{CROCKFORD_ALPHABET}', 1 + floor(random() * 32)::int, 1), '')
                      FROM generate_series(1, 8) WHERE p.id IS NOT NULL),
           '{NotificationKind.MENTOR_PAUSED.value}', p.id, p.cert_id, p.email,
           left('{PAUSED_SUBJECT}' || p.pause_reason, 255),
           CASE WHEN p.email = '' THEN '{NotificationState.SKIPPED.value}'
                ELSE '{NotificationState.QUEUED.value}' END,
           0, CASE WHEN p.email = '' THEN '{NO_EMAIL}' ELSE '' END, %(now)s
    FROM paused p
    ON CONFLICT DO NOTHING
    RETURNING 1
),
mentors_tallied AS (
    INSERT INTO {MENTOR_TALLY} (status, paused_by, mentors)
    SELECT 'active', '', -count(*) FROM paused HAVING count(*) > 0
    UNION ALL
    SELECT 'paused', 'auto', count(*) FROM paused HAVING count(*) > 0
)"""

# What the job and the floor must both leave.
RESULT_QUERIES = {
    "notice": f"""SELECT n.kind, m.mentor_id, c.certification_id, n.renewal_request_id, n.cycle_expires_at,
                         n.offset_days, n.recipient, n.subject, n.state, n.attempts, n.last_error, n.created_at,
                         n.notification_id ~ '^ntf_[0-9A-HJKMNP-TV-Z]{{8}}$' AS id_well_formed
                  FROM {NOTICE} n LEFT JOIN {MENTOR} m ON m.id = n.mentor_id
                  LEFT JOIN {CERT} c ON c.id = n.certification_id""",
    "tally": f"""SELECT certification_type_id, deleted, span, expires_on,
                        sum(valid) AS valid, sum(expired) AS expired, sum(revoked) AS revoked
                 FROM {TALLY} GROUP BY certification_type_id, deleted, span, expires_on
                 HAVING sum(valid) <> 0 OR sum(expired) <> 0 OR sum(revoked) <> 0""",
    "mentor_tally": f"""SELECT status, paused_by, sum(mentors) AS mentors FROM {MENTOR_TALLY}
                        GROUP BY status, paused_by HAVING sum(mentors) <> 0""",
}
