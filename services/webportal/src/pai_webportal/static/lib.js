// The web portal's pure functions: no DOM, no network. app.js draws the pages
// with them; tests/js/lib.test.mjs tests them under Node (node --test).

export const JOB_STATES = ["WAITING", "RUNNING", "STOPPING", "SUCCEEDED", "FAILED", "STOPPED"];
export const TERMINAL_STATES = ["SUCCEEDED", "FAILED", "STOPPED"];
export const PAGE_SIZE = 20;

// The query string of GET /api/v2/jobs for the list's filters (newest first, paged, with the total).
export function jobsQuery({ state = "", vc = "", user = "", keyword = "", page = 0, pageSize = PAGE_SIZE } = {}) {
  const q = new URLSearchParams();
  if (state) q.set("state", state);
  if (vc) q.set("vc", vc);
  if (user) q.set("username", user);
  if (keyword) q.set("keyword", keyword);
  q.set("order", "submissionTime,DESC");
  q.set("offset", String(Math.max(0, page) * pageSize));
  q.set("limit", String(pageSize));
  q.set("withTotalCount", "true");
  return q.toString();
}

// How many pages `total` jobs fill (at least one).
export function pageCount(total, pageSize = PAGE_SIZE) {
  return Math.max(1, Math.ceil((Number(total) || 0) / pageSize));
}

// Commands of a textarea: one per line, blank lines dropped.
export function commandLines(text) {
  return String(text || "").split(/\r?\n/).map((l) => l.trimEnd()).filter((l) => l.trim() !== "");
}

function intOf(value) {
  const s = String(value ?? "").trim();
  return /^-?\d+$/.test(s) ? Number(s) : s;  // not a number: sent as is, the server names the field
}

// The job protocol (v2) of the submit form: { name, virtualCluster, image, roles: [{ name, instances, cpu,
// memoryMB, gpu, commands }] }. Numbers stay as typed when they are not integers, so that the server's
// validation (the one source of truth) names the field.
export function buildJob(form) {
  const taskRoles = {};
  for (const role of form.roles || []) {
    taskRoles[String(role.name || "").trim()] = {
      instances: intOf(role.instances),
      dockerImage: "image",
      resourcePerInstance: { cpu: intOf(role.cpu), memoryMB: intOf(role.memoryMB), gpu: intOf(role.gpu) },
      commands: commandLines(role.commands),
    };
  }
  return {
    protocolVersion: 2,
    name: String(form.name || "").trim(),
    type: "job",
    prerequisites: [{ name: "image", type: "dockerimage", uri: String(form.image || "").trim() }],
    taskRoles,
    defaults: { virtualCluster: String(form.virtualCluster || "").trim() },
    extras: { submitFrom: "webportal" },
  };
}

// The problems of an API error message ("field: problem; field: problem"), each with its field path
// ("" when the problem names none).
export function splitProblems(message) {
  return String(message || "")
    .split(/;\s+(?=[\w.[\]~-]+: )/)
    .map((p) => p.trim())
    .filter((p) => p !== "")
    .map((p) => {
      const m = /^([\w.[\]~-]+): ([\s\S]*)$/.exec(p);
      return m ? { field: m[1], message: m[2] } : { field: "", message: p };
    });
}

// The form field a protocol field path belongs to: "name", "virtualCluster", "image",
// "role:<i>:<key>" (key: name, instances, cpu, memoryMB, gpu, commands) or "form" (anything else).
export function formFieldFor(path, roleNames) {
  if (path === "name") return "name";
  if (path.startsWith("defaults.virtualCluster")) return "virtualCluster";
  if (path.startsWith("prerequisites")) return "image";
  const m = /^taskRoles(?:\.([^.[\]]+))?(?:\.(.*))?$/.exec(path);
  if (m && m[1] !== undefined) {
    const i = (roleNames || []).indexOf(m[1]);
    if (i < 0) return "form";
    const rest = m[2] || "";
    for (const key of ["instances", "commands", "dockerImage"]) {
      if (rest.startsWith(key)) return key === "dockerImage" ? "image" : `role:${i}:${key}`;
    }
    const r = /^resourcePerInstance\.(cpu|memoryMB|gpu)/.exec(rest);
    if (r) return `role:${i}:${r[1]}`;
    return `role:${i}:name`;
  }
  if (path === "taskRoles") return "role:0:name";
  return "form";
}

// A protocol's YAML text with its top-level name replaced (clone and resubmit).
export function renameJobYaml(text, newName) {
  const line = `name: ${newName}`;
  const src = String(text || "");
  return /^name:.*$/m.test(src) ? src.replace(/^name:.*$/m, line) : `${line}\n${src}`;
}

// The name of a clone: <name>-copy, then -copy2, -copy3... (the last one is counted up).
export function cloneName(name) {
  const m = /^(.*)-copy(\d*)$/.exec(name);
  if (!m) return `${name}-copy`;
  return `${m[1]}-copy${(Number(m[2]) || 1) + 1}`;
}

export function formatBytes(bytes) {
  const n = Number(bytes);
  if (!Number.isFinite(n) || n < 0) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u += 1; }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

export function formatTime(ms) {
  if (ms === null || ms === undefined || ms === "") return "–";
  const d = new Date(Number(ms));
  if (Number.isNaN(d.getTime())) return "–";
  const pad = (x) => String(x).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// "1h 02m", "3m 04s", "12s" between two epoch-ms times (the second one defaults to now).
export function formatDuration(startMs, endMs, nowMs = Date.now()) {
  if (!startMs) return "–";
  const s = Math.max(0, Math.round(((endMs || nowMs) - startMs) / 1000));
  const pad = (x) => String(x).padStart(2, "0");
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  return `${s}s`;
}

// A percentage as people read it: "70%", "30%" (YARN's 30.000002), "12.5%".
export function percent(value) {
  const n = Number(value);
  return Number.isFinite(n) ? `${Math.round(n * 10) / 10}%` : "–";
}

// Used/total as "used / total" and a 0..100 share.
export function usage(used, total) {
  const u = Number(used) || 0;
  const t = Number(total) || 0;
  return { text: `${u} / ${t}`, percent: t > 0 ? Math.min(100, Math.round((u / t) * 100)) : 0 };
}

// Prometheus query_range parameters: the last `hours`, about `points` samples.
export function rangeParams(query, nowS, hours = 3, points = 120) {
  const end = Math.floor(nowS);
  const start = end - Math.round(hours * 3600);
  const step = Math.max(15, Math.round((end - start) / points));
  return new URLSearchParams({ query, start: String(start), end: String(end), step: String(step) }).toString();
}

// The series of a query_range answer ({data: {result: [{metric, values: [[t, "v"]...]}]}}) as
// { label, points: [[t, v]...] }, labelled by `labelOf(metric)`.
export function seriesOf(answer, labelOf) {
  const result = (answer && answer.data && answer.data.result) || [];
  return result.map((r) => ({
    label: labelOf(r.metric || {}),
    points: (r.values || []).map(([t, v]) => [Number(t), Number(v)]).filter(([t, v]) => Number.isFinite(t) && Number.isFinite(v)),
  }));
}

// SVG geometry of a line chart: each series' path ("M x,y L x,y ...") inside width × height with `pad`
// around (`padLeft` on the left, for the labels), for y from 0 to yMax (at least the data's maximum),
// plus the axis' tick labels.
export function chartGeometry(series, { width = 600, height = 180, pad = 32, padLeft = pad, yMax = null } = {}) {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return { paths: [], yTicks: [], xTicks: [], empty: true };
  const t0 = Math.min(...all.map(([t]) => t));
  const t1 = Math.max(...all.map(([t]) => t));
  const top = Math.max(yMax ?? 0, ...all.map(([, v]) => v), 1e-9);
  const sx = (t) => padLeft + (t1 === t0 ? 0 : ((t - t0) / (t1 - t0)) * (width - padLeft - pad));
  const sy = (v) => height - pad + (-(v / top) * (height - 2 * pad));
  const r = (x) => Math.round(x * 10) / 10;
  const paths = series.map((s) => ({
    label: s.label,
    d: s.points.map(([t, v], i) => `${i === 0 ? "M" : "L"}${r(sx(t))},${r(sy(v))}`).join(" "),
    points: s.points.length,
  }));
  const yTicks = [0, 0.5, 1].map((f) => ({ y: r(sy(top * f)), label: Number((top * f).toPrecision(6)) }));
  const xTicks = [t0, (t0 + t1) / 2, t1].map((t) => ({ x: r(sx(t)), t }));
  return { paths, yTicks, xTicks, empty: false };
}

// The path of a task's log under the API: containerLog as the server gives it
// ("/rest-server/api/v2/jobs/.../logs/stdout") or built from the task's place.
export function taskLogPath(fullName, role, index, file = "stdout") {
  const enc = encodeURIComponent;
  return `/rest-server/api/v2/jobs/${enc(fullName)}/taskRoles/${enc(role)}/taskIndex/${enc(index)}/logs/${file}`;
}

// Whether an href is one of ours (the portal never follows a link elsewhere for its data).
export function isLocalPath(href) {
  return typeof href === "string" && href.startsWith("/") && !href.startsWith("//");
}

// A small YAML writer for the form's protocol (maps, lists, scalars): the YAML tab starts from the form.
export function toYaml(value, indent = "") {
  const scalar = (v) => (typeof v === "number" || typeof v === "boolean" ? String(v)
    // plain only when nothing in it can mean YAML syntax, a number or a keyword; else a JSON string (valid YAML)
    : (/^[A-Za-z_./][\w./+=$-]*( [\w./+=$-]+)*$/.test(String(v))
      && !/^(true|false|null|yes|no|on|off|y|n|~)$/i.test(String(v)) ? String(v) : JSON.stringify(String(v))));
  if (Array.isArray(value)) {
    if (!value.length) return " []\n";
    return `\n${value.map((v) => (v && typeof v === "object"
      ? `${indent}- ${toYaml(v, `${indent}  `).trimStart()}` : `${indent}- ${scalar(v)}\n`)).join("")}`;
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    if (!entries.length) return " {}\n";
    return `${indent ? "\n" : ""}${entries.map(([k, v]) => (v && typeof v === "object"
      ? `${indent}${scalar(k)}:${toYaml(v, `${indent}  `)}` : `${indent}${scalar(k)}: ${scalar(v)}\n`)).join("")}`;
  }
  return ` ${scalar(value)}\n`;
}
