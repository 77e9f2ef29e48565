"""Reminders before expiry, pause and resume notices, and the coordinators' digest."""
