"""The console's HTTP layer: sign-in, page shells, JSON data endpoints and the few actions.

Handlers parse, check the session (and CSRF for POSTs), call the data functions in a worker
thread and render. ``mount()`` is what the app includes at ``/console``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from interlock.console import auth, evals, fleet_data, pages, usage_data
from interlock.console.audit_counts import AuditCounts
from interlock.console.auth import Session
from interlock.console.rollup import RollupBackfill

if TYPE_CHECKING:
    from interlock.gateway.runtime import Runtime
    from interlock.storage.database import Database

STATIC = Path(__file__).parent / "static"
MAX_FORM_BYTES = 16 * 1024
Handler = Callable[[Request, Session], Awaitable[Response]]


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status, headers=pages.SECURITY_HEADERS)


def _error(message: str, status: int, code: str) -> JSONResponse:
    return _json({"error": {"message": message, "code": code}}, status)


def _runtime(request: Request) -> Runtime:
    return request.app.state.interlock.runtime  # type: ignore[no-any-return]


def _db(request: Request) -> Database | None:
    return _runtime(request).metering.db


def _model_names(runtime: Runtime) -> set[str]:
    """What an evaluation may name: catalog models, aliases, routes and ``auto``."""
    config = runtime.config
    return (
        {d.model for d in config.deployments}
        | {a.name for a in config.aliases}
        | {r.name for r in config.routes}
        | {"auto"}
    )


def _days(request: Request) -> int:
    raw = request.query_params.get("days", "7")
    return int(raw) if raw in ("1", "7", "30", "90") else 7


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        raise ValueError("the request body is too large")
    if request.headers.get("content-type", "").startswith("application/json"):
        data = json.loads(raw or b"{}")
        if not isinstance(data, dict):
            raise ValueError("send a JSON object")
        return data
    return {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}


class Console:
    def __init__(self) -> None:
        self.evals = evals.EvalRuns()
        self.rollup = RollupBackfill()
        self.audit = AuditCounts()
        self._counting: asyncio.Future[int] | None = None

    # -- sign-in and page shells ----------------------------------------------------------
    async def login_form(self, request: Request) -> Response:
        env, key = auth.admin_key(request)
        if key is None:
            return pages.disabled(env)
        if auth.session_of(request, key) is not None:
            return RedirectResponse("/console/overview", 303)
        return pages.login()

    async def login(self, request: Request) -> Response:
        env, key = auth.admin_key(request)
        if key is None:
            return pages.disabled(env)
        if not auth.same_origin(request):
            return pages.login("This sign-in came from another site and was refused.", 403)
        try:
            presented = str((await _body(request)).get("admin_key") or "")
        except ValueError:
            presented = ""
        if not auth.login_ok(presented, key):
            await asyncio.sleep(0.5)  # slows guessing; the key is long anyway
            return pages.login("That is not the admin key.", 401)
        response = RedirectResponse("/console/overview", 303)
        auth.issue_cookie(response, request, key)
        return response

    async def logout(self, request: Request) -> Response:
        response = RedirectResponse("/console/login", 303)
        auth.clear_cookie(response)
        return response

    async def page(self, request: Request) -> Response:
        env, key = auth.admin_key(request)
        if key is None:
            return pages.disabled(env)
        name = request.path_params.get("page", "overview")
        if name not in pages.PAGES:
            return Response("No such console page.", 404, media_type="text/plain")
        session = auth.session_of(request, key)
        if session is None:
            return RedirectResponse("/console/login", 303)
        return pages.page(name, session.csrf_token, _runtime(request).config_hash)

    # -- the guard around every data endpoint and action -----------------------------------
    def guarded(self, handler: Handler, *, writes: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            env, key = auth.admin_key(request)
            if key is None:
                return _error(f"The console is disabled: set {env} to a secret.", 403, "console_disabled")
            session = auth.session_of(request, key)
            if session is None:
                return _error(
                    "Sign in at /console/login (or send the admin key as a Bearer token).",
                    401,
                    "not_signed_in",
                )
            if writes and not auth.csrf_ok(request, session):
                return _error("Missing or wrong CSRF token, or a cross-site request.", 403, "csrf")
            try:
                return await handler(request, session)
            except ValueError as exc:
                return _error(str(exc), 400, "invalid_request")

        return endpoint

    async def _ledger(self, request: Request) -> tuple[Database | None, bool]:
        """The ledger's database (None when the ledger is off) and whether the rollup covers it all."""
        db = _db(request)
        if db is not None and _runtime(request).config.accounting.ledger:
            return db, await self.rollup.ensure(db)
        return None, True

    # -- data ------------------------------------------------------------------------------
    async def overview_data(self, request: Request, _s: Session) -> Response:
        db, complete = await self._ledger(request)
        if db is None:
            return _json({"ledger": False})
        by = request.query_params.get("by", "team")
        if by not in usage_data.GROUPS:
            raise ValueError(f"by must be one of {', '.join(usage_data.GROUPS)}")
        data = await asyncio.to_thread(usage_data.overview, db, days=_days(request), by=by)
        return _json({"ledger": True, "rollup_complete": complete, **data})

    async def routing_data(self, request: Request, _s: Session) -> Response:
        db, complete = await self._ledger(request)
        data = await asyncio.to_thread(usage_data.routing, _runtime(request), db, days=_days(request))
        return _json({"rollup_complete": complete, **data})

    async def deployments_data(self, request: Request, _s: Session) -> Response:
        db, complete = await self._ledger(request)
        data = await asyncio.to_thread(fleet_data.deployments, _runtime(request), db, days=_days(request))
        return _json({"rollup_complete": complete, **data})

    async def keys_data(self, request: Request, _s: Session) -> Response:
        db = _db(request)
        if db is None:
            return _json({"database": False})
        _, complete = await self._ledger(request)
        data = await asyncio.to_thread(usage_data.keys, _runtime(request), db)
        return _json({"database": True, "rollup_complete": complete, **data})

    async def compliance_data(self, request: Request, _s: Session) -> Response:
        runtime, days = _runtime(request), _days(request)
        path = fleet_data.audit_path(runtime)
        if path.exists() and not self.audit.counted(path):
            # The first count reads the whole log: in the background; a small log is done at once.
            if self._counting is None or self._counting.done():
                self._counting = asyncio.ensure_future(asyncio.to_thread(self.audit.refresh, path))
            await asyncio.wait({self._counting}, timeout=0.1)
            if not self._counting.done():
                return _json({"counting": True, "days": days, "audit_log": str(path)})
            self._counting.exception()  # a failure is retried by the next load, and raised below
        data = await asyncio.to_thread(fleet_data.compliance, runtime, self.audit, days=days)
        return _json(data)

    async def evaluations_data(self, request: Request, _s: Session) -> Response:
        names = sorted(_model_names(_runtime(request)))
        listed = {r.run_id: r.to_dict() for r in self.evals.runs.values()}
        if evals.runs_dir().is_dir():
            for folder in sorted(evals.runs_dir().iterdir(), reverse=True):
                if folder.name not in listed and (folder / "report.html").is_file():
                    listed[folder.name] = {
                        "run_id": folder.name,
                        "status": "done",
                        "report": True,
                        "started_at": folder.stat().st_mtime,
                    }
        runs = sorted(listed.values(), key=lambda r: -float(r.get("started_at") or 0))
        return _json(
            {"suites": sorted(evals.suites()), "models": names, "runs": runs, "max_calls": evals.MAX_CALLS}
        )

    # -- actions ---------------------------------------------------------------------------
    async def create_key(self, request: Request, _s: Session) -> Response:
        db = _db(request)
        if db is None:
            return _error(
                "This gateway has no key database (auth and the ledger are off).", 409, "no_database"
            )
        created = await asyncio.to_thread(usage_data.create_key, db, await _body(request))
        return _json(created, 201)

    async def revoke_key(self, request: Request, _s: Session) -> Response:
        db = _db(request)
        if db is None:
            return _error("This gateway has no key database.", 409, "no_database")
        from interlock.accounting.keys import SqlKeyStore

        key_id = request.path_params["key_id"]
        if not await asyncio.to_thread(SqlKeyStore(db).revoke, key_id):
            return _error(f"No active key {key_id!r}.", 404, "not_found")
        return _json({"key_id": key_id, "revoked": True})

    async def verify_audit(self, request: Request, _s: Session) -> Response:
        return _json(await asyncio.to_thread(fleet_data.verify_audit, _runtime(request)))

    async def launch_eval(self, request: Request, _s: Session) -> Response:
        body = await _body(request)
        models = body.get("models") or []
        if isinstance(models, str):
            models = [m.strip() for m in models.split(",")]
        runtime = _runtime(request)
        base_url = f"{request.url.scheme}://{request.url.netloc}"
        run = await self.evals.launch(
            str(body.get("suite") or ""),
            [str(m) for m in models],
            known=_model_names(runtime),
            base_url=base_url,
            db=runtime.metering.db,
            auth=runtime.config.server.auth,
        )
        return _json(run.to_dict(), 202)

    async def eval_status(self, request: Request, _s: Session) -> Response:
        run = self.evals.runs.get(request.path_params["run_id"])
        return _json(run.to_dict()) if run else _error("No such evaluation run.", 404, "not_found")

    async def cancel_eval(self, request: Request, _s: Session) -> Response:
        if not self.evals.cancel(request.path_params["run_id"]):
            return _error("No running evaluation with that id.", 404, "not_found")
        return _json({"cancelled": True})

    async def eval_report(self, request: Request, _s: Session) -> Response:
        path = evals.report_file(request.path_params["run_id"])
        if path is None:
            return _error("No report for that run.", 404, "not_found")
        # The report is self-contained (inline styles, data: images) and needs no script.
        headers = {
            **pages.SECURITY_HEADERS,
            "content-security-policy": (
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
            ),
        }
        return FileResponse(path, media_type="text/html", headers=headers)


def mount() -> Mount:
    c = Console()
    g = c.guarded
    return Mount(
        "/console",
        routes=[
            Route("/", lambda r: RedirectResponse("/console/overview", 303), methods=["GET"]),
            Route("/login", c.login_form, methods=["GET"]),
            Route("/login", c.login, methods=["POST"]),
            Route("/logout", c.logout, methods=["POST"]),
            Mount("/static", app=StaticFiles(directory=STATIC), name="console-static"),
            Route("/api/overview", g(c.overview_data), methods=["GET"]),
            Route("/api/routing", g(c.routing_data), methods=["GET"]),
            Route("/api/deployments", g(c.deployments_data), methods=["GET"]),
            Route("/api/keys", g(c.keys_data), methods=["GET"]),
            Route("/api/keys", g(c.create_key, writes=True), methods=["POST"]),
            Route("/api/keys/{key_id}/revoke", g(c.revoke_key, writes=True), methods=["POST"]),
            Route("/api/compliance", g(c.compliance_data), methods=["GET"]),
            Route("/api/audit/verify", g(c.verify_audit, writes=True), methods=["POST"]),
            Route("/api/evaluations", g(c.evaluations_data), methods=["GET"]),
            Route("/api/evaluations", g(c.launch_eval, writes=True), methods=["POST"]),
            Route("/api/evaluations/{run_id}", g(c.eval_status), methods=["GET"]),
            Route("/api/evaluations/{run_id}/cancel", g(c.cancel_eval, writes=True), methods=["POST"]),
            Route("/evaluations/{run_id}/report", g(c.eval_report), methods=["GET"]),
            Route("/{page}", c.page, methods=["GET"]),
        ],
    )
