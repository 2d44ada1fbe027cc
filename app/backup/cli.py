"""``flask backup [--to DIR]`` and ``flask restore DIR [--force]``.

Wrong arguments and failures end with a one-line reason (``Error: …``) and a non-zero
exit status (2 for a usage error, 1 for a backup or restore that failed), never a
traceback."""
import os
import time

import click
from flask.cli import with_appcontext

from app.backup import services
from app.core.files import size_text


@click.command("backup")
@with_appcontext
@click.option("--to", "to", default=None, metavar="DIR",
              help="the folder to keep backups in (default: BACKUP_DIR, instance/backups)")
def backup_command(to):
    """Make a verified backup of this node while it keeps running; keep the last
    BACKUP_KEEP (14) in the folder."""
    if to is not None:
        if not to.strip():
            raise click.BadParameter("give a folder", param_hint="--to")
        if os.path.exists(to) and not os.path.isdir(to):
            raise click.BadParameter(f"{to} is a file, not a folder", param_hint="--to")
    try:
        manifest = services.make(to, trigger="cli")
    except services.BackupError as exc:
        raise click.ClickException(f"backup failed: {exc}") from None
    rows = sum(manifest["tables"].values())
    click.echo(f"backup {manifest['path']}: verified, {rows} rows in {len(manifest['tables'])} "
               f"tables, {len(manifest['files'])} files, {size_text(manifest['size'])}, "
               f"{manifest['seconds']} s")
    copy = manifest.get("copy")
    if copy:
        if copy["ok"]:
            click.echo(f"copied to {copy['to']}")
        else:
            raise click.ClickException(f"the backup was made but not copied: {copy['error']}")


@click.command("restore")
@with_appcontext
@click.argument("source", metavar="DIR")
@click.option("--force", is_flag=True, help="overwrite a node that already holds data")
def restore_command(source, force):
    """Restore a backup (its folder, or the .zip the backups page gives) into this
    node's instance, which must be empty unless --force; then check it."""
    if not os.path.exists(source):
        raise click.BadParameter(f"{source} does not exist", param_hint="DIR")
    started = time.monotonic()
    try:
        manifest = services.restore(source, force=force)
    except services.BackupError as exc:
        raise click.ClickException(f"restore failed: {exc}") from None
    node = manifest.get("node") or {}
    click.echo(f"restored {manifest['created_at']} backup of {node.get('code', '?')} "
               f"{node.get('name', '')}: verified, {sum(manifest['tables'].values())} rows, "
               f"{len(manifest['files'])} files, {time.monotonic() - started:.2f} s")
    if manifest.get("upgrade_needed"):
        click.echo("the backup is from an older version: run `flask db upgrade` now")


def register(app):
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
