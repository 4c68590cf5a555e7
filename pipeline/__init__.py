"""商机管道 pipeline: a sales-pipeline tracker for Chinese B2B teams."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

PACKAGE_DIR = Path(__file__).resolve().parent


def _template_folder() -> str:
    """templates/ beside the package in a checkout, or pipeline/templates in an installed wheel."""
    checkout = PACKAGE_DIR.parent / "templates"
    return str(checkout if checkout.is_dir() else PACKAGE_DIR / "templates")


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; `test_config` overrides any setting."""
    from pipeline import config
    from pipeline.core import database, markdown, pages, security, web
    from pipeline.extensions import api, babel, csrf, db, login_manager, migrate

    app = web.PipelineFlask(__name__, instance_relative_config=True, template_folder=_template_folder())
    instance = Path(app.instance_path)
    app.config.from_mapping(config.defaults(instance))
    if test_config:
        app.config.from_mapping(test_config)
    app.config["PIPELINE_REQUIRED_INFLUENCES"] = config.required_influences(app.config["PIPELINE_REQUIRED_INFLUENCES"])
    app.config["PIPELINE_TRUSTED_PROXIES"] = config.trusted_proxies(str(app.config["PIPELINE_TRUSTED_PROXIES"]))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.secret_key(instance)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", database.engine_options(app.config["SQLALCHEMY_DATABASE_URI"]))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        instance.mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(database.MIGRATIONS_DIR), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=web.select_locale)
    api.init_app(app)

    web.init_app(app)
    web.trust_proxies(app)
    security.init_app(app)
    pages.init_app(app)
    markdown.init_app(app)
    _register_features(app)
    return app


def _register_features(app: Flask) -> None:
    """Attach every feature's blueprints and CLI commands."""
    from pipeline import models  # noqa: F401  (every table registered before anything queries)
    from pipeline.accounts import api as accounts_api
    from pipeline.accounts import contact_views, profile_views
    from pipeline.accounts import views as accounts_views
    from pipeline.activities import api as activities_api
    from pipeline.activities import views as activity_views
    from pipeline.auth import api as auth_api
    from pipeline.auth import cli as auth_cli
    from pipeline.auth import views as auth_views
    from pipeline.care import cli as care_cli
    from pipeline.care import views as care_views
    from pipeline.care.complaints import api as api_complaints
    from pipeline.care.complaints import views as complaint_views
    from pipeline.care.satisfaction import api as api_satisfaction
    from pipeline.care.satisfaction import views as satisfaction_views
    from pipeline.core import backup, serve
    from pipeline.deals import api as deals_api
    from pipeline.deals import board_views, influence_views, strategy_views
    from pipeline.deals import cli as deals_cli
    from pipeline.deals import views as deals_views
    from pipeline.demo import cli as demo_cli
    from pipeline.exports import api as exports_api
    from pipeline.exports import cli as export_cli
    from pipeline.exports import views as export_views
    from pipeline.extensions import api
    from pipeline.imports import cli as import_cli
    from pipeline.imports import views as import_views
    from pipeline.reports import analysis_api, analysis_views
    from pipeline.reports import api as reports_api
    from pipeline.reports import cli as reports_cli
    from pipeline.reports import views as report_views

    for blueprint in (
        accounts_api.blp,
        deals_api.blp,
        deals_api.reference_blp,
        activities_api.blp,
        reports_api.blp,
        analysis_api.blp,
        exports_api.blp,
        api_complaints.blp,
        api_satisfaction.blp,
    ):
        api.register_blueprint(blueprint)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    auth_api.init_app(app)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(deals_views.bp)
    app.register_blueprint(board_views.bp)
    app.register_blueprint(strategy_views.bp)
    app.register_blueprint(activity_views.bp)
    app.register_blueprint(accounts_views.bp)
    app.register_blueprint(profile_views.bp)
    app.register_blueprint(contact_views.bp)
    app.register_blueprint(influence_views.bp)
    app.register_blueprint(report_views.bp)
    app.register_blueprint(analysis_views.bp)
    app.register_blueprint(export_views.bp)
    app.register_blueprint(import_views.bp)
    app.register_blueprint(care_views.bp)
    app.register_blueprint(complaint_views.bp)
    app.register_blueprint(satisfaction_views.bp)
    for group in (auth_cli, deals_cli, demo_cli, export_cli, import_cli, care_cli, reports_cli, serve, backup):
        group.register(app)
