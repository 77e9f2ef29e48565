"""Bulk import and export of certifications: the file format (``rows``) and the CSV export (``export``).

Applying an import is a service (``certifications.services.imports``): every row
goes through the same write services as the API.
"""
