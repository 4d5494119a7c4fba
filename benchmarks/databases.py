"""The benchmarks' own PostgreSQL databases, next to the configured one: a benchmark empties and
seeds its database, so it never touches the one DATABASE_URL names."""

from urllib.parse import urlsplit, urlunsplit


def scratch_database_url(url: str, suffix: str, say) -> str:
    """Create <name><suffix> next to the configured database if it is missing; return its URL."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "postgres"
    bench_name = name if name.endswith(suffix) else f"{name}{suffix}"
    conninfo = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": parts.username or "postgres",
        "dbname": "postgres",
    }
    if parts.password:
        conninfo["password"] = parts.password
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [bench_name]).fetchone():
            say(f"creating database {bench_name}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(bench_name)))
    return urlunsplit(parts._replace(path=f"/{bench_name}"))
