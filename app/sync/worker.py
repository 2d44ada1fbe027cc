"""The background worker of a running node: syncs by itself whenever the upstream is
reachable, waiting longer after each failure (up to ``SYNC_MAX_BACKOFF`` seconds), and
never in a request's way; once a day it also refreshes the database's statistics
(``database.analyze``) and makes a backup (``BACKUP_DAILY``; app/backup). Started once
per process, on the first request."""
import threading
import time

from flask import g

from app.sync import client

_started = threading.Event()
ANALYZE_EVERY = 24 * 3600  # seconds


def backoff(failures: int, interval: float, ceiling: float) -> float:
    """Seconds to wait before the next attempt: the interval after a success, then
    doubling from 15 s with each failure in a row, never more than the ceiling."""
    if failures <= 0:
        return interval
    return min(ceiling, 15 * 2 ** (failures - 1))


def start(app) -> bool:
    """Start the worker thread if this process has none and auto sync or the daily
    backup is on."""
    if _started.is_set() or app.testing or not (
            app.config.get("SYNC_AUTO", True) or app.config.get("BACKUP_DAILY", True)):
        return False
    _started.set()
    threading.Thread(target=_loop, args=(app,), name="kepai-sync", daemon=True).start()
    return True


def _loop(app) -> None:
    interval = float(app.config.get("SYNC_INTERVAL", 60))
    ceiling = float(app.config.get("SYNC_MAX_BACKOFF", 600))
    analyzed = None
    while True:
        failures = 0
        with app.app_context():
            g.actor = "sync"
            if analyzed is None or time.monotonic() - analyzed > ANALYZE_EVERY:
                _analyze(app)
                analyzed = time.monotonic()
            _daily_backup(app)
            settings = client.upstream() if app.config.get("SYNC_AUTO", True) else None
            if settings is not None:
                try:
                    client.sync_once("auto")
                except client.SyncError:
                    pass  # recorded on the run and the upstream row
                except Exception:  # noqa: BLE001 - a worker that dies syncs nothing more
                    app.logger.exception("background sync failed")
                settings = client.upstream()
                failures = settings.failures if settings else 0
            from app.core.extensions import db
            db.session.remove()
        time.sleep(backoff(failures, interval, ceiling))


def _analyze(app) -> None:
    from app.core.database import analyze
    from app.core.extensions import db
    try:
        with db.engine.begin() as connection:
            analyze(connection)
    except Exception:  # noqa: BLE001 - stale statistics slow lists down, nothing worse
        app.logger.exception("could not refresh the database statistics")


def _daily_backup(app) -> None:
    """Make the day's backup when one is due (``backup.services.due``: judged from the
    backups on disk, so a laptop switched off every night still gets one a day)."""
    if not app.config.get("BACKUP_DAILY", True):
        return
    from app.backup import services
    try:
        if services.due():
            services.make(trigger="daily")
    except services.BackupError:
        pass  # recorded in the backup folder's status, shown on the backups page
    except Exception:  # noqa: BLE001 - a worker that dies syncs nothing more
        app.logger.exception("daily backup failed")
