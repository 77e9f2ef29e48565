"""Bulk import and export of certifications: the file format (``rows``), a row's cells checked and read
into values (``parse``) and the CSV export (``export``).

Applying an import is a service (``certifications.services.imports``): every row
goes through the same write services as the API.
"""
