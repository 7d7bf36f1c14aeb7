"""The catalogue of audit action names. ``audit()`` refuses a name that is not here, so
the audit pages, the metrics and the alerts (ROADMAP) can rely on a closed list, and a
typo in a service fails its tests instead of writing an event nobody looks for."""

from __future__ import annotations

from django.db import models


class Action(models.TextChoices):
    # Identity (accounts)
    SIGNUP = "signup", "Signed up"
    USER_CREATED = "user_created", "Account created by an operator"
    EMAIL_VERIFIED = "email_verified", "Email address verified"
    VERIFICATION_RESENT = "verification_resent", "Verification email sent again"
    PASSWORD_CHANGED = "password_changed", "Password changed"
    PASSWORD_RESET_REQUESTED = "password_reset_requested", "Password reset requested"
    PASSWORD_RESET = "password_reset", "Password reset"
    OUTBOX_RESENT = "outbox_resent", "Email sent again by an operator"
    # Sign-in
    SIGNIN = "signin", "Sign-in"
    SIGNOUT = "signout", "Signed out"
    SIGNIN_ALERT_SENT = "signin_alert_sent", "New sign-in email sent"
    STEPUP = "stepup", "Identity confirmed again (step-up)"
    REAUTH_FAILED = "reauth_failed", "Wrong password or code on a settings page"
    # Two-factor
    TWO_FACTOR_SETUP_STARTED = "2fa_setup_started", "Two-factor setup started"
    TWO_FACTOR_ENABLED = "2fa_enabled", "Two-factor authentication turned on"
    TWO_FACTOR_DISABLED = "2fa_disabled", "Two-factor authentication turned off"
    TWO_FACTOR_DISABLED_BY_OPERATOR = (
        "2fa_disabled_by_operator",
        "Two-factor authentication turned off by an operator",
    )
    TWO_FACTOR_FAILED = "2fa_failed", "Wrong two-factor code"
    BACKUP_CODE_USED = "backup_code_used", "Backup code used"
    BACKUP_CODES_REGENERATED = "backup_codes_regenerated", "New backup codes made"
    ENCRYPTION_KEY_ROTATED = "encryption_key_rotated", "Two-factor secrets re-encrypted"
    # Passkeys and security keys (WebAuthn)
    TOTP_REMOVED = "totp_removed", "Authenticator app removed (passkeys keep 2FA on)"
    PASSKEY_ADDED = "passkey_added", "Passkey added"
    PASSKEY_RENAMED = "passkey_renamed", "Passkey renamed"
    PASSKEY_REMOVED = "passkey_removed", "Passkey removed"
    PASSKEY_FAILED = "passkey_failed", "Passkey refused"
    PASSKEY_COUNTER_REGRESSED = (
        "passkey_counter_regressed",
        "Passkey refused: its signature counter went backwards (a cloned authenticator?)",
    )
    # Lockout
    LOCKOUT = "lockout", "Sign-in locked"
    UNLOCK = "unlock", "Sign-in lock lifted"
    # IP blocking (security.blocking)
    IP_BLOCKED = "ip_blocked", "Address or network blocked"
    IP_UNBLOCKED = "ip_unblocked", "Address or network unblocked"
    # Security metrics (security.metrics)
    METRIC_ALERT = "metric_alert", "Security metric crossed a threshold"
    METRIC_CLEARED = "metric_cleared", "Security metric back within its threshold"
    # Sessions and devices
    SESSION_REVOKED = "session_revoked", "Session signed out"
    SESSIONS_REVOKED_ALL = "sessions_revoked_all", "Sessions signed out"
    SESSIONS_REPLACED = "sessions_replaced", "Sessions replaced by a new sign-in"
    SESSION_TIMED_OUT = "session_timed_out", "Session timed out"
    DEVICE_TRUSTED = "device_trusted", "Browser trusted"
    DEVICE_FORGOTTEN = "device_forgotten", "Browser forgotten"
    NEW_DEVICE_CODE_SENT = "new_device_code_sent", "New-browser code sent"
    NEW_DEVICE_CODE_FAILED = "new_device_code_failed", "Wrong new-browser code"
    # Suspicious sign-ins
    SUSPICIOUS_SIGNIN_HELD = "suspicious_signin_held", "Suspicious sign-in held"
    SUSPICIOUS_SIGNIN_APPROVED = "suspicious_signin_approved", "Held sign-in approved"
    SUSPICIOUS_SIGNIN_DENIED = "suspicious_signin_denied", "Held sign-in reported"
    SUSPICIOUS_SIGNIN_CANCELLED = "suspicious_signin_cancelled", "Held sign-in cancelled"
    # Teams
    TEAM_CREATED = "team_created", "Team created"
    TEAM_RENAMED = "team_renamed", "Team renamed"
    TEAM_SWITCHED = "team_switched", "Active team switched"
    TEAM_POLICY_CHANGED = "team_policy_changed", "Team security policy changed"
    MEMBER_ROLE_CHANGED = "member_role_changed", "Member's role changed"
    MEMBER_REMOVED = "member_removed", "Member removed from a team"
    ROLE_CREATED = "role_created", "Custom role created"
    ROLE_UPDATED = "role_updated", "Custom role changed"
    ROLE_DELETED = "role_deleted", "Custom role deleted"
    INVITATION_SENT = "invitation_sent", "Invitation sent"
    INVITATION_RESENT = "invitation_resent", "Invitation sent again"
    INVITATION_REVOKED = "invitation_revoked", "Invitation revoked"
    INVITATION_ACCEPTED = "invitation_accepted", "Invitation accepted"
    DOMAIN_CREATED = "domain_created", "Domain added"
    DOMAIN_UPDATED = "domain_updated", "Domain changed"
    DOMAIN_DELETED = "domain_deleted", "Domain deleted"
    # Impersonation (security.impersonation): an administrator acting as a user
    IMPERSONATION_STARTED = "impersonation_started", "Administrator started acting as the user"
    IMPERSONATION_ENDED = "impersonation_ended", "Administrator stopped acting as the user"
    # Account controls (accounts.controls): administrators and team managers
    ACCOUNT_DISABLED = "account_disabled", "Account disabled"
    ACCOUNT_ENABLED = "account_enabled", "Account enabled again"
    PASSWORD_CHANGE_FORCED = "password_change_forced", "Password change required at next sign-in"
    PASSWORD_RESET_SENT_BY_ADMIN = (
        "password_reset_sent_by_admin",
        "Password reset link sent by an administrator",
    )
    SECURITY_REPORT = "security_report", "Security report run by an operator"
    # Email change (accounts.controls): the owner moves the account to another address
    EMAIL_CHANGE_REQUESTED = "email_change_requested", "Email change requested"
    EMAIL_CHANGED = "email_changed", "Email address changed"
    EMAIL_CHANGE_UNDONE = "email_change_undone", "Email change undone"
    # The JSON API and API keys (api/)
    API_KEY_CREATED = "api_key_created", "API key created"
    API_KEY_REVOKED = "api_key_revoked", "API key revoked"
    API_SIGNOUT = "api_signout", "Signed out through the API"
    API_TOKEN_REFRESHED = "api_token_refreshed", "API token refreshed"
    API_TOKEN_FAMILY_REVOKED = "api_token_family_revoked", "API tokens revoked (replayed)"
    API_AUTH_FAILED = "api_auth_failed", "API key or token refused"
    # Operations
    RETENTION_PURGE = "retention_purge", "Expired records purged"
    # High Security Mode (security.stepup; team switches in teams.services)
    HIGH_SECURITY_ENABLED = "high_security_enabled", "High Security Mode turned on"
    HIGH_SECURITY_DISABLED = "high_security_disabled", "High Security Mode turned off"
    HIGH_SECURITY_POLICY_CHANGED = (
        "high_security_policy_changed",
        "High Security Mode policy table changed",
    )
