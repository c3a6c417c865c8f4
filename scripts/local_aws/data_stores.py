"""The stack's RDS and ElastiCache endpoints, served by this machine's PostgreSQL and Redis.

A task's environment names endpoints that only resolve on AWS; the harness points them here as DNS would:
an RDS instance's URL reaches its own database (created with the instance's master user) on 127.0.0.1:5432,
an ElastiCache endpoint its own Redis database number on 127.0.0.1:6379. Neither local server speaks TLS, so a
URL's sslmode=require becomes prefer and rediss:// becomes redis:// (AWS would encrypt; nothing else changes).
"""

import re
import threading

from .settings import settings

POSTGRES = ("127.0.0.1", 5432)
REDIS = ("127.0.0.1", 6379)

_lock = threading.Lock()
_created: set = set()
# "<region>/<RDS instance id>" -> its local database
_by_instance: dict = {}

RDS_URL = re.compile(
    r"(?P<scheme>postgres(?:ql)?)://(?P<user>[^@/\s]*@)?(?P<id>[A-Za-z0-9-]+)\.[A-Za-z0-9.-]*\.rds\.amazonaws\.com"
    r"(?::\d+)?(?:/(?P<db>[^?\s]*))?(?P<query>\?\S*)?"
)
RDS_HOST = re.compile(r"(?P<id>[A-Za-z0-9-]+)\.[A-Za-z0-9.-]*\.rds\.amazonaws\.com(?::\d+)?")
CACHE_URL = re.compile(
    r"rediss?://(?P<auth>[^@/\s]*@)?(?P<id>[A-Za-z0-9-]+)\.[A-Za-z0-9.-]*\.cache\.amazonaws\.com(?::\d+)?(?:/\d+)?"
)


def local_database(instance_id: str, region: str) -> str:
    # One PostgreSQL serves every engineer's tests at once: the local AWS's port keeps names apart. An instance id is
    # unique in its region only (one stack deploys to several), so the region is part of the name.
    return re.sub(r"[^a-z0-9_]", "_", f"la{settings.moto_port}_{region}_{instance_id}".lower())[:63]


# The registry `touchdown up` keeps of who has which Redis database (src/local/redis.ts): the local AWS takes its
# clusters' databases there too, so neither hands out one the other uses, and gives them back at reset and exit.
REDIS_REGISTRY = "touchdown:local:databases"
# ElastiCache cluster id -> its Redis database number
_redis_numbers: dict = {}


def _redis(db: int = 0):
    import redis

    return redis.Redis(host=REDIS[0], port=REDIS[1], db=db)


def redis_number(cluster_id: str) -> int:
    """The cluster's own empty Redis database (`cluster_id` is "<region>/<id>"), taken in the registry the first time."""
    key = f"local-aws:{settings.moto_port}:{cluster_id}"
    with _lock:
        if cluster_id in _redis_numbers:
            return _redis_numbers[cluster_id]
        registry = _redis()
        mine = registry.hget(REDIS_REGISTRY, key)
        number = int(mine) if mine is not None else None
        if number is None:
            taken = {int(v) for v in registry.hvals(REDIS_REGISTRY)}
            count = int(registry.config_get("databases").get("databases", 16))
            for db in range(1, count):
                if db in taken or _redis(db).dbsize() != 0:
                    continue
                if registry.hsetnx(REDIS_REGISTRY, key, db):
                    number = db
                    break
            if number is None:
                raise RuntimeError(f"Redis has no empty database left for ElastiCache cluster {cluster_id}")
        _redis_numbers[cluster_id] = number
        return number


def _release_redis_numbers() -> None:
    if not _redis_numbers:
        return
    registry = _redis()
    for cluster_id, number in _redis_numbers.items():
        _redis(number).flushdb()
        registry.hdel(REDIS_REGISTRY, f"local-aws:{settings.moto_port}:{cluster_id}")
    _redis_numbers.clear()


def ensure_database(instance) -> str:
    """The instance's database and master role on the local PostgreSQL; its name."""
    name = local_database(instance.db_instance_identifier, instance.region)
    with _lock:
        if name in _created:
            return name
        import psycopg
        from psycopg import sql

        user = instance.master_username or "postgres"
        try:
            password = instance.master_user_password or ""
        except Exception:  # noqa: BLE001 - moto refuses to give it back; the local server trusts its users anyway
            password = ""
        with psycopg.connect(host=POSTGRES[0], port=POSTGRES[1], user="postgres", dbname="postgres", autocommit=True) as c:
            try:
                c.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(user), sql.Literal(password)))
            except psycopg.errors.DuplicateObject:
                pass
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            c.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(user)))
        _created.add(name)
        _by_instance[f"{instance.region}/{instance.db_instance_identifier}"] = name
        return name


def databases() -> dict:
    with _lock:
        return dict(_by_instance)


def drop_databases() -> None:
    """At reset and exit: the databases this local AWS made go with its state (PostgreSQL's and Redis's)."""
    with _lock:
        _release_redis_numbers()
        if not _created:
            return
        import psycopg
        from psycopg import sql

        with psycopg.connect(host=POSTGRES[0], port=POSTGRES[1], user="postgres", dbname="postgres", autocommit=True) as c:
            for name in sorted(_created):
                c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        _created.clear()
        _by_instance.clear()


def point_at_local(environment: dict, rds_backend) -> dict:
    """The environment with the stack's endpoints replaced by the local servers."""

    def rds_url(m: re.Match) -> str:
        instance = rds_backend.databases.get(m["id"])
        if instance is None:
            return m[0]
        query = (m["query"] or "").replace("sslmode=require", "sslmode=prefer")
        return f"{m['scheme']}://{m['user'] or ''}{POSTGRES[0]}:{POSTGRES[1]}/{ensure_database(instance)}{query}"

    def rds_host(m: re.Match) -> str:
        return f"{POSTGRES[0]}:{POSTGRES[1]}" if ":" in m[0] else POSTGRES[0]

    def cache_url(m: re.Match) -> str:
        # A cluster id is unique in its region only: the region keeps each region's stack apart.
        number = redis_number(f"{rds_backend.region_name}/{m['id']}")
        return f"redis://{m['auth'] or ''}{REDIS[0]}:{REDIS[1]}/{number}"

    out = {}
    for key, value in environment.items():
        value = RDS_URL.sub(rds_url, value)
        value = RDS_HOST.sub(rds_host, value)
        out[key] = CACHE_URL.sub(cache_url, value)
    return out
