"""Access: the staff's second factor, API keys and the security log (a platform app; the domain imports none of it)."""

from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "Access and security"

    def ready(self) -> None:
        from access import checks, schema, security_log  # noqa: F401  (signal receivers, system checks, OpenAPI)
        from access.login import register_login

        register_login()

        from access.retention import KINDS
        from certhub.retention import retention_register

        retention_register(*KINDS)
