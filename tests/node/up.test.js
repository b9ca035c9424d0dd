'use strict';
// Sessions (`devx up`) from Node, with real host processes (python3 http.server).
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('http');
const path = require('path');
const devx = require('devx');
const { DATA, tmpDir } = require('./helpers');

const upDir = path.join(DATA, 'up-node');
const failDir = path.join(DATA, 'up-node-fail');

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code !== 'ESRCH';
  }
}

async function gone(pid, withinMs = 5000) {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

function get(port) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/' }, (res) => {
      res.resume();
      resolve(res.statusCode);
    }).on('error', reject);
  });
}

function waitFor(emitter, event, predicate, ms = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' event within ${ms} ms`)), ms);
    const listener = (e) => {
      if (!predicate(e)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(e);
    };
    emitter.on(event, listener);
  });
}

test('up resolves a Session with healthy services; down stops them', async () => {
  const context = new devx.Context({ devxHome: tmpDir() });
  try {
    const project = await devx.loadProject(upDir, { context });
    const pending = devx.up(project, { context });
    assert.ok(pending instanceof Promise);
    const session = await pending;
    assert.ok(session instanceof devx.Session);
    const states = [];
    session.on('state', (e) => states.push(e));
    const webLog = waitFor(session, 'log', (e) => e.source === 'web' && /web starting/.test(e.message));

    const status = session.status();
    assert.deepEqual(status.map((s) => s.name), ['api', 'web']);
    for (const s of status) {
      assert.equal(s.state, 'healthy');
      assert.ok(s.pid > 0 && alive(s.pid));
      assert.equal(await get(s.port), 200);
    }
    assert.equal(session.statusDocument().project, 'node-up');
    await webLog;
    assert.ok(states.some((e) => e.source === 'api' && e.data.state === 'healthy'));

    const stopped = await session.down();
    assert.deepEqual(stopped.map((s) => s.state), ['stopped', 'stopped']);
    for (const s of status) assert.ok(await gone(s.pid), `pid ${s.pid} still alive`);
    await session.close();
    assert.ok(session.closed);
  } finally {
    context.close();
  }
});

test('restart gives a new process and emits state events', async () => {
  const context = new devx.Context({ devxHome: tmpDir() });
  let session;
  try {
    session = await devx.up(upDir, { context });
    const before = session.status().find((s) => s.name === 'api');
    const restarting = waitFor(session, 'state', (e) => e.source === 'api' && e.data.state === 'stopping');
    const after = await session.restart('api');
    await restarting;
    assert.equal(after.restarts, 1);
    assert.notEqual(after.pid, before.pid);
    assert.equal(after.state, 'healthy');
    assert.ok(await gone(before.pid));
    await assert.rejects(session.restart('nope'), devx.NotFoundError);
  } finally {
    const pids = session ? session.status().map((s) => s.pid) : [];
    if (session) await session.close();
    for (const pid of pids) assert.ok(await gone(pid));
    context.close();
  }
});

test('close() stops everything', async () => {
  const context = new devx.Context({ devxHome: tmpDir() });
  try {
    const session = await devx.up(upDir, { context, only: ['api'] });
    const status = session.status();
    assert.deepEqual(status.map((s) => s.name), ['api']);
    await session.close();
    assert.ok(session.closed);
    assert.ok(await gone(status[0].pid));
    await session.close(); // idempotent
    assert.throws(() => session.status(), devx.InvalidArgumentError);
  } finally {
    context.close();
  }
});

test('a failing service rejects with CommandFailedError and its details', async () => {
  const context = new devx.Context({ devxHome: tmpDir() });
  try {
    await assert.rejects(devx.up(failDir, { context }), (err) => {
      assert.ok(err instanceof devx.CommandFailedError);
      assert.equal(err.code, 'command_failed');
      assert.equal(err.details.node, 'broken');
      assert.equal(err.details.exit_code, 3);
      assert.ok(err.details.last_lines.some((l) => /boom/.test(l)));
      return true;
    });
  } finally {
    context.close();
  }
});

test('plan returns the up plan; bad options are InvalidArgumentError', async () => {
  const context = new devx.Context({ devxHome: tmpDir() });
  try {
    const project = await devx.loadProject(upDir, { context });
    const plan = devx.plan(project, { context });
    assert.equal(plan.v, 1);
    assert.deepEqual(plan.nodes.map((n) => n.name), ['api', 'web']);
    assert.equal(plan.nodes[1].waits_for[0].condition, 'service_healthy');
    assert.ok(plan.nodes[1].env_names.includes('PORT'));
    assert.deepEqual(devx.plan(project, { context, only: ['api'] }).nodes.map((n) => n.name), ['api']);
    assert.throws(() => devx.plan(project, { context, containerEngine: 'lxc' }),
      devx.InvalidArgumentError);
    await assert.rejects(devx.up(project, { context, only: 'api' }), devx.InvalidArgumentError);
  } finally {
    context.close();
  }
});
