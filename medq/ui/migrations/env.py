"""Alembic environment of the chat app's own database (its own history; version table `medq_ui_alembic_version`).
`medq.ui.data_layer.migrate()` runs it with an open connection (config.attributes["connection"]);
`alembic -x url=... revision --autogenerate` works from this folder too."""

from alembic import context

from medq.ui.data_layer import VERSION_TABLE, metadata, open_engine

config = context.config


def run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE,
                      render_as_batch=True)  # batch mode: SQLite cannot ALTER most things in place
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:  # command line: alembic -c ... -x url=sqlite:///chat.db upgrade head
    engine = open_engine(context.get_x_argument(as_dictionary=True)["url"])
    with engine.begin() as conn:
        run(conn)
