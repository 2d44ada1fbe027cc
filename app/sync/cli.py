"""Sync commands: ``flask nodes enroll|revoke|list`` on an upstream, ``flask upstream
set|show`` and ``flask sync`` on a downstream node."""
import sys
import urllib.parse

import click
from flask import g
from flask.cli import AppGroup, with_appcontext

from app.core.node import CODE_PATTERNS, this_node
from app.sync import client, peers, services

nodes_cli = AppGroup("nodes", help="Downstream nodes enrolled on this node.")
upstream_cli = AppGroup("upstream", help="Where this node syncs to.")


@nodes_cli.command("enroll")
@click.option("--code", required=True)
@click.option("--name", required=True)
def nodes_enroll(code, name):
    """Register a downstream node and print its token (shown this once only)."""
    node = this_node()
    if node is None:
        raise click.UsageError("this node is not set up: run `flask node init` first")
    if not any(p.match(code) for p in CODE_PATTERNS.values()) or code == node.code \
            or not (code.startswith(node.code) and len(code) > len(node.code)):
        raise click.BadParameter(f"{code} is not a node below {node.code}", param_hint="--code")
    g.actor = "cli"
    peer, token = peers.enroll(code, name.strip())
    click.echo(f"enrolled {peer.code} {peer.name}")
    click.echo(f"token (shown once; give it to the node's admin): {token}")


@nodes_cli.command("revoke")
@click.option("--code", required=True)
def nodes_revoke(code):
    """Revoke a downstream node's token; `enroll` again gives it a new one."""
    if peers.revoke(code) is None:
        raise click.BadParameter(f"no enrolled node {code}", param_hint="--code")
    click.echo(f"revoked {code}")


@nodes_cli.command("list")
def nodes_list():
    for peer in peers.all_peers():
        state = "revoked" if peer.revoked_at else "active"
        click.echo(f"{peer.code}\t{peer.name}\t{state}\tlast seen {peer.last_seen_at or '-'}")


@upstream_cli.command("set")
@click.option("--url", required=True, help="the upstream's address, e.g. http://10.0.0.5:5000")
@click.option("--token", required=True, help="the token the upstream's `nodes enroll` printed")
def upstream_set(url, token):
    parts = urllib.parse.urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter("give the address as http://host:port", param_hint="--url")
    if not token.startswith("kp1_") or len(token) < 20:
        raise click.BadParameter("this is not a Kepai token (kp1_...)", param_hint="--token")
    client.set_upstream(url, token)
    click.echo(f"upstream set: {url}")


@upstream_cli.command("show")
def upstream_show():
    settings = client.upstream()
    if settings is None:
        click.echo("no upstream set")
        return
    click.echo(f"url {settings.url}\npending {client.pending_count()}\n"
               f"held {client.held_count()}\nrefused {client.rejected_count()}\n"
               f"last success {settings.last_success_at or '-'}\nlast error {settings.last_error or '-'}")


@upstream_cli.command("resend")
def upstream_resend():
    """Queue every record of this node for sending (data loaded without an outbox)."""
    click.echo(f"queued {client.enqueue_all()} records")


@click.command("sync")
@click.option("--resend-refused", is_flag=True,
              help="first send again every operation the upstream refused")
@with_appcontext
def sync_command(resend_refused):
    """Push then pull until up to date; exit 0 when up to date, 1 with the reason if not."""
    g.actor = "sync"
    if resend_refused:
        click.echo(f"sending again {services.retry_all()} refused operations")
    try:
        run = client.sync_once("cli")
    except client.SyncError as exc:
        click.echo(f"sync failed: {exc}", err=True)
        sys.exit(1)
    click.echo(f"sent {run.sent}, applied {run.applied}, duplicates {run.duplicates}, "
               f"conflicts {run.conflicts}, held {run.held}, rejected {run.rejected}; "
               f"pulled {run.pulled}; "
               f"files {run.files_sent}; {run.requests} requests, "
               f"{run.bytes_sent} bytes sent, {run.bytes_received} received")
    left, held, rejected = client.pending_count(), client.held_count(), client.rejected_count()
    if left or held or rejected:
        click.echo(f"sync incomplete: {left} operations pending, {held} held upstream until "
                   f"what they reference arrives, {rejected} refused (the sync page says why "
                   "and what to do; `flask sync --resend-refused` sends the refused ones again)",
                   err=True)
        sys.exit(1)


def register(app):
    app.cli.add_command(nodes_cli)
    app.cli.add_command(upstream_cli)
    app.cli.add_command(sync_command)
