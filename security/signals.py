"""Connects auth signals to the audit trail and the lockout (glue only, no logic)."""
