"""The console's HTML: one shell per page (the script fills it from the JSON endpoints), sign-in, disabled.

Pages carry no inline script or style, so the Content-Security-Policy allows only this origin.
"""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

PAGES: dict[str, str] = {
    "overview": "Overview",
    "routing": "Routing",
    "deployments": "Deployments",
    "keys": "Keys and budgets",
    "compliance": "Compliance",
    "evaluations": "Evaluations",
}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
}


def _document(title: str, body: str, *, page: str = "", csrf: str = "", status: int = 200) -> HTMLResponse:
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="{escape(csrf)}"><title>{escape(title)} · interlock console</title>
<link rel="stylesheet" href="/console/static/console.css"><link rel="icon" href="data:,">
</head><body data-page="{escape(page)}">{body}</body></html>"""
    return HTMLResponse(html, status, headers=SECURITY_HEADERS)


def page(name: str, csrf: str, config_hash: str) -> HTMLResponse:
    current = ' aria-current="page"'
    links = "".join(
        f'<a href="/console/{key}"{current if key == name else ""}>{escape(label)}</a>'
        for key, label in PAGES.items()
    )
    body = f"""<header><strong>interlock</strong><nav>{links}</nav>
<form method="post" action="/console/logout" class="logout">
<input type="hidden" name="csrf" value="{escape(csrf)}">
<button type="submit">Sign out</button></form></header>
<main><h1>{escape(PAGES[name])}</h1><p class="meta">config <code>{escape(config_hash[:16])}</code>
<span id="status" role="status">loading…</span></p><div id="content"></div></main>
<script src="/console/static/charts.js"></script><script src="/console/static/console.js"></script>"""
    return _document(PAGES[name], body, page=name, csrf=csrf)


def login(error: str = "", status: int = 200) -> HTMLResponse:
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = f"""<main class="login"><h1>interlock console</h1>{message}
<form method="post" action="/console/login"><label>Admin key
<input type="password" name="admin_key" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button></form>
<p class="meta">The admin key is the secret in the gateway's admin key variable.</p></main>"""
    return _document("Sign in", body, status=status)


def disabled(env: str) -> HTMLResponse:
    body = f"""<main class="login"><h1>interlock console is disabled</h1>
<p>Set <code>{escape(env)}</code> in the gateway's environment to a secret and restart (or reload) it; then
sign in here with that secret. The same key opens the <code>/admin</code> endpoints.</p>
<p>The variable's name comes from <code>server.admin_key_env</code> in the config.</p></main>"""
    return _document("Disabled", body, status=403)
