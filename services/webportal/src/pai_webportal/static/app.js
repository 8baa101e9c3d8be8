// The web portal: one page, hash routes, the REST API (through pylon's /rest-server/) as its only backend and
// Prometheus' query API (pylon's /prometheus/api/v1/) for the charts. No library, no CDN: everything it needs
// is in this image.
import {
  JOB_STATES, PAGE_SIZE, TERMINAL_STATES, buildJob, chartGeometry, cloneName, formFieldFor, formatBytes,
  formatDuration, formatTime, jobsQuery, pageCount, percent, rangeParams, renameJobYaml, seriesOf, splitProblems,
  taskLogPath, toYaml, usage,
} from "./lib.js";

const API = "/rest-server/api/v2";
const main = document.getElementById("main");
const nav = document.getElementById("nav");
const banner = document.getElementById("banner");
let timers = [];

// ---------------------------------------------------------------- session

const session = {
  get token() { return localStorage.getItem("pai.token") || ""; },
  get user() { return localStorage.getItem("pai.user") || ""; },
  get admin() { return localStorage.getItem("pai.admin") === "true"; },
  save({ token, user, admin }, seconds) {
    localStorage.setItem("pai.token", token);
    localStorage.setItem("pai.user", user);
    localStorage.setItem("pai.admin", String(Boolean(admin)));
    // pylon's admin UIs (/yarn/, /hdfs/, /prometheus/, /alertmanager/) read the token from this cookie
    const secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = `pai_token=${encodeURIComponent(token)}; Path=/; Max-Age=${seconds}; SameSite=Strict${secure}`;
  },
  clear() {
    for (const k of ["pai.token", "pai.user", "pai.admin"]) localStorage.removeItem(k);
    document.cookie = "pai_token=; Path=/; Max-Age=0; SameSite=Strict";
  },
};

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function call(method, path, { body, type = "application/json", text = false, base = API } = {}) {
  const headers = {};
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["Content-Type"] = type;
  let resp;
  try {
    resp = await fetch(base + path, {
      method, headers, body: body === undefined ? undefined : (type.includes("json") ? JSON.stringify(body) : body),
    });
  } catch (err) {
    throw new ApiError(0, "NetworkError", `The platform cannot be reached (${err.message}).`);
  }
  if (resp.status === 401 && session.token && path !== "/authn/basic/login") {
    session.clear();
    go("#/login", "Your session has ended: log in again.");
    throw new ApiError(401, "UnauthorizedUserError", "Your session has ended.");
  }
  const raw = await resp.text();
  if (!resp.ok) {
    let code = "HttpError";
    let message = `HTTP ${resp.status}`;
    try { const e = JSON.parse(raw); code = e.code || code; message = e.message || message; } catch { /* not JSON */ }
    throw new ApiError(resp.status, code, message);
  }
  if (text) return raw;
  try { return raw ? JSON.parse(raw) : null; } catch { return raw; }
}

// ---------------------------------------------------------------- DOM helpers

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// el's children replaced by these (null, undefined and false left out, as h() does).
function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function showBanner(message, kind = "error") {
  fill(banner, message ? h("div", { class: `msg ${kind}`, role: "alert" }, message) : null);
}

function stateBadge(state) {
  return h("span", { class: `state state-${String(state || "").toLowerCase()}` }, state || "–");
}

function bar(used, total) {
  const u = usage(used, total);
  return h("span", { class: "usage" }, h("span", { class: "bar" }, h("span", { style: `width:${u.percent}%` })),
    h("span", { class: "num" }, u.text));
}

function every(ms, fn) { timers.push(setInterval(fn, ms)); }

function go(hash, message) {
  if (message) sessionStorage.setItem("pai.flash", message);
  if (location.hash === hash) route(); else location.hash = hash;
}

// ---------------------------------------------------------------- chrome

function drawNav() {
  if (!session.token) { nav.replaceChildren(); return; }
  const links = [["#/jobs", "Jobs"], ["#/submit", "Submit"], ["#/cluster", "Cluster"]];
  const admin = session.admin ? [["/yarn/", "YARN"], ["/hdfs/", "HDFS"], ["/prometheus/", "Prometheus"],
    ["/alertmanager/", "Alertmanager"]] : [];
  nav.replaceChildren(
    h("a", { class: "brand", href: "#/jobs" }, "OpenPAI"),
    ...links.map(([href, text]) => h("a", { href, class: location.hash.startsWith(href) ? "active" : "" }, text)),
    ...admin.map(([href, text]) => h("a", { href, class: "admin-link", target: "_blank", rel: "noopener" }, text)),
    h("span", { class: "spacer" }),
    h("span", { class: "who", id: "who" }, session.user, session.admin ? " (admin)" : ""),
    h("button", { id: "logout", class: "link", onclick: logout }, "Log out"),
  );
}

async function logout() {
  try { await call("DELETE", "/authn/basic/logout"); } catch { /* the token may be gone already */ }
  session.clear();
  go("#/login", "You are logged out.");
}

// ---------------------------------------------------------------- login

function pageLogin() {
  const error = h("p", { class: "field-error", id: "login-error", role: "alert" });
  const user = h("input", { id: "login-username", name: "username", autocomplete: "username", required: true });
  const pass = h("input", { id: "login-password", name: "password", type: "password",
    autocomplete: "current-password", required: true });
  const form = h("form", { class: "card login", id: "login-form", onsubmit: async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    try {
      const seconds = 86400;
      const answer = await call("POST", "/authn/basic/login",
        { body: { username: user.value.trim(), password: pass.value, expiration: seconds } });
      session.save(answer, seconds);
      go("#/jobs");
    } catch (err) {
      // (the server says which of the two was wrong; the page does not tell a stranger which names exist)
      error.textContent = ["NoUserError", "IncorrectPasswordError", "UnauthorizedUserError"].includes(err.code)
        ? "Wrong user name or password." : err.message;
    }
  } },
  h("h1", {}, "Log in to OpenPAI"),
  h("label", {}, "User name", user), h("label", {}, "Password", pass), error,
  h("button", { type: "submit", id: "login-submit", class: "primary" }, "Log in"));
  main.replaceChildren(form);
  user.focus();
}

// ---------------------------------------------------------------- jobs

async function userVcs() {
  if (session.admin) return Object.keys(await call("GET", "/virtual-clusters")).sort();
  const me = await call("GET", `/users/${encodeURIComponent(session.user)}`);
  return (me.virtualCluster || []).slice().sort();
}

async function pageJobs(params) {
  const filters = { state: params.get("state") || "", vc: params.get("vc") || "", user: params.get("user") || "",
    page: Number(params.get("page") || 0) };
  const vcs = await userVcs().catch(() => []);
  const apply = (change) => {
    const next = { ...filters, ...change };
    const q = new URLSearchParams();
    for (const k of ["state", "vc", "user"]) if (next[k]) q.set(k, next[k]);
    if (next.page) q.set("page", String(next.page));
    go(`#/jobs?${q}`);
  };
  const select = (id, label, value, options, key) => h("label", {}, label, h("select", {
    id, onchange: (ev) => apply({ [key]: ev.target.value, page: 0 }) },
  h("option", { value: "" }, "all"), ...options.map((o) => h("option", { value: o, selected: o === value }, o))));
  const userFilter = session.admin ? h("label", {}, "User", h("input", { id: "filter-user", value: filters.user,
    placeholder: "any", onchange: (ev) => apply({ user: ev.target.value.trim(), page: 0 }) })) : null;
  const table = h("tbody", { id: "jobs-body" });
  const pager = h("div", { class: "pager", id: "jobs-pager" });
  main.replaceChildren(h("section", { class: "card" },
    h("div", { class: "title-row" }, h("h1", {}, "Jobs"),
      h("a", { class: "button primary", href: "#/submit", id: "new-job" }, "Submit a job")),
    h("div", { class: "filters" }, select("filter-state", "State", filters.state, JOB_STATES, "state"),
      select("filter-vc", "Virtual cluster", filters.vc, vcs, "vc"), userFilter),
    h("div", { class: "scroll" }, h("table", { class: "jobs" }, h("thead", {}, h("tr", {},
      ...["Name", "User", "VC", "State", "GPUs", "Tasks", "Submitted", "Duration"].map((t) => h("th", {}, t)))),
    table)), pager));

  const load = async () => {
    const user = session.admin ? filters.user : session.user;
    const answer = await call("GET", `/jobs?${jobsQuery({ ...filters, user })}`);
    const jobs = answer.data || [];
    table.replaceChildren(...(jobs.length ? jobs.map((j) => {
      const full = `${j.username}~${j.name}`;
      return h("tr", { "data-job": full },
        h("td", {}, h("a", { href: `#/jobs/${encodeURIComponent(full)}` }, j.name)), h("td", {}, j.username),
        h("td", {}, j.virtualCluster), h("td", {}, stateBadge(j.state)), h("td", { class: "n" }, j.totalGpuNumber),
        h("td", { class: "n" }, j.totalTaskNumber), h("td", {}, formatTime(j.submissionTime)),
        h("td", {}, formatDuration(j.launchedTime || j.submissionTime, j.completedTime)));
    }) : [h("tr", {}, h("td", { colspan: 8, class: "empty" }, "No job matches."))]));
    const pages = pageCount(answer.totalCount, PAGE_SIZE);
    pager.replaceChildren(
      h("button", { id: "page-prev", disabled: filters.page <= 0, onclick: () => apply({ page: filters.page - 1 }) }, "‹ Newer"),
      h("span", {}, `page ${filters.page + 1} of ${pages} · ${answer.totalCount} jobs`),
      h("button", { id: "page-next", disabled: filters.page + 1 >= pages,
        onclick: () => apply({ page: filters.page + 1 }) }, "Older ›"));
  };
  await load();
  every(10000, () => load().catch((e) => showBanner(e.message)));
}

// ---------------------------------------------------------------- submit

const ROLE_KEYS = ["name", "instances", "cpu", "memoryMB", "gpu", "commands"];

function roleBlock(i, role) {
  const field = (key, label, attrs = {}) => h("label", { class: `f-${key}` }, label,
    key === "commands"
      ? h("textarea", { name: `role-${i}-${key}`, rows: 3, spellcheck: "false", ...attrs }, role[key] ?? "")
      : h("input", { name: `role-${i}-${key}`, value: role[key] ?? "", ...attrs }),
    h("span", { class: "field-error", "data-for": `role:${i}:${key}` }));
  return h("fieldset", { class: "role", "data-role": i }, h("legend", {}, `Task role ${i + 1}`),
    h("div", { class: "grid" }, field("name", "Name", { required: true }),
      field("instances", "Instances", { type: "number", min: 1 }), field("cpu", "CPUs", { type: "number", min: 1 }),
      field("memoryMB", "Memory (MB)", { type: "number", min: 1 }), field("gpu", "GPUs", { type: "number", min: 0 })),
    field("commands", "Commands (one per line)"));
}

async function pageSubmit(params) {
  const vcs = await userVcs().catch(() => []);
  let roles = [{ name: "main", instances: 1, cpu: 1, memoryMB: 1024, gpu: 0, commands: "" }];
  const general = h("p", { class: "field-error", "data-for": "form", id: "submit-error", role: "alert" });
  const fieldError = (key) => h("span", { class: "field-error", "data-for": key });
  const rolesBox = h("div", { id: "roles" });
  const readRoles = () => [...rolesBox.querySelectorAll("fieldset.role")].map((fs, i) =>
    Object.fromEntries(ROLE_KEYS.map((k) => [k, fs.querySelector(`[name=role-${i}-${k}]`).value])));
  const drawRoles = () => rolesBox.replaceChildren(...roles.map((r, i) => roleBlock(i, r)));
  drawRoles();

  const form = h("form", { id: "job-form", class: "tab-body", novalidate: true, onsubmit: (ev) => { ev.preventDefault(); submitForm(); } },
    h("div", { class: "grid" },
      h("label", {}, "Job name", h("input", { name: "name", id: "job-name", required: true, pattern: "[\\w.-]+" }),
        fieldError("name")),
      h("label", {}, "Virtual cluster", h("select", { name: "virtualCluster", id: "job-vc" },
        ...vcs.map((v) => h("option", { value: v, selected: v === "default" }, v))), fieldError("virtualCluster")),
      h("label", { class: "wide" }, "Docker image", h("input", { name: "image", id: "job-image", required: true,
        placeholder: "e.g. ubuntu:22.04" }), fieldError("image"))),
    rolesBox,
    h("div", { class: "actions" },
      h("button", { type: "button", id: "add-role", onclick: () => { roles = readRoles(); roles.push(
        { name: `role${roles.length + 1}`, instances: 1, cpu: 1, memoryMB: 1024, gpu: 0, commands: "" }); drawRoles(); } },
      "Add a task role"),
      h("button", { type: "button", id: "remove-role", onclick: () => { roles = readRoles(); if (roles.length > 1) {
        roles.pop(); drawRoles(); } } }, "Remove the last"),
      h("span", { class: "spacer" }),
      h("button", { type: "submit", class: "primary", id: "form-submit" }, "Submit")));

  const yamlBox = h("textarea", { id: "job-yaml", name: "yaml", rows: 24, spellcheck: "false" });
  const yamlError = h("p", { class: "field-error", "data-for": "yaml", id: "yaml-error", role: "alert" });
  const yamlForm = h("form", { id: "yaml-form", class: "tab-body hidden", onsubmit: (ev) => {
    ev.preventDefault(); submitYaml(); } },
  h("label", {}, "The job protocol (YAML, OpenPAI protocol version 2)", yamlBox), yamlError,
  h("div", { class: "actions" }, h("span", { class: "spacer" }),
    h("button", { type: "submit", class: "primary", id: "yaml-submit" }, "Submit")));

  const tab = (name) => {
    form.classList.toggle("hidden", name !== "form");
    yamlForm.classList.toggle("hidden", name !== "yaml");
    for (const b of main.querySelectorAll(".tabs button")) b.classList.toggle("active", b.dataset.tab === name);
    if (name === "yaml" && !yamlBox.value.trim()) yamlBox.value = toYaml(buildJob(readForm()));
  };
  const readForm = () => ({ name: form.name.value, virtualCluster: form.virtualCluster.value,
    image: form.image.value, roles: readRoles() });

  const clearErrors = () => { for (const e of main.querySelectorAll(".field-error")) e.textContent = ""; };
  const done = (name) => go(`#/jobs/${encodeURIComponent(`${session.user}~${name}`)}`, `Job ${name} submitted.`);

  async function submitForm() {
    clearErrors();
    const job = buildJob(readForm());
    try {
      await call("POST", "/jobs", { body: job });
      done(job.name);
    } catch (err) {
      const names = Object.keys(job.taskRoles);
      for (const p of splitProblems(err.message)) {
        const key = formFieldFor(p.field, names);
        const slot = main.querySelector(`#job-form .field-error[data-for="${key}"]`) || general;
        slot.textContent = [slot.textContent, p.field ? `${p.field}: ${p.message}` : p.message].filter(Boolean).join("; ");
      }
      if (!splitProblems(err.message).length) general.textContent = err.message;
    }
  }
  async function submitYaml() {
    clearErrors();
    const text = yamlBox.value;
    try {
      await call("POST", "/jobs", { body: text, type: "text/yaml" });
      const m = /^name:\s*["']?([^"'\s#]+)/m.exec(text);
      done(m ? m[1] : "");
    } catch (err) {
      yamlError.textContent = err.message;
    }
  }

  main.replaceChildren(h("section", { class: "card" }, h("h1", {}, "Submit a job"),
    h("div", { class: "tabs" },
      h("button", { type: "button", "data-tab": "form", id: "tab-form", class: "active", onclick: () => tab("form") }, "Form"),
      h("button", { type: "button", "data-tab": "yaml", id: "tab-yaml", onclick: () => tab("yaml") }, "YAML")),
    general, form, yamlForm));

  const clone = params.get("clone");
  if (clone) {
    const text = await call("GET", `/jobs/${encodeURIComponent(clone)}/config`, { text: true });
    const old = /^name:\s*["']?([^"'\s#]+)/m.exec(text);
    yamlBox.value = renameJobYaml(text, cloneName(old ? old[1] : clone.split("~")[1]));
    tab("yaml");
  }
}

// ---------------------------------------------------------------- job detail

async function pageJob(fullName) {
  const box = h("section", { class: "card", id: "job-detail" });
  const logBox = h("section", { class: "card hidden", id: "log-card" }, h("h2", { id: "log-title" }),
    h("pre", { id: "log-view", class: "log" }));
  main.replaceChildren(box, logBox);

  const showLog = async (path, title) => {
    logBox.classList.remove("hidden");
    logBox.querySelector("#log-title").textContent = title;
    const pre = logBox.querySelector("#log-view");
    pre.textContent = "loading…";
    try {
      pre.textContent = (await call("GET", path.replace(/^\/rest-server\/api\/v2/, ""), { text: true })) || "(empty)";
    } catch (err) { pre.textContent = err.message; }
  };

  const draw = async () => {
    const job = await call("GET", `/jobs/${encodeURIComponent(fullName)}`);
    const s = job.jobStatus || {};
    const terminal = TERMINAL_STATES.includes(s.state);
    const roles = Object.entries(job.taskRoles || {});
    fill(box,
      h("div", { class: "title-row" }, h("h1", {}, job.name), stateBadge(s.state), h("span", { class: "spacer" }),
        terminal ? null : h("button", { id: "job-stop", class: "danger", onclick: async (ev) => {
          ev.target.disabled = true;
          try { await call("PUT", `/jobs/${encodeURIComponent(fullName)}/executionType`, { body: { value: "STOP" } });
            showBanner("Stop requested.", "info"); await draw();
          } catch (err) { showBanner(err.message); ev.target.disabled = false; }
        } }, "Stop"),
        h("a", { class: "button", id: "job-clone", href: `#/submit?clone=${encodeURIComponent(fullName)}` },
          "Clone and resubmit")),
      h("dl", { class: "facts" },
        ...[["State", h("span", { id: "job-state" }, s.state)], ["User", s.username], ["Virtual cluster", s.virtualCluster],
          ["Submitted", formatTime(s.createdTime)], ["Launched", formatTime(s.appLaunchedTime)],
          ["Completed", formatTime(s.completedTime)], ["Duration", formatDuration(s.appLaunchedTime || s.createdTime, s.completedTime)],
          ["Exit code", s.appExitCode ?? "–"], ["Retries", s.retries], ["YARN application", s.appId || "–"]]
          .flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      s.appExitDiagnostics ? h("pre", { class: "diagnostics", id: "job-diagnostics" }, s.appExitDiagnostics) : null,
      ...roles.map(([role, r]) => h("div", { class: "role-status", "data-role": role }, h("h2", {}, `Task role ${role}`),
        h("div", { class: "scroll" }, h("table", {}, h("thead", {}, h("tr", {},
          ...["#", "State", "Node", "GPUs", "Exit code", "Started", "Ended", "Logs"].map((t) => h("th", {}, t)))),
        h("tbody", {}, ...(r.taskStatuses || []).map((t) => h("tr", { "data-task": `${role}-${t.taskIndex}` },
          h("td", {}, t.taskIndex), h("td", {}, stateBadge(t.taskState)),
          h("td", {}, t.containerHostname || t.containerIp || "–"), h("td", { class: "n" }, t.containerGpus ?? 0),
          h("td", { class: "n" }, t.containerExitCode ?? "–"),
          h("td", {}, formatTime(t.launchedTime)), h("td", {}, formatTime(t.completedTime)),
          h("td", {}, ...(t.containerId ? ["stdout", "stderr"].map((file) => h("a", {
            href: "#", class: `log-link log-${file}`, onclick: (ev) => {
              ev.preventDefault();
              showLog(taskLogPath(fullName, role, t.taskIndex, file), `${role} #${t.taskIndex} ${file}`);
            } }, file)) : ["–"]))))))))));
    return terminal;
  };
  const terminal = await draw();
  if (!terminal) every(5000, () => draw().then((t) => { if (t) stopTimers(); }).catch((e) => showBanner(e.message)));
}

// ---------------------------------------------------------------- cluster

const CHARTS = [
  { id: "gpu-util", title: "GPU utilisation per node (%)", yMax: 100, format: (v) => `${v}%`,
    query: "avg by (node_name) (nvidiasmi_utilization_gpu)" },
  { id: "gpu-mem", title: "GPU memory used per node", yMax: 2 ** 30, format: formatBytes,
    query: "sum by (node_name) (nvidiasmi_memory_used_bytes)" },
];

function chart(spec, answer) {
  const series = seriesOf(answer, (m) => m.node_name || "cluster");
  const g = chartGeometry(series, { width: 640, height: 200, pad: 24, padLeft: 64, yMax: spec.yMax });
  const colors = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];
  const box = h("figure", { class: "chart", "data-metric": spec.id }, h("figcaption", {}, spec.title));
  if (g.empty) { box.append(h("p", { class: "empty" }, "No data yet.")); return box; }
  const time = (t) => { const d = new Date(t * 1000); return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`; };
  box.append(svg("svg", { viewBox: "0 0 640 200", role: "img", "aria-label": spec.title },
    ...g.yTicks.map((t) => [svg("line", { x1: 64, x2: 616, y1: t.y, y2: t.y, class: "grid" }),
      svg("text", { x: 58, y: t.y + 4, "text-anchor": "end", class: "tick" }, spec.format(t.label))]),
    ...g.xTicks.map((t) => svg("text", { x: t.x, y: 194, "text-anchor": "middle", class: "tick" }, time(t.t))),
    ...g.paths.map((p, i) => svg("path", { d: p.d, class: "series", stroke: colors[i % colors.length],
      "data-points": p.points, "data-series": p.label }))),
  h("div", { class: "legend" }, ...g.paths.map((p, i) => h("span", {},
    h("i", { style: `background:${colors[i % colors.length]}` }), p.label))));
  return box;
}

async function pageCluster() {
  const vcBox = h("section", { class: "card", id: "vcs" }, h("h1", {}, "Virtual clusters"));
  const nodeBox = h("section", { class: "card", id: "nodes" }, h("h2", {}, "Nodes"));
  const chartBox = h("section", { class: "card charts", id: "charts" }, h("h2", {}, "GPUs over the last 3 hours"));
  main.replaceChildren(vcBox, nodeBox, chartBox);

  const drawVcs = async () => {
    const vcs = await call("GET", "/virtual-clusters");
    vcBox.replaceChildren(h("h1", {}, "Virtual clusters"), h("div", { class: "scroll" }, h("table", {},
      h("thead", {}, h("tr", {}, ...["VC", "Capacity", "Jobs", "Memory (MB)", "vCores", "GPUs"].map((t) => h("th", {}, t)))),
      h("tbody", {}, ...Object.entries(vcs).sort().map(([name, vc]) => h("tr", { "data-vc": name },
        h("td", {}, name), h("td", { class: "n" }, `${percent(vc.capacity)} (max ${percent(vc.maxCapacity)})`),
        h("td", { class: "n" }, `${vc.numActiveJobs} running, ${vc.numPendingJobs} waiting`),
        h("td", {}, bar(vc.resourcesUsed.memory, vc.resourcesTotal.memory)),
        h("td", {}, bar(vc.resourcesUsed.vCores, vc.resourcesTotal.vCores)),
        h("td", { class: "vc-gpu" }, bar(vc.resourcesUsed.GPUs, vc.resourcesTotal.GPUs),
          h("span", { class: "vc-gpu-total hidden" }, vc.resourcesTotal.GPUs))))))));
  };
  const yes = (v, good, bad) => (v === null || v === undefined ? h("span", { class: "unknown" }, "unknown")
    : h("span", { class: v ? "ok" : "bad" }, v ? good : bad));
  const drawNodes = async () => {
    const view = await call("GET", "/cluster/nodes");
    const rows = view.nodes.map((n) => h("tr", { "data-node": n.name },
      h("td", {}, n.name, h("div", { class: "sub" }, n.address)), h("td", {}, n.sku || "–"),
      h("td", {}, n.gpuCount ? `${n.gpuCount} × ${n.gpuModel || "GPU"}` : "none"),
      h("td", { class: "n" }, n.memoryMB ?? "–"), h("td", { class: "n" }, n.vcores ?? "–"),
      h("td", { class: "k8s" }, yes(n.kubernetes.ready, "Ready", "NotReady")),
      h("td", { class: "nm" }, n.yarn ? h("span", { class: n.yarn.state === "RUNNING" ? "ok" : "bad" }, n.yarn.state)
        : h("span", { class: "unknown" }, n.roles.includes("pai_worker") ? "no NodeManager" : "–")),
      h("td", { class: "yarn-gpu" }, n.yarn ? bar(n.yarn.gpu.used, n.yarn.gpu.total) : "–"),
      h("td", { class: "dn" }, n.hdfs.datanode ? h("span", { class: n.hdfs.datanode === "live" ? "ok" : "bad" },
        n.hdfs.datanode) : h("span", { class: "unknown" }, "–"))));
    const hdfs = view.hdfs;
    nodeBox.replaceChildren(h("h2", {}, "Nodes"), h("div", { class: "scroll" }, h("table", {},
      h("thead", {}, h("tr", {}, ...["Node", "SKU", "GPUs", "Memory (MiB)", "vCores", "Kubernetes", "NodeManager",
        "GPUs in use", "DataNode"].map((t) => h("th", {}, t)))), h("tbody", {}, ...rows))),
    h("p", { id: "hdfs-capacity" }, "HDFS: ", hdfs ? [bar(Math.round(hdfs.usedBytes / 2 ** 20), Math.round(hdfs.capacityBytes / 2 ** 20)),
      ` MiB used of the capacity; ${formatBytes(hdfs.remainingBytes)} free, ${hdfs.liveDataNodes} live and ${hdfs.deadDataNodes} dead DataNodes`]
      : "unknown"),
    ...Object.entries(view.problems || {}).map(([k, v]) => h("p", { class: "msg warn", "data-problem": k }, v)));
  };
  const drawCharts = async () => {
    const now = Date.now() / 1000;
    const answers = await Promise.all(CHARTS.map((c) => call("GET", `/query_range?${rangeParams(c.query, now)}`,
      { base: "/prometheus/api/v1" }).catch((err) => ({ error: err.message }))));
    chartBox.replaceChildren(h("h2", {}, "GPUs over the last 3 hours"), ...CHARTS.map((c, i) => (answers[i].error
      ? h("p", { class: "msg warn" }, `${c.title}: ${answers[i].error}`) : chart(c, answers[i]))));
  };
  const all = () => Promise.all([drawVcs(), drawNodes(), drawCharts()]);
  await all();
  every(30000, () => all().catch((e) => showBanner(e.message)));
}

// ---------------------------------------------------------------- router

function stopTimers() { for (const t of timers) clearInterval(t); timers = []; }

async function route() {
  stopTimers();
  const [path, query] = (location.hash.replace(/^#/, "") || "/jobs").split("?");
  const params = new URLSearchParams(query || "");
  const flash = sessionStorage.getItem("pai.flash");
  sessionStorage.removeItem("pai.flash");
  showBanner(flash || "", "info");
  if (!session.token && path !== "/login") { go("#/login"); return; }
  drawNav();
  try {
    if (path === "/login") pageLogin();
    else if (path === "/jobs" || path === "/") await pageJobs(params);
    else if (path.startsWith("/jobs/")) await pageJob(decodeURIComponent(path.slice("/jobs/".length)));
    else if (path === "/submit") await pageSubmit(params);
    else if (path === "/cluster") await pageCluster();
    else main.replaceChildren(h("section", { class: "card" }, h("h1", {}, "Not found"),
      h("p", {}, "No such page. "), h("a", { href: "#/jobs" }, "Back to the jobs")));
  } catch (err) {
    if (err.status !== 401) {
      main.replaceChildren(h("section", { class: "card" }, h("h1", {}, "Something went wrong"),
        h("p", { class: "msg error", role: "alert" }, err.message)));
    }
  }
}

window.addEventListener("hashchange", route);
window.addEventListener("unhandledrejection", (ev) => showBanner(String(ev.reason && ev.reason.message || ev.reason)));
route();
