"""Extensions created unbound here and bound to an app in create_app()."""

from typing import Any

import click
from flask import Flask, g
from flask.cli import with_appcontext
from flask_babel import Babel
from flask_login import LoginManager
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from pipeline.core.models import Base
from pipeline.core.schemas import ErrorSchema


class PipelineApi(Api):
    """flask-smorest's Api, documenting our one error shape."""

    ERROR_SCHEMA = ErrorSchema


class _MigrateConfig:
    """What Flask-Migrate keeps in app.extensions["migrate"], its `migrate` made on first use."""

    def __init__(self, db: SQLAlchemy, directory: str, configure_args: dict[str, Any]) -> None:
        self.db, self.directory, self.configure_args = db, directory, configure_args
        self._migrate: Any = None

    @property
    def migrate(self) -> Any:
        if self._migrate is None:
            from flask_migrate import Migrate

            self._migrate = Migrate(db=self.db, directory=self.directory, **self.configure_args)
        return self._migrate

    @property
    def metadata(self) -> Any:
        return self.db.metadata


class _MigrateCommands(click.Group):
    """`pipeline db …`, Flask-Migrate's commands, loaded when one is asked for."""

    def _commands(self) -> click.Group:
        from flask_migrate.cli import db as commands

        return commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._commands().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._commands().get_command(ctx, name)


class LazyMigrate:
    """Flask-Migrate bound to the app without importing it: alembic and mako cost every process 11 MB (an
    export's peak RSS included), and only migrating needs them (`pipeline db …`, `pipeline init`, the tests)."""

    def init_app(self, app: Flask, db: SQLAlchemy, directory: str, **configure_args: Any) -> None:
        # As Flask-Migrate's own init_app: compare_type on, the options given (render_as_batch) for env.py.
        app.extensions["migrate"] = _MigrateConfig(db, str(directory), {"compare_type": True, **configure_args})
        options = [
            click.Option(
                ["-d", "--directory"], default=None, help='Migration script directory (default is "migrations")'
            ),
            click.Option(
                ["-x", "--x-arg"], multiple=True, help="Additional arguments consumed by custom env.py scripts"
            ),
        ]
        group = _MigrateCommands("db", params=options, callback=with_appcontext(_migrate_options))
        group.help = "Perform database migrations."
        app.cli.add_command(group)


def _migrate_options(directory: str | None, x_arg: tuple[str, ...]) -> None:
    """The group's options where Flask-Migrate's commands read them (as its own `db` group does)."""
    g.directory = directory
    g.x_arg = x_arg


db = SQLAlchemy(model_class=Base)
migrate = LazyMigrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
api = PipelineApi()
