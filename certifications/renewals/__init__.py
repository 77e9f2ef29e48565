"""Renewal requests beside the model: the evidence file's checks and storage, the mentor's signed link."""
