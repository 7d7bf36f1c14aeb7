"""``ip__in_network``: an address field inside an IPv4 or IPv6 network (CIDR).

PostgreSQL stores ``GenericIPAddressField`` as ``inet`` and answers ``<<=`` itself (an
index on the column serves it). SQLite stores text, so the same lookup calls a small SQL
function registered on each new SQLite connection (``register_sqlite_function``).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.db.models import GenericIPAddressField, Lookup

SQLITE_FUNCTION = "panel_ip_in_network"


@lru_cache(maxsize=64)
def _network(value: str):
    return ipaddress.ip_network(value, strict=False)


def ip_in_network(address: str | None, network: str | None) -> int:
    if not address or not network:
        return 0
    try:
        return int(ipaddress.ip_address(address) in _network(network))
    except ValueError:
        return 0


@GenericIPAddressField.register_lookup
class InNetwork(Lookup):
    lookup_name = "in_network"

    def get_db_prep_lookup(self, value, connection):
        return ("%s", [str(ipaddress.ip_network(str(value), strict=False))])

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{SQLITE_FUNCTION}({lhs}, {rhs})", [*lhs_params, *rhs_params]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} <<= {rhs}::inet", [*lhs_params, *rhs_params]


def register_sqlite_function(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: teach each SQLite connection the lookup."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FUNCTION, 2, ip_in_network, deterministic=True)
