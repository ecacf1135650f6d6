"""Alembic environment of the agent memory store. EntityMemoryStore.migrate() runs it with an open connection
(config.attributes["connection"]); `alembic -x url=... revision --autogenerate` works from this folder too."""

from alembic import context
from sqlalchemy import create_engine

from medq.agent.memory.schema import VERSION_TABLE, Base

config = context.config


def run(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, version_table=VERSION_TABLE,
                      render_as_batch=True)  # batch mode: SQLite cannot ALTER most things in place
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:  # command line: alembic -c ... -x url=sqlite:///memory.db upgrade head
    engine = create_engine(context.get_x_argument(as_dictionary=True)["url"])
    with engine.begin() as conn:
        run(conn)
