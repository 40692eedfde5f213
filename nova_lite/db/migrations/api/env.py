"""Alembic environment of the api database; the connection comes from nova_lite.db.migration."""

from alembic import context

from nova_lite.db.api_models import ApiBase

target_metadata = ApiBase.metadata


def run_migrations_online() -> None:
    connectable = context.config.attributes["connection"]
    context.configure(connection=connectable, target_metadata=target_metadata,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
