"""`revcycle serve`, `revcycle worker` and `revcycle run`: the web app, the job worker, both.

`run` is what `make run` calls: one worker as a child process and the web server in the
foreground; when the web server stops (Ctrl-C, SIGTERM) the worker is stopped too.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys

import typer

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
APP_FACTORY = "revcycle.web.app:create_app"
WORKER_STOP_TIMEOUT_S = 10.0

HostOption = typer.Option(DEFAULT_HOST, "--host", help="Address to listen on.")
PortOption = typer.Option(DEFAULT_PORT, "--port", help="Port to listen on.")
WorkersOption = typer.Option(1, "--workers", min=1, help="Worker threads.")


def serve(host: str = HostOption, port: int = PortOption) -> None:
    """Run the web app (JSON API and pages)."""
    import uvicorn

    typer.echo(f"Revcycle on http://{host}:{port}")
    uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, proxy_headers=False)


def worker(workers: int = WorkersOption) -> None:
    """Run the background job worker (Huey consumer) in the foreground."""
    from revcycle.tasks import huey

    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    consumer = huey.create_consumer(workers=workers, worker_type="thread")
    consumer.run()


def run(host: str = HostOption, port: int = PortOption) -> None:
    """Run the web app and one worker; stopping the web app stops the worker."""
    # Our own interpreter and module, no shell.
    child = subprocess.Popen(
        [sys.executable, "-m", "revcycle", "worker", "--workers", "1"], env=os.environ.copy()
    )
    try:
        serve(host=host, port=port)
    finally:
        _stop(child)


def _stop(child: subprocess.Popen[bytes]) -> None:
    """Ask the worker to finish its current task (SIGINT), then insist."""
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGINT)
    try:
        child.wait(timeout=WORKER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("serve")(serve)
    app.command("worker")(worker)
    app.command("run")(run)
