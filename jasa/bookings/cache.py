"""Cache of computed free slots, made safe by an *availability version* per workspace.

Every change that can alter a workspace's free time (bookings and holds, working hours, date
overrides, holidays, offers and their staff, staff zones, calendar busy times) calls
:func:`availability_changed`, which gives the workspace a new version; cache keys carry the version,
so an entry from before the change is never read again (it simply expires).

Slots also depend on "now" (minimum notice, horizon, lapsing holds), so keys also carry a short time
bucket, and :func:`cached_slots` drops, on the way out, every slot that starts before now + notice.
A cached answer is therefore at most ``BUCKET_SECONDS`` late in *showing* a slot that became free
by the passing of time alone (a lapsed hold, the horizon moving on), and never shows one that
cannot be booked because of notice. A booking never trusts this cache: ``slot_is_free`` recomputes
inside the booking's transaction.

The cache is Django's default one (the database cache, or Redis when REDIS_URL is set), shared by
every worker. Receivers that call :func:`availability_changed` are in ``cache_receivers.py``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.db import transaction

from jasa.core import clock

log = logging.getLogger(__name__)

BUCKET_SECONDS = 60
# Long enough to serve a whole bucket; stale versions' entries just age out.
ENTRY_SECONDS = 2 * BUCKET_SECONDS
_VERSION_KEY = "jasa:availability:v:{}"
# An offer's workspace never changes, so each process may remember it (bounded): a fresh answer then
# needs one cache round trip. A removed or deactivated offer bumps its workspace's version, which
# sends the request to load_offer() and its NotFound.
_offer_workspace: dict[str, Any] = {}
_OFFER_WORKSPACE_MAX = 10_000


def availability_version(workspace_id) -> str:
    """The workspace's current availability version (a new one is made when none is stored)."""
    key = _VERSION_KEY.format(workspace_id)
    version = cache.get(key)
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(key, version, None):  # another worker made one first: use theirs
            version = cache.get(key) or version
    return version


def _bump(workspace_id) -> None:
    try:
        # The database cache writes on the caller's connection: in a savepoint, so a failed write (two
        # workers inserting the version row at once, a cull deadlock) never aborts the caller's transaction.
        with transaction.atomic():
            cache.set(_VERSION_KEY.format(workspace_id), uuid.uuid4().hex, None)
    except Exception:  # noqa: BLE001 - a cache outage must not fail the change itself
        log.warning("could not bump the availability version of workspace %s", workspace_id, exc_info=True)


def availability_changed(workspace_id) -> None:
    """Forget every cached slot list of this workspace.

    Bumped now (so this same transaction, and tests, read fresh slots) and again at commit: a reader
    that computed slots from the data before the commit may have stored them under the first new
    version; the second one makes sure nothing computed before the commit is served after it.
    """
    if workspace_id is None:
        return
    _bump(workspace_id)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _bump(workspace_id), robust=True)


def cached_slots(
    offer_id, key_parts: Sequence[Hashable], load_offer: Callable[[], Any],
    build: Callable[[Any], list[tuple[int, Any]]],
) -> list[Any]:
    """The payloads of ``build(offer)`` (``[(start epoch seconds, payload), ...]``) from the cache when fresh.

    ``key_parts`` name the question (start, end, zone, ...); the offer and the time bucket are added here.
    A fresh answer costs one cache read and no database query: the offer's workspace (which never
    changes) is remembered, and an entry holds the version it was computed at, read *before* computing,
    so an entry that raced with a change is never served after the change's bump. On a miss
    ``load_offer()`` loads the offer (and may raise NotFound). Slots starting before now + the offer's
    notice are dropped on the way out.
    """
    now = clock.now().timestamp()
    key = "jasa:slots:{}:{}:{}".format(offer_id, int(now) // BUCKET_SECONDS, ":".join(str(p) for p in key_parts))
    workspace_id = _offer_workspace.get(str(offer_id))
    if workspace_id is not None:
        version = _read(_VERSION_KEY.format(workspace_id))  # the one round trip of a fresh answer
        if version is not None:
            entry = _local.get(key)
            if entry is None or entry[0] != version:
                entry = cache.get(key)  # computed by another worker?
                if entry is not None and entry[0] == version:
                    _remember(key, entry)
            if entry is not None and entry[0] == version:
                return _fresh(entry, now)
    offer = load_offer()
    if len(_offer_workspace) >= _OFFER_WORKSPACE_MAX:
        _offer_workspace.clear()
    _offer_workspace[str(offer_id)] = offer.workspace_id
    version = availability_version(offer.workspace_id)
    entry = (version, offer.min_notice_minutes * 60, build(offer))
    cache.set(key, entry, ENTRY_SECONDS)
    _remember(key, entry)
    return _fresh(entry, now)


# This process's copies of entries, checked against the shared version on every use (so they are
# never served after a change), which saves fetching and unpickling the slot list each time.
_local: dict[str, tuple] = {}
_LOCAL_MAX = 2_000


def _remember(key: str, entry: tuple) -> None:
    if len(_local) >= _LOCAL_MAX:
        _local.clear()
    _local[key] = entry


def _read(key: str):
    """cache.get, minus the new Redis client that Django's RedisCache makes for every call (~0.1 ms)."""
    from django.core.cache.backends.redis import RedisCache

    backend = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(backend, RedisCache):
        return cache.get(key)
    reader = _readers.get(id(backend))
    if reader is None:
        try:
            client, loads = backend._cache.get_client(), backend._cache._serializer.loads  # noqa: SLF001
        except AttributeError:  # a Django without these internals: the public API is correct, just slower
            return cache.get(key)

        def reader(k, client=client, loads=loads, backend=backend):
            raw = client.get(backend.make_and_validate_key(k))
            return None if raw is None else loads(raw)

        _readers[id(backend)] = reader
    return reader(key)


_readers: dict[int, Callable[[str], Any]] = {}


def _fresh(entry: tuple[str, int, list[tuple[int, Any]]], now: float) -> list[Any]:
    _version, notice_seconds, items = entry
    earliest = now + notice_seconds
    return [payload for start, payload in items if start >= earliest]
