"""Alembic environment for the registry schema (``gateway.store.schema``).

There is no alembic.ini: ``gateway.store.database.alembic_config`` builds the
Config in code and hands over an open connection in
``config.attributes["connection"]`` so that migrations run on the caller's
engine (its SQLite pragmas, its PostgreSQL ``search_path``). A URL in
``config.attributes["url"]`` (or the ``sqlalchemy.url`` option) is accepted
too, for running Alembic by hand.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from gateway.store.schema import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: set config.attributes['connection'] or ['url']")
    return str(url)


def _configure(**kwargs) -> None:
    context.configure(
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=True,
        compare_type=True,
        **kwargs,
    )


def run_offline() -> None:
    _configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url())
    try:
        with engine.connect() as connection:
            _configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
