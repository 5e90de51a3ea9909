"""``fieldsync send-notifications``: send the queued customer notifications through the sender adapter."""

from __future__ import annotations

import click


@click.command("send-notifications")
@click.option("--limit", default=200, show_default=True, help="most messages to try in this run")
@click.option("--max-attempts", default=5, show_default=True, help="give a message up after this many failures")
def send_notifications(limit: int, max_attempts: int) -> None:
    """Send queued notifications (demo: the recording sender marks them sent and prints them)."""
    from server import create_app
    from server.notifications.service import RecordingSender, dispatch_notifications

    app = create_app()
    sender = RecordingSender()
    with app.app_context():
        summary = dispatch_notifications(sender, limit=limit, max_attempts=max_attempts)
    for message in sender.sent:
        click.echo(f"{message.channel} → {message.recipient}: {message.body}")
    click.echo(f"sent {summary.sent}, will retry {summary.retrying}, given up {summary.failed}")
