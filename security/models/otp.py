"""Second factors: TOTP device with an encrypted secret, backup codes."""

__all__: list[str] = []
