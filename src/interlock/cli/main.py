"""Entry point of the ``interlock`` command: sub-commands are mounted here, implemented in their modules."""

from __future__ import annotations

import typer

from interlock import __version__
from interlock.cli.config_cmd import config_app
from interlock.cli.serve_cmd import serve

app = typer.Typer(help="interlock: route each request to the cheapest model that is good enough.", no_args_is_help=True)
app.command("serve")(serve)
app.add_typer(config_app, name="config")


@app.command("version")
def version() -> None:
    """Print the version."""
    print(__version__)


if __name__ == "__main__":
    app()
