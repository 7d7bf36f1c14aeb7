"""Django's Redis cache backend, with one client object per connection pool.

Django's ``RedisCacheClient.get_client`` wraps the pool in a new ``redis.Redis`` on every
cache call, and redis-py's constructor is not cheap (it builds its response-callback
table each time): on a signed-in page that read the cache once, it was a tenth of the
cache read's CPU. A client holds nothing but the pool and is safe to share between
threads (redis-py's documentation), so one per pool serves every call. Everything else
(pools, serializer, timeouts, errors) is Django's.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache, RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
