// Contract test: OpenPAI's official JS SDK (@microsoft/openpai-js-sdk 0.1.5) against this REST server.
// Usage: PAI_URL=http://127.0.0.1:PORT PAI_USER=admin PAI_PASSWORD=... (or PAI_PASSWORD_FILE=F) node contract.js
// Against a real cluster: PAI_JOB_SUFFIX (appended to the job names, so that a rerun does not meet its own
// jobs), PAI_POLL_MS and PAI_POLL_TRIES (how often and how long to wait for a job's state; 100 x 100 ms).
// Prints one line per step; exits 1 with the failing step on the first failure.
'use strict';
const assert = require('assert');
const { PAIV2 } = require('@microsoft/openpai-js-sdk');

const fs = require('fs');

// PAI_PASSWORD_FILE (a file holding the password) keeps it out of the environment a log could show.
const password = process.env.PAI_PASSWORD_FILE
  ? fs.readFileSync(process.env.PAI_PASSWORD_FILE, 'utf8').trim() : process.env.PAI_PASSWORD;
const cluster = { pai_uri: process.env.PAI_URL, username: process.env.PAI_USER, password };
const suffix = process.env.PAI_JOB_SUFFIX || '';
const pollMs = Number(process.env.PAI_POLL_MS || 100);
const pollTries = Number(process.env.PAI_POLL_TRIES || 100);

const helloGpu = {
  protocolVersion: 2,
  name: `hello-gpu${suffix}`,
  type: 'job',
  jobRetryCount: 0,
  prerequisites: [{ name: 'image', type: 'dockerimage', uri: 'openpai/lab-job:1' }],
  taskRoles: {
    gpu_worker: {
      instances: 1, dockerImage: 'image', resourcePerInstance: { cpu: 1, memoryMB: 1024, gpu: 1 },
      commands: ['echo "gpu_worker starting on $(hostname)"',
        'if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi -L; else hostname; fi'],
    },
    cpu_worker: {
      instances: 1, dockerImage: 'image', resourcePerInstance: { cpu: 1, memoryMB: 1024, gpu: 0 },
      commands: ['hostname', 'echo cpu_worker done'],
    },
  },
  defaults: { virtualCluster: 'default' },
  extras: { submitFrom: 'openpai-js-sdk contract test' },
};
const sleeper = {
  protocolVersion: 2, name: `sleeper${suffix}`, type: 'job',
  prerequisites: [{ name: 'image', type: 'dockerimage', uri: 'openpai/lab-job:1' }],
  taskRoles: { sleeper: { instances: 1, dockerImage: 'image', resourcePerInstance: { cpu: 1, memoryMB: 1024, gpu: 0 },
    commands: ['sleep 600'] } },
  defaults: { virtualCluster: 'default' },
};

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function pollUntil(client, user, name, states) {
  for (let i = 0; i < pollTries; i++) {
    const job = await client.job.getJob(user, name);
    if (states.includes(job.jobStatus.state)) return job;
    await delay(pollMs);
  }
  throw new Error(`job ${user}~${name} did not reach ${states}`);
}

async function step(name, fn) {
  try {
    const detail = await fn();
    console.log(`ok ${name}${detail ? ': ' + detail : ''}`);
  } catch (err) {
    const data = err && err.data ? ` ${JSON.stringify(err.data)}` : '';
    console.log(`FAILED ${name}: ${err && err.message}${data}`);
    process.exit(1);
  }
}

(async () => {
  const client = new PAIV2.OpenPAIClient(cluster);
  const user = cluster.username;
  await step('login', async () => {
    const info = await client.authn.basicLogin(user, cluster.password, 4000);
    assert.strictEqual(info.user, user);
    assert.ok(info.token);
    assert.strictEqual(typeof info.admin, 'boolean');
    client.job.cluster.token = info.token; // later calls reuse it (the SDK would log in by itself otherwise)
    return `admin=${info.admin}`;
  });
  await step('getClusterInfo', async () => {
    const info = await client.api.getClusterInfo();
    assert.strictEqual(info.launcherType, 'yarn');
    assert.strictEqual(info.authnMethod, 'basic');
    return `${info.name} ${info.version}`;
  });
  await step('getUser', async () => {
    const me = await client.user.getUser(user);
    assert.strictEqual(me.username, user);
    assert.ok(me.virtualCluster.includes('default'));
  });
  await step('listVirtualClusters', async () => {
    const vcs = await client.virtualCluster.listVirtualClusters();
    assert.ok(vcs.default, 'a default VC');
    assert.ok(vcs.default.resourcesTotal.GPUs > 0, 'the default VC has GPUs');
    assert.strictEqual(vcs.default.resourcesTotal.gpu, vcs.default.resourcesTotal.GPUs);
    const one = await client.virtualCluster.getVirtualCluster('default');
    assert.deepStrictEqual(one.resourcesTotal, vcs.default.resourcesTotal);
    return Object.keys(vcs).join(',');
  });
  await step('createJob hello-gpu', async () => { await client.job.createJob(helloGpu); });
  await step('getJob until SUCCEEDED', async () => {
    const job = await pollUntil(client, user, helloGpu.name, ['SUCCEEDED', 'FAILED', 'STOPPED']);
    assert.strictEqual(job.jobStatus.state, 'SUCCEEDED');
    assert.deepStrictEqual(Object.keys(job.taskRoles).sort(), ['cpu_worker', 'gpu_worker']);
    assert.strictEqual(job.taskRoles.gpu_worker.taskStatuses[0].containerGpus, 1);
    return job.jobStatus.appId;
  });
  await step('createJob duplicate is ConflictJobError', async () => {
    try {
      await client.job.createJob(helloGpu);
    } catch (err) {
      assert.strictEqual(err.status, 409);
      assert.strictEqual(err.data.code, 'ConflictJobError');
      return err.constructor.name;
    }
    throw new Error('no error for a duplicate job');
  });
  await step('listJobs', async () => {
    const jobs = await client.job.listJobs({ username: user });
    assert.ok(jobs.some((j) => j.name === helloGpu.name && j.state === 'SUCCEEDED' && j.totalGpuNumber === 1 &&
      j.totalTaskNumber === 2 && j.totalTaskRoleNumber === 2));
    const counted = await client.job.listJobs({ withTotalCount: true, limit: 1 });
    assert.strictEqual(counted.data.length, 1);
    return `${jobs.length} job(s)`;
  });
  await step('getJobConfig', async () => {
    const config = await client.job.getJobConfig(user, helloGpu.name);
    assert.strictEqual(config.name, helloGpu.name);
    assert.deepStrictEqual(Object.keys(config.taskRoles).sort(), ['cpu_worker', 'gpu_worker']);
  });
  await step('createJob sleeper, wait RUNNING', async () => {
    await client.job.createJob(sleeper);
    await pollUntil(client, user, sleeper.name, ['RUNNING']);
  });
  await step('updateJobExecutionType STOP', async () => {
    await client.job.updateJobExecutionType(user, sleeper.name, 'STOP');
    const job = await pollUntil(client, user, sleeper.name, ['STOPPED', 'FAILED', 'SUCCEEDED']);
    assert.strictEqual(job.jobStatus.state, 'STOPPED');
    assert.strictEqual(job.jobStatus.executionType, 'STOP');
  });
  await step('getJob unknown is NoJobError', async () => {
    try {
      await client.job.getJob(user, 'no-such-job');
    } catch (err) {
      assert.strictEqual(err.status, 404);
      assert.strictEqual(err.data.code, 'NoJobError');
      return err.constructor.name;
    }
    throw new Error('no error for an unknown job');
  });
  await step('basicLogout', async () => { await client.authn.basicLogout(); });
  console.log('contract: all steps passed');
})();
