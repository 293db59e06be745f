"""`kevolve serve`: the review queue in a browser, deciding through the same code path as `kevolve review`."""

from __future__ import annotations

import argparse
import contextlib
import os

from rich.text import Text

from .console import console, shown
from .options import UsageError, add_cache_options
from .run_options import add_run_options, open_run_services

TOKEN_VARIABLE = "KEVOLVE_SERVE_TOKEN"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1); any other address needs a token")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--token", default=None,
                        help=f"the access token every decision must carry (default: {TOKEN_VARIABLE}; "
                             "prefer the variable: a command line is visible to every user of the machine)")
    add_run_options(parser)
    add_cache_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: the web stack is needed by this command alone, and every other command starts faster.
    from .web.app import create_app
    from .web.security import LOOPBACK_HOSTS, is_loopback
    from .web.server import server
    from .web.settings import ServeSettings

    token = args.token or os.environ.get(TOKEN_VARIABLE) or None
    loopback = is_loopback(args.host)
    if not loopback and token is None:
        raise UsageError(f"refusing to serve on {args.host} without an access token: anyone who reaches that "
                         f"address could approve kernels. Set {TOKEN_VARIABLE} (or --token), or bind 127.0.0.1")
    settings = ServeSettings(
        runs_dir=args.runs_dir, library=args.library, token=token,
        open_services=lambda task: open_run_services(task, args),
        allowed_hosts=LOOPBACK_HOSTS if loopback else None,
    )
    app = create_app(settings)
    host = f"[{args.host}]" if ":" in args.host else args.host
    console.print(Text.assemble(shown(f"reviewing the runs in {args.runs_dir} at "),
                                shown(f"http://{host}:{args.port}/", "bold"),
                                f" ({'decisions need the token' if token else 'no token: loopback only'}); "
                                "Ctrl-C stops"), highlight=False)
    with contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run: Ctrl-C is how a person stops it
        server(app, settings, host=args.host, port=args.port, log_level="info" if args.verbose else "warning").run()
    for run_id in app.state.still_running:
        console.print(shown(f"run {run_id} was still going: `kevolve optimize --resume {run_id}` continues it"),
                      highlight=False)
    return 0
