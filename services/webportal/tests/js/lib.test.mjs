// The portal's pure functions (node --test; run by tests/test_lib.py).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  buildJob, chartGeometry, cloneName, commandLines, formFieldFor, formatBytes, formatDuration, jobsQuery, pageCount,
  rangeParams, renameJobYaml, seriesOf, splitProblems, taskLogPath, toYaml, usage,
} from "../../src/pai_webportal/static/lib.js";

test("jobsQuery: newest first, paged, with the total, filters only when set", () => {
  const q = new URLSearchParams(jobsQuery({ state: "RUNNING", vc: "default", page: 2, pageSize: 10 }));
  assert.equal(q.get("state"), "RUNNING");
  assert.equal(q.get("vc"), "default");
  assert.equal(q.get("username"), null);
  assert.equal(q.get("order"), "submissionTime,DESC");
  assert.equal(q.get("offset"), "20");
  assert.equal(q.get("limit"), "10");
  assert.equal(q.get("withTotalCount"), "true");
  assert.equal(new URLSearchParams(jobsQuery({ user: "alice", page: -3 })).get("offset"), "0");
});

test("pageCount: at least one page", () => {
  assert.equal(pageCount(0, 20), 1);
  assert.equal(pageCount(20, 20), 1);
  assert.equal(pageCount(21, 20), 2);
  assert.equal(pageCount(undefined, 20), 1);
});

test("buildJob: the v2 protocol of the form, integers as numbers, other text as typed", () => {
  const job = buildJob({
    name: " gpu-1 ", virtualCluster: "default", image: "openpai/lab-job:1",
    roles: [{ name: "train", instances: "2", cpu: "1", memoryMB: "1024", gpu: "1", commands: "echo a\n\n  nvidia-smi -L  \n" },
      { name: "ps", instances: "1", cpu: "x", memoryMB: "512", gpu: "0", commands: "" }],
  });
  assert.equal(job.protocolVersion, 2);
  assert.equal(job.name, "gpu-1");
  assert.deepEqual(job.prerequisites, [{ name: "image", type: "dockerimage", uri: "openpai/lab-job:1" }]);
  assert.deepEqual(job.taskRoles.train, { instances: 2, dockerImage: "image",
    resourcePerInstance: { cpu: 1, memoryMB: 1024, gpu: 1 }, commands: ["echo a", "  nvidia-smi -L"] });
  assert.equal(job.taskRoles.ps.resourcePerInstance.cpu, "x");
  assert.deepEqual(job.defaults, { virtualCluster: "default" });
});

test("commandLines drops blank lines and trailing blanks", () => {
  assert.deepEqual(commandLines("a\r\n \n b  \n"), ["a", " b"]);
});

test("splitProblems: one per field, messages with colons and semicolons kept", () => {
  const msg = "name: must match ^[\\w.-]+$; taskRoles.train.resourcePerInstance.gpu: must be >= 0; body: x; y";
  assert.deepEqual(splitProblems(msg), [
    { field: "name", message: "must match ^[\\w.-]+$" },
    { field: "taskRoles.train.resourcePerInstance.gpu", message: "must be >= 0" },
    { field: "body", message: "x; y" },
  ]);
  assert.deepEqual(splitProblems("Job name alice~x already exists."),
    [{ field: "", message: "Job name alice~x already exists." }]);
});

test("formFieldFor: the field of the form each protocol path belongs to", () => {
  const roles = ["train", "ps"];
  assert.equal(formFieldFor("name", roles), "name");
  assert.equal(formFieldFor("defaults.virtualCluster", roles), "virtualCluster");
  assert.equal(formFieldFor("prerequisites[0].uri", roles), "image");
  assert.equal(formFieldFor("taskRoles.ps.resourcePerInstance.gpu", roles), "role:1:gpu");
  assert.equal(formFieldFor("taskRoles.train.resourcePerInstance.memoryMB", roles), "role:0:memoryMB");
  assert.equal(formFieldFor("taskRoles.train.instances", roles), "role:0:instances");
  assert.equal(formFieldFor("taskRoles.train.commands[0]", roles), "role:0:commands");
  assert.equal(formFieldFor("taskRoles.train.dockerImage", roles), "image");
  assert.equal(formFieldFor("taskRoles.train", roles), "role:0:name");
  assert.equal(formFieldFor("taskRoles.other.instances", roles), "form");
  assert.equal(formFieldFor("body", roles), "form");
});

test("renameJobYaml and cloneName", () => {
  assert.equal(renameJobYaml("protocolVersion: 2\nname: a\ntype: job\n", "b"), "protocolVersion: 2\nname: b\ntype: job\n");
  assert.equal(renameJobYaml("type: job\n", "b"), "name: b\ntype: job\n");
  // a nested name (a prerequisite's) is not the job's
  assert.equal(renameJobYaml("prerequisites:\n  - name: image\nname: a\n", "b"), "prerequisites:\n  - name: image\nname: b\n");
  assert.equal(cloneName("job"), "job-copy");
  assert.equal(cloneName("job-copy"), "job-copy2");
  assert.equal(cloneName("job-copy9"), "job-copy10");
});

test("formatters", () => {
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(3 * 2 ** 30), "3.0 GiB");
  assert.equal(formatBytes(-1), "–");
  assert.equal(formatDuration(1000, 63000), "1m 02s");
  assert.equal(formatDuration(0, 5), "–");
  assert.equal(formatDuration(1000, 1000 + 3723000), "1h 02m");
  assert.equal(formatDuration(1000, null, 13000), "12s");
  assert.deepEqual(usage(1, 4), { text: "1 / 4", percent: 25 });
  assert.deepEqual(usage(3, 0), { text: "3 / 0", percent: 0 });
});

test("rangeParams: the last hours, a step of at least 15 s", () => {
  const q = new URLSearchParams(rangeParams("up", 10000.7, 1, 120));
  assert.equal(q.get("end"), "10000");
  assert.equal(q.get("start"), String(10000 - 3600));
  assert.equal(q.get("step"), "30");
  assert.equal(new URLSearchParams(rangeParams("up", 10000, 0.01, 120)).get("step"), "15");
});

test("seriesOf and chartGeometry: one path per series inside the box", () => {
  const answer = { status: "success", data: { resultType: "matrix", result: [
    { metric: { node_name: "gpu-a" }, values: [[100, "0"], [160, "50"], [220, "100"]] },
    { metric: { node_name: "gpu-b" }, values: [[100, "25"], [220, "NaN"]] },
  ] } };
  const series = seriesOf(answer, (m) => m.node_name);
  assert.deepEqual(series.map((s) => [s.label, s.points.length]), [["gpu-a", 3], ["gpu-b", 1]]);
  const g = chartGeometry(series, { width: 200, height: 100, pad: 10, yMax: 100 });
  assert.equal(g.empty, false);
  assert.equal(g.paths[0].d, "M10,90 L100,50 L190,10");
  assert.equal(g.paths[1].d, "M10,70");
  assert.deepEqual(g.yTicks.map((t) => t.label), [0, 50, 100]);
  assert.equal(chartGeometry([], {}).empty, true);
  // without yMax the top is the data's maximum
  const g2 = chartGeometry([{ label: "x", points: [[0, 2], [1, 4]] }], { width: 100, height: 100, pad: 0 });
  assert.equal(g2.paths[0].d, "M0,50 L100,0");
  // room for the labels on the left
  const g3 = chartGeometry([{ label: "x", points: [[0, 0], [1, 1]] }], { width: 100, height: 100, pad: 10, padLeft: 30 });
  assert.equal(g3.paths[0].d, "M30,90 L90,10");
});

test("taskLogPath encodes every part", () => {
  assert.equal(taskLogPath("alice~job 1", "train", 0, "stderr"),
    "/rest-server/api/v2/jobs/alice~job%201/taskRoles/train/taskIndex/0/logs/stderr");
});

test("toYaml writes the form's protocol as YAML a server reads back", () => {
  const job = buildJob({ name: "j", virtualCluster: "default", image: "img:1",
    roles: [{ name: "main", instances: "1", cpu: "1", memoryMB: "512", gpu: "0", commands: "echo 'a: b'\nls" }] });
  const text = toYaml(job);
  assert.match(text, /^protocolVersion: 2\nname: j\ntype: job\nprerequisites:\n {2}- name: image\n {4}type: dockerimage\n/);
  assert.match(text, /commands:\n {6}- "echo 'a: b'"\n {6}- ls\n/);
  assert.match(text, /resourcePerInstance:\n {6}cpu: 1\n/);
  assert.equal(toYaml({ a: [], b: {}, c: "true", d: "" }), 'a: []\nb: {}\nc: "true"\nd: ""\n');
});

test("percent rounds YARN's capacities", async () => {
  const { percent } = await import("../../src/pai_webportal/static/lib.js");
  assert.equal(percent(30.000002), "30%");
  assert.equal(percent(12.55), "12.6%");
  assert.equal(percent("x"), "–");
});
