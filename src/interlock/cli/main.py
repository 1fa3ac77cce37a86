"""Entry point of the ``interlock`` command: sub-commands are mounted here, implemented in their modules."""

from __future__ import annotations

import typer

from interlock import __version__
from interlock.cli.audit_cmd import audit_app
from interlock.cli.config_cmd import config_app
from interlock.cli.costs_cmd import costs_app
from interlock.cli.eval_cmd import evaluate
from interlock.cli.keys import keys_app
from interlock.cli.calibrate_cmd import calibrate_command
from interlock.cli.policy_cmd import policy_app
from interlock.cli.report_cmd import report_app
from interlock.cli.route_cmd import route
from interlock.cli.serve_cmd import serve
from interlock.cli.spend_cmd import spend
from interlock.cli.versions_cmd import add_config_commands, versions_app

app = typer.Typer(help="interlock: route each request to the cheapest model that is good enough.", no_args_is_help=True)
app.command("serve")(serve)
app.command("route")(route)
app.command("eval")(evaluate)
app.command("calibrate")(calibrate_command)
app.command("spend")(spend)
app.add_typer(config_app, name="config")
app.add_typer(keys_app, name="keys")
app.add_typer(costs_app, name="costs")
app.add_typer(report_app, name="report")
app.add_typer(policy_app, name="policy")
app.add_typer(audit_app, name="audit")
app.add_typer(versions_app, name="versions")
add_config_commands(config_app)


def _print_version(value: bool) -> None:
    if value:
        print(__version__)
        raise typer.Exit()


@app.callback()
def _global_options(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="print the version and exit"),
) -> None:
    """interlock: route each request to the cheapest model that is good enough."""


@app.command("version")
def version() -> None:
    """Print the version."""
    print(__version__)


if __name__ == "__main__":
    app()
