"""Connects Django's auth signals to the audit trail (no logic here: see services)."""
