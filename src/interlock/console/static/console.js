// The console's pages: each fetches its JSON endpoint and builds the DOM. Text goes in with textContent.
"use strict";

const {lineChart, barChart} = window.interlockCharts;
const content = document.getElementById("content");
const statusLine = document.getElementById("status");
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const params = new URLSearchParams(location.search);
let justCreated = null;
let lastData = null;
let pending = false;  // the page showed a placeholder and will draw itself again shortly  // the page's data, for notes every page shows (the rollup still catching up)  // the key made by the form, kept only until the page is drawn again

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function usd(v) {
  if (v === null || v === undefined) return "–";
  const a = Math.abs(v);
  if (a >= 100) return "$" + v.toLocaleString("en-US", {maximumFractionDigits: 0});
  if (a >= 1 || a === 0) return "$" + v.toFixed(2);
  return "$" + v.toFixed(Math.min(10, 2 - Math.floor(Math.log10(a)))).replace(/0+$/, "");  // three significant digits
}
const num = (v) => (v === null || v === undefined ? "–" : Number(v).toLocaleString("en-US"));
const pct = (v) => (v === null || v === undefined ? "–" : (100 * v).toFixed(1) + "%");
const ms = (v) => (v === null || v === undefined ? "–" : Math.round(v) + " ms");

async function api(path, options) {
  const init = {credentials: "same-origin", headers: {accept: "application/json"}};
  if (options && options.method) {
    init.method = options.method;
    init.headers["x-csrf-token"] = csrf;
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(options.body || {});
  }
  const response = await fetch(path, init);
  lastData = null;
  if (response.status === 401) { location.href = "/console/login"; throw new Error("signed out"); }
  const data = await response.json();
  if (!response.ok) throw new Error((data.error && data.error.message) || response.statusText);
  if (!init.method) lastData = data;
  return data;
}

function table(columns, rows, attrs) {
  const head = el("tr", null, columns.map(([label]) => el("th", {scope: "col"}, label)));
  const body = rows.map((row) => el("tr", null, columns.map(([, cell]) => el("td", null, cell(row)))));
  return el("table", attrs, el("thead", null, head), el("tbody", null, body));
}

function cards(items) {
  return el("div", {class: "cards"}, items.map(([label, value, note]) =>
    el("div", {class: "card"}, el("span", {class: "label"}, label), el("strong", null, value), note ? el("small", null, note) : null)));
}

function windowPicker(extra) {
  const days = params.get("days") || "7";
  const select = el("select", {name: "days", "aria-label": "window", onchange: (e) => reload({days: e.target.value})},
    [["1", "last 24 hours"], ["7", "last 7 days"], ["30", "last 30 days"]].map(([v, label]) => el("option", {value: v, selected: v === days}, label)));
  return el("div", {class: "controls"}, select, extra || null);
}

function reload(changes) {
  for (const [k, v] of Object.entries(changes)) params.set(k, v);
  history.replaceState(null, "", "?" + params.toString());
  render();
}

function note(text, kind) { return el("p", {class: kind || "note"}, text); }
function query() { return "?" + new URLSearchParams({days: params.get("days") || "7", by: params.get("by") || "team"}); }

const PAGES = {
  async overview() {
    const d = await api("/console/api/overview" + query());
    if (!d.ledger) return [note("The usage ledger is off (accounting.ledger: false, or no database): there is nothing to chart.", "warning")];
    const by = d.by;
    const picker = el("select", {name: "by", "aria-label": "group by", onchange: (e) => reload({by: e.target.value})},
      ["team", "key", "model", "route", "category", "deployment"].map((g) => el("option", {value: g, selected: g === by}, "by " + g)));
    const t = d.totals;
    const saved = t.baseline_cost_usd ? t.savings_usd / t.baseline_cost_usd : null;
    const p = d.projection;
    const projection = p.available
      ? note(`At this window's cost per call (${usd(p.cost_per_call_usd)} vs ${usd(p.baseline_per_call_usd)} all-frontier), ${num(p.calls)} calls cost ${usd(p.cost_usd)} instead of ${usd(p.baseline_cost_usd)}: ${usd(p.savings_usd)} saved (${pct(p.savings_fraction)}).`, "projection")
      : note("No priced requests in this window: no projection.");
    const point = (key) => d.series.map((s) => ({t: s.t, y: s[key]}));
    const groups = Object.entries(d.group_series).map(([name, pts]) => ({name: name || "(none)", points: pts.map((x) => ({t: x.t, y: x.cost_usd}))}));
    return [
      windowPicker(picker),
      cards([["requests", num(t.requests), `${num(t.errors)} errors`], ["spend", usd(t.cost_usd), `${num(t.unpriced)} unpriced`],
             ["baseline spend", usd(t.baseline_cost_usd), "all-frontier"], ["savings", usd(t.savings_usd), pct(saved)]]),
      el("section", {id: "projection"}, el("h2", null, `Projection to ${num(p.calls)} calls`), projection),
      lineChart(`Spend and baseline spend per ${d.bucket} (USD)`, [{name: "spend", points: point("cost_usd")}, {name: "baseline", points: point("baseline_cost_usd")}, {name: "savings", points: point("savings_usd")}], usd),
      lineChart(`Requests per ${d.bucket}`, [{name: "requests", points: point("requests")}, {name: "errors", points: point("errors")}], num),
      groups.length ? lineChart(`Spend by ${by} (top ${groups.length})`, groups, usd) : null,
      d.groups.length ? barChart(`Savings by ${by} (USD)`, d.groups.map((g) => ({label: g.value || "(none)", value: Math.max(0, g.savings_usd)})), usd) : null,
      table([[by, (g) => g.value || "(none)"], ["requests", (g) => num(g.requests)], ["errors", (g) => num(g.errors)],
             ["spend", (g) => usd(g.cost_usd)], ["baseline", (g) => usd(g.baseline_cost_usd)], ["savings", (g) => usd(g.savings_usd)],
             ["mean latency", (g) => ms(g.latency_ms_mean)]], d.groups, {id: "groups"}),
    ];
  },

  async routing() {
    const d = await api("/console/api/routing" + query());
    const out = [windowPicker()];
    const policy = d.policy;
    out.push(el("h2", null, "Policy in force"));
    if (!policy) out.push(note("No calibrated policy (routing.policy is unset): the shipped quality priors rank the models. `interlock calibrate` writes one."));
    else {
      out.push(note(`${policy.path} · version ${policy.version} · generated ${policy.generated_at} · quality target ${pct(policy.target)} of ${policy.baseline} · expected savings ${pct(policy.expected.savings_fraction)}`));
      const shares = (m) => Object.entries(m || {}).map(([k, v]) => `${k} ${pct(v)}`).join(", ") || "–";
      out.push(table([["task", (t) => t.task], ["rule", (t) => t.rule], ["promised mix", (t) => shares(t.models)],
        ["promised quality", (t) => `${t.quality.value.toFixed(3)} [${t.quality.low.toFixed(3)}, ${t.quality.high.toFixed(3)}]`],
        ["floor", (t) => t.floor.toFixed(3)], ["promised cost/req", (t) => usd(t.cost_per_request_usd.value)],
        ["realized cost/req", (t) => usd(t.realized && t.realized.cost_per_request_usd)], ["requests", (t) => num(t.realized && t.realized.requests)],
        ["realized mix", (t) => shares(t.realized && t.realized.shares)]], policy.tasks, {id: "policy"}));
      out.push(note("Live quality is not measured per request; `interlock policy simulate` replays held-out results to check the quality promise."));
    }
    if (!d.ledger) return out.concat(note("The usage ledger is off: no decisions to show.", "warning"));
    const total = d.models.reduce((a, m) => a + m.requests, 0) || 1;
    out.push(el("h2", null, "Share of traffic per model"));
    out.push(d.models.length ? barChart("Requests per model", d.models.map((m) => ({label: `${m.value} (${pct(m.requests / total)})`, value: m.requests})), num) : note("No requests in this window."));
    out.push(el("h2", null, "Recent decisions"));
    out.push(table([["time", (r) => el("span", {class: "nowrap", title: r.ts}, (r.ts || "").slice(5, 19).replace("T", " "))], ["request", (r) => (r.request_id || "").slice(0, 12)],
      ["key", (r) => r.key_id || "–"], ["route", (r) => r.route || "–"], ["category", (r) => r.category || "–"],
      ["model", (r) => r.model], ["deployment", (r) => r.deployment || "–"], ["reason", (r) => r.decision_reason || "–"],
      ["status", (r) => r.status], ["cost", (r) => usd(r.cost_usd)], ["latency", (r) => ms(r.latency_ms)]], d.recent, {id: "decisions"}));
    return out;
  },

  async deployments() {
    const d = await api("/console/api/deployments" + query());
    const state = (r) => (r.preflight ? r.preflight.status : "–");
    const out = [windowPicker(), cards([["ready", d.ready === null ? "–" : d.ready ? "yes" : "NO"], ["deployments", num(d.deployments.length)]])];
    out.push(table([["deployment", (r) => r.name], ["model", (r) => r.model + (r.version ? "@" + r.version : "")],
      ["perimeter", (r) => r.perimeter], ["region", (r) => r.region || "–"], ["preflight", state],
      ["breaker", (r) => r.breaker || "–"], ["in flight", (r) => num(r.in_flight)], ["error rate", (r) => pct(r.error_rate)],
      ["p50", (r) => ms(r.latency_p50_ms)], ["p95", (r) => ms(r.latency_p95_ms)], ["requests", (r) => num(r.requests)],
      ["errors", (r) => num(r.errors)], ["lifecycle", (r) => r.lifecycle]], d.deployments, {id: "deployments"}));
    out.push(barChart("Requests per deployment (ledger, window)", d.deployments.map((r) => ({label: r.name, value: r.requests})), num));
    const timed = d.deployments.filter((r) => r.latency_p95_ms !== null);
    if (timed.length) out.push(barChart("Latency p95 (this process, recent)", timed.map((r) => ({label: r.name, value: r.latency_p95_ms})), ms));
    out.push(el("h2", null, "Versions and canaries"));
    out.push(d.aliases.length ? table([["alias", (a) => a.name], ["targets", (a) => a.targets.map((t) => `${t.model} ${pct(t.share)}`).join(", ")],
      ["shadow", (a) => (a.shadow ? `${a.shadow.model} (${pct(a.shadow.share)} mirrored)` : "–")], ["sticky", (a) => a.sticky],
      ["fallbacks", (a) => a.fallbacks.join(", ") || "–"]], d.aliases, {id: "aliases"}) : note("No aliases configured."));
    if (d.shadows.length) out.push(table([["alias", (s) => s.alias], ["compared", (s) => num(s.compared)], ["exact agreement", (s) => pct(s.exact_agreement)],
      ["scored agreement", (s) => pct(s.scored_agreement)], ["primary p50", (s) => ms(s.primary.latency_p50_ms)], ["shadow p50", (s) => ms(s.shadow.latency_p50_ms)],
      ["shadow errors", (s) => num(s.shadow.errors)]], d.shadows, {id: "shadows"}));
    out.push(el("h2", null, "Deprecations"));
    out.push(d.lifecycle.length ? table([["version", (e) => e.model], ["state", (e) => e.state], ["deprecated after", (e) => e.deprecated_after || "–"],
      ["sunset", (e) => e.sunset || "–"], ["successor", (e) => e.successor || "–"]], d.lifecycle, {id: "lifecycle"}) : note("No lifecycle entries."));
    return out;
  },

  async keys() {
    const d = await api("/console/api/keys");
    if (!d.database) return [note("This gateway has no key database (server.auth and accounting.ledger are off).", "warning")];
    const secret = el("div", {id: "new-key", "aria-live": "polite"});
    const form = el("form", {id: "create-key", class: "inline-form", onsubmit: async (e) => {
      e.preventDefault();
      const data = Object.fromEntries(new FormData(e.target).entries());
      try {
        justCreated = await api("/console/api/keys", {method: "POST", body: data});
        await render();
      } catch (err) { secret.replaceChildren(note(err.message, "error")); }
    }},
      el("label", null, "team ", el("input", {name: "team", required: true})),
      el("label", null, "budget (USD) ", el("input", {name: "budget_usd", inputmode: "decimal", size: 8})),
      el("label", null, "period ", el("select", {name: "period"}, el("option", {value: "month"}, "month"), el("option", {value: "day"}, "day"))),
      el("label", null, "rpm ", el("input", {name: "rpm", inputmode: "numeric", size: 6})),
      el("label", null, "tpm ", el("input", {name: "tpm", inputmode: "numeric", size: 8})),
      el("label", null, "models ", el("input", {name: "models", placeholder: "all", size: 18})),
      el("button", {type: "submit"}, "Create key"));
    const created = justCreated;
    justCreated = null;  // shown once: the next render forgets it
    if (created) secret.replaceChildren(el("p", {class: "secret"}, `New key ${created.key_id} for ${created.team} — copy it now, it is not shown again: `, el("code", {id: "secret"}, created.secret)));
    // Two clicks: the first asks, the second revokes (clients using the key get 401 within a second).
    const revoke = (k) => (k.active ? el("button", {class: "revoke", "data-key": k.key_id, onclick: async (e) => {
      if (e.target.dataset.armed !== "true") { e.target.dataset.armed = "true"; e.target.textContent = "Confirm revoke"; return; }
      try { await api(`/console/api/keys/${encodeURIComponent(k.key_id)}/revoke`, {method: "POST"}); await render(); }
      catch (err) { secret.replaceChildren(note(err.message, "error")); }
    }}, "Revoke") : "revoked");
    const active = d.keys.filter((k) => k.active);
    const out = [d.auth ? null : note("server.auth is off: clients need no key; keys made here take effect when it is on.", "warning"), form, secret];
    out.push(table([["key", (k) => k.key_id], ["team", (k) => k.team], ["hint", (k) => k.hint], ["budget", (k) => (k.budget_usd === null ? "none" : `${usd(k.budget_usd)}/${k.period}`)],
      ["spent this period", (k) => usd(k.spent_usd)], ["burn/hour (24h)", (k) => usd(k.burn_per_hour_usd)], ["exhaustion", (k) => k.exhaustion],
      ["models", (k) => k.models.join(", ") || "all"], ["rpm", (k) => num(k.rpm)], ["", revoke]], d.keys, {id: "keys"}));
    if (active.length) out.push(barChart("Spend this period per active key", active.map((k) => ({label: `${k.key_id} (${k.team})`, value: k.spent_usd})), usd));
    if (d.teams.length) out.push(el("h2", null, "Team budgets"), table([["team", (t) => t.team], ["budget", (t) => (t.budget_usd === null ? "none" : `${usd(t.budget_usd)}/${t.period}`)],
      ["spent", (t) => usd(t.spent_usd)], ["burn/hour", (t) => usd(t.burn_per_hour_usd)], ["exhaustion", (t) => t.exhaustion]], d.teams, {id: "teams"}));
    return out;
  },

  async compliance() {
    const d = await api("/console/api/compliance" + query());
    if (d.counting) {
      pending = true;
      setTimeout(() => { if (document.body.dataset.page === "compliance") render(); }, 1000);
      return [note(`Counting the audit log (${d.audit_log}) once after the gateway started…`, "warning")];
    }
    const result = el("div", {id: "verify-result", "aria-live": "polite"});
    const verify = el("button", {id: "verify", onclick: async () => {
      result.replaceChildren(note("verifying the chain…"));
      try {
        const v = await api("/console/api/audit/verify", {method: "POST"});
        result.replaceChildren(note(v.ok ? `Chain intact: ${num(v.records_checked)} records verified.` : `Chain BROKEN: ${v.problem}`, v.ok ? "ok" : "error"));
      } catch (err) { result.replaceChildren(note(err.message, "error")); }
    }}, "Verify the audit chain");
    const out = [windowPicker(), note(d.log_prompts ? "server.log_prompts is on: prompt text goes to the logs (never to this console)." : "Prompt text is never shown here, and is not logged (server.log_prompts is off).")];
    if (!d.available) return out.concat(note(`No audit log at ${d.audit_log} yet.`, "warning"));
    const a = d.actions;
    out.push(cards([["audit records", num(d.records)], ["refused", num((a.refuse || 0) + (a.block || 0))], ["redacted", num(a.redact || 0)], ["kept inside", num(a.route || 0)], ["allowed", num(a.allow || 0)]]));
    out.push(el("div", {class: "controls"}, verify, result));
    out.push(table([["data class", (c) => c.data_class], ["refused", (c) => num((c.refuse || 0) + (c.block || 0))], ["redacted", (c) => num(c.redact || 0)],
      ["kept inside", (c) => num(c.route || 0)], ["allowed", (c) => num(c.allow || 0)], ["total", (c) => num(c.total)]], d.classes, {id: "classes"}));
    if (d.classes.length) out.push(barChart("Requests per data class (window)", d.classes.map((c) => ({label: c.data_class, value: c.total})), num));
    return out;
  },

  async evaluations() {
    const d = await api("/console/api/evaluations");
    const message = el("div", {id: "eval-message", "aria-live": "polite"});
    const form = el("form", {id: "launch-eval", class: "inline-form", onsubmit: async (e) => {
      e.preventDefault();
      const data = new FormData(e.target);
      try { await api("/console/api/evaluations", {method: "POST", body: {suite: data.get("suite"), models: data.getAll("models")}}); await render(); }
      catch (err) { message.replaceChildren(note(err.message, "error")); }
    }},
      el("label", null, "suite ", el("select", {name: "suite"}, d.suites.map((s) => el("option", {value: s}, s)))),
      el("fieldset", null, el("legend", null, "models"), d.models.map((m) => el("label", {class: "check"}, el("input", {type: "checkbox", name: "models", value: m}), " " + m))),
      el("button", {type: "submit"}, "Run evaluation"));
    const running = d.runs.find((r) => r.status === "running");
    const out = [note(`Runs a suite through this gateway (at most ${num(d.max_calls)} calls, one run at a time); spend is recorded in the ledger like any traffic.`), form, message];
    if (running) {
      out.push(el("div", {id: "progress"}, el("progress", {max: running.total || 1, value: running.done}), ` ${running.done} / ${running.total || "?"} (${running.failed} failed) `,
        el("button", {onclick: async () => { await api(`/console/api/evaluations/${running.run_id}/cancel`, {method: "POST"}); await render(); }}, "Cancel")));
      setTimeout(() => { if (document.body.dataset.page === "evaluations") render(); }, 1000);
    }
    out.push(d.runs.length ? table([["run", (r) => r.run_id], ["suite", (r) => r.suite || "–"], ["models", (r) => (r.models || []).join(", ") || "–"],
      ["status", (r) => r.status + (r.error ? ` (${r.error})` : "")], ["progress", (r) => (r.total ? `${r.done}/${r.total}` : "–")],
      ["results", (r) => (r.summary || []).map((s) => `${s.model}: ${s.mean_score === null ? "–" : s.mean_score.toFixed(2)}`).join("; ") || "–"],
      ["report", (r) => (r.report ? el("a", {href: `/console/evaluations/${r.run_id}/report`, target: "_blank", rel: "noopener"}, "open") : "–")]], d.runs, {id: "runs"}) : note("No evaluations yet."));
    return out;
  },
};

async function render() {
  const name = document.body.dataset.page;
  const started = performance.now();
  statusLine.textContent = "loading…";
  pending = false;
  try {
    const nodes = await PAGES[name]();
    if (lastData && lastData.rollup_complete === false) {
      nodes.unshift(note("Older ledger records are still being rolled up (once, after an upgrade): totals leave them out until that ends.", "warning"));
    }
    content.replaceChildren(...nodes.filter((n) => n));
    statusLine.textContent = `loaded in ${Math.round(performance.now() - started)} ms`;
    document.body.dataset.ready = pending ? "pending" : "true";
  } catch (err) {
    content.replaceChildren(note(`Could not load this page: ${err.message}`, "error"));
    statusLine.textContent = "failed";
    document.body.dataset.ready = "error";
  }
}

render();
