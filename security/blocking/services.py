"""Block and unblock addresses or networks (audited), and the check every sign-in path
makes before any password is hashed (``blocked_network_for``)."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.actions import Action
from audit.services import audit
from security.blocking.models import BlockedNetwork

# Narrower than this is refused (a typo like 0.0.0.0/0 would lock everyone out).
MIN_PREFIX = {4: 8, 6: 32}


def parse_block(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """An address or a CIDR network to block; ValueError with a reason otherwise."""
    text = (value or "").strip()
    if not text or len(text) > 49:
        raise ValueError("Enter an IP address or a network such as 203.0.113.0/24.")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError("Enter an IP address or a network such as 203.0.113.0/24.") from None
    if network.prefixlen < MIN_PREFIX[network.version]:
        raise ValueError(
            f"That network is too wide: at most /{MIN_PREFIX[network.version]} for "
            f"IPv{network.version}."
        )
    return network


def block(
    *,
    network: str,
    reason: str,
    duration: timedelta | None = None,
    expires_at=None,
    actor,
    request: HttpRequest | None = None,
) -> BlockedNetwork:
    """Block ``network`` until ``expires_at`` (or for ``duration``; neither: until lifted)."""
    parsed = parse_block(network)
    if duration:
        expires_at = timezone.now() + duration
    with transaction.atomic():
        row = BlockedNetwork.objects.create(
            network=str(parsed),
            reason=reason.strip()[:200],
            expires_at=expires_at,
            created_by=actor,
        )
        audit(
            Action.IP_BLOCKED,
            request=request,
            actor=actor,
            user=None,
            metadata={
                "network": row.network,
                "reason": row.reason,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
    return row


def unblock(*, row: BlockedNetwork, actor, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        BlockedNetwork.objects.filter(pk=row.pk).delete()
        audit(
            Action.IP_UNBLOCKED,
            request=request,
            actor=actor,
            user=None,
            metadata={"network": row.network, "reason": row.reason},
        )


def blocked_network_for(ip: str | None) -> BlockedNetwork | None:
    """The active block that covers ``ip``, if any. One query over the active blocks (a
    short list), matched here so that it works the same on SQLite and PostgreSQL."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    for row in BlockedNetwork.objects.active().only("pk", "network", "expires_at"):
        try:
            if address in ipaddress.ip_network(row.network, strict=False):
                return row
        except ValueError:
            continue
    return None
