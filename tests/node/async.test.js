'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const devx = require('devx');
const { DATA, tmpDir } = require('./helpers');

const multi = path.join(DATA, 'multi');

test('loadProject returns a Promise of the project', async () => {
  const pending = devx.loadProject(multi, { profile: 'ci' });
  assert.ok(pending instanceof Promise);
  const p = await pending;
  assert.equal(p.name, 'shop');
  assert.equal(p.profile, 'ci');
  // The renderers work on an asynchronously loaded project too.
  assert.match(p.renderMap(), /^flowchart/);
  assert.match(p.toYAML(), /payments/);
});

test('an Operation emits events, then end, and settles result', async () => {
  const ctx = new devx.Context({ devxHome: tmpDir() });
  try {
    const op = devx.startLoadProject(multi, { context: ctx });
    assert.ok(op instanceof devx.Operation);
    const events = [];
    const progress = [];
    op.on('event', (e) => events.push(e));
    op.on('progress', (e) => progress.push(e));
    const ended = new Promise((resolve) => op.once('end', resolve));
    const project = await op.result;
    const end = await ended;
    assert.equal(end.ok, true);
    assert.equal(end.value, project);
    assert.equal(op.done, true);
    assert.ok(events.length >= 1);
    assert.deepEqual(progress, events.filter((e) => e.type === 'progress'));
    assert.equal(events[0].source, 'config');
    assert.equal(typeof events[0].time_ms, 'number');
  } finally {
    ctx.close();
  }
});

test('many loads in flight at once', async () => {
  const profiles = ['', 'ci', 'local', '', 'ci'];
  const projects = await Promise.all(profiles.map((profile) => devx.loadProject(multi, { profile })));
  assert.deepEqual(projects.map((p) => p.profile || ''), profiles);
});

test('cancel() makes the result reject with CancelledError', async () => {
  const dir = tmpDir();
  const fifo = path.join(dir, 'devx.yaml');
  execFileSync('mkfifo', [fifo]);
  const ctx = new devx.Context({ devxHome: dir });
  try {
    const op = devx.startLoadProject(fifo, { context: ctx });
    const ended = new Promise((resolve) => op.once('end', resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(op.done, false); // blocked reading the FIFO
    op.cancel();
    fs.writeFileSync(fifo, 'name: late\nservices:\n  - name: a\n    command: ["true"]\n');
    await assert.rejects(op.result, (err) => {
      assert.ok(err instanceof devx.CancelledError);
      assert.equal(err.code, 'cancelled');
      assert.equal(err.status, 9);
      return true;
    });
    const end = await ended;
    assert.equal(end.ok, false);
    assert.ok(end.error instanceof devx.CancelledError);
  } finally {
    ctx.close();
  }
});

test('a failing operation reports end with the typed error and no unhandled rejection', async () => {
  const op = devx.startLoadProject(path.join(DATA, 'typo'));
  const end = await new Promise((resolve) => op.once('end', resolve));
  assert.equal(end.ok, false);
  assert.ok(end.error instanceof devx.ConfigError);
  assert.equal(end.error.line, 5);
});
