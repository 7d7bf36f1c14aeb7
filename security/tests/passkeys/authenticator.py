"""A software WebAuthn authenticator for the server-side tests: it answers the panel's
options as a browser and a platform authenticator would (attestation "none", ES256), and
can be told to lie: another origin, another relying party, a lower signature counter.

It is written from the WebAuthn specification (authenticator data, client data, COSE
key, the signature over authenticatorData || SHA-256(clientDataJSON)), not from the
library the panel verifies with.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    def __init__(self, *, rp_id: str = "localhost", origin: str = "http://localhost:8000"):
        self.rp_id = rp_id
        self.origin = origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.user_handle = b""
        self.sign_count = 0

    # --- pieces of the answers --------------------------------------------------------

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _auth_data(self, flags: int, *, attested: bool = False, rp_id: str | None = None):
        data = hashlib.sha256((rp_id or self.rp_id).encode()).digest()
        data += bytes([flags]) + struct.pack(">I", self.sign_count)
        if attested:
            data += b"\0" * 16 + struct.pack(">H", len(self.credential_id))
            data += self.credential_id + self._cose_key()
        return data

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": challenge,
                "origin": origin or self.origin,
                "crossOrigin": False,
            }
        ).encode()

    # --- the two ceremonies -----------------------------------------------------------

    def create(self, options: dict, *, origin: str | None = None) -> dict:
        """The answer to ``navigator.credentials.create()`` for ``options`` (the JSON the
        panel sent)."""
        self.user_handle = unb64url(options["user"]["id"])
        auth_data = self._auth_data(UP | UV | AT, attested=True)
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "clientExtensionResults": {"credProps": {"rk": True}},
            "response": {
                "clientDataJSON": b64url(
                    self._client_data("webauthn.create", options["challenge"], origin)
                ),
                "attestationObject": b64url(
                    cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
                ),
                "transports": ["internal"],
            },
        }

    def get(
        self,
        options: dict,
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        sign_count: int | None = None,
        flags: int = UP | UV,
    ) -> dict:
        """The answer to ``navigator.credentials.get()``: the counter goes up by one
        unless ``sign_count`` says otherwise."""
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        auth_data = self._auth_data(flags, rp_id=rp_id)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(self.user_handle),
            },
        }
