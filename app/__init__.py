"""Kepai Station: record keeping and upstream sync for commissioner workstations."""
import os

from flask import Flask

from app.core.config import load_config
from app.core.version import __version__  # noqa: F401  (the package's version)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config=None) -> Flask:
    """Build the app. ``KEPAI_INSTANCE`` picks the instance folder (one per node), so
    several nodes can run from one checkout."""
    instance = os.environ.get("KEPAI_INSTANCE") or os.path.join(ROOT, "instance")
    app = Flask(__name__, instance_path=os.path.abspath(instance),
                template_folder=os.path.join(ROOT, "templates"),
                static_folder=os.path.join(ROOT, "static"))
    from app.web.templating import Environment
    app.jinja_environment = Environment  # before anything makes app.jinja_env
    from app.core import instance as instance_folder
    instance_folder.protect(app.instance_path)
    load_config(app, test_config)

    from app import web
    from app.core import cache, database
    from app.core.extensions import babel, csrf, db, login_manager, migrate
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=web.select_locale,
                   default_translation_directories=os.path.join(ROOT, "translations"))
    database.configure(app)
    from app.visits import search  # noqa: F401  (registers kepai_pairs on SQLite connections)
    cache.init_app(app)
    web.configure(app)

    from app import (
        agreements,
        assessments,
        auth,
        backup,
        clusters,
        commissioners,
        goals,
        imports,
        main,
        places,
        reports,
        stations,
        targets,
        teams,
        trainings,
        visits,
    )
    for area in (main, auth, places, clusters, stations, teams, commissioners, targets, imports,
                 visits, trainings, agreements, reports, backup, goals, assessments):
        app.register_blueprint(area.bp)
    app.register_blueprint(goals.report_bp)  # /reports/targets, beside the other reports

    from app.sync import api as sync_api
    from app.sync import routes as sync_pages
    app.register_blueprint(sync_api.bp)
    app.register_blueprint(sync_pages.bp)

    from app.backup.cli import register as register_backup_commands
    from app.cli import register_commands
    from app.sync.cli import register as register_sync_commands
    register_commands(app)
    register_sync_commands(app)
    register_backup_commands(app)
    return app
