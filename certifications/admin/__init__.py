"""The coordinators' admin: certifications, mentors, expiry runs and the auto-pause log.

Every write that carries a rule goes through ``certifications.services``, so
auto-resume and the log behave exactly as through the API; a refused write
shows the service's ``DomainError`` message, the same text the API returns.
Run records and the auto-pause log are read-only here.

This module registers the pages; each lives in its own module:
``certifications`` (records; their forms and actions in ``certification_writes``), ``types`` (types and
their policy), ``mentors``, ``renewals`` (the renewal request queue),
``runs`` (run history and the run page), ``log``, ``dashboard`` (the index
page's panel); ``actions`` and ``common`` hold what they share.
"""

from django.contrib import admin

from certifications.admin.certifications import CertificationAdmin
from certifications.admin.dashboard import dashboard_context
from certifications.admin.log import AutoPauseLogAdmin
from certifications.admin.mentors import MentorAdmin
from certifications.admin.renewals import RenewalRequestAdmin, renewals_dashboard_context
from certifications.admin.runs import ExpiryJobRunAdmin
from certifications.admin.types import CertificationTypeAdmin
from certifications.models import AutoPauseLog, Certification, CertificationType, ExpiryJobRun, Mentor, RenewalRequest

admin.site.register(Certification, CertificationAdmin)
admin.site.register(Mentor, MentorAdmin)
admin.site.register(CertificationType, CertificationTypeAdmin)
admin.site.register(ExpiryJobRun, ExpiryJobRunAdmin)
admin.site.register(AutoPauseLog, AutoPauseLogAdmin)
admin.site.register(RenewalRequest, RenewalRequestAdmin)
admin.site.add_index_panel(dashboard_context)
admin.site.add_index_panel(renewals_dashboard_context)
