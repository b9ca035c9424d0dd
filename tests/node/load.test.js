'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const devx = require('devx');
const { DATA, expectedMultiCi } = require('./helpers');

const multi = path.join(DATA, 'multi');

test('version and ABI version', () => {
  assert.match(devx.version(), /^\d+\.\d+\.\d+$/);
  assert.ok(devx.abiVersion() >= 1);
});

test('loads a multi-file project with includes into plain fields', () => {
  const p = devx.loadProjectSync(multi);
  assert.ok(p instanceof devx.Project);
  assert.equal(p.name, 'shop');
  assert.equal(p.domain, 'shop.example.test');
  assert.equal(p.provider, 'podman');
  assert.equal(p.root_file, path.join(multi, 'devx.yaml'));
  assert.deepEqual(p.files, [path.join(multi, 'devx.yaml'), path.join(multi, 'payments', 'devx.yaml')]);
  assert.deepEqual(p.services.map((s) => s.name), ['api', 'web', 'payments']);
  const [api, web, payments] = p.services;
  assert.deepEqual(api.command, ['./bin/api', '--port', '8080']);
  assert.equal(api.port, 8080);
  assert.deepEqual(api.depends_on.map((d) => [d.name, d.condition]),
    [['postgres', 'service_healthy'], ['payments', 'service_started']]);
  assert.equal(api.working_dir, multi);
  assert.deepEqual(web.command, ['/bin/sh', '-c', 'npm run dev']);
  assert.equal(payments.working_dir, path.join(multi, 'payments'));
  assert.deepEqual(p.databases.map((d) => [d.engine, d.port]), [['postgres', 5433], ['redis', 6379]]);
  assert.deepEqual(p.tunnels.map((t) => [t.name, t.port]), [['web', 3000]]);
  p.close();
  p.close();
  assert.equal(p.name, 'shop'); // fields outlive the native handle
});

test('a profile is applied and recorded', () => {
  const p = devx.loadProjectSync(multi, { profile: 'ci' });
  assert.equal(p.profile, 'ci');
  assert.equal(p.services[0].port, 9090);
  assert.deepEqual(p.services[0].env, { LOG_LEVEL: 'debug' });
  const local = devx.loadProjectSync(multi, { profile: 'local' });
  assert.equal(local.tunnels[0].port, 3001);
});

test('json is the C ABI document, identical to the other layers and stable', async () => {
  const p = devx.loadProjectSync(multi, { profile: 'ci', user: 'tester' });
  assert.equal(p.json, expectedMultiCi());
  assert.deepEqual(JSON.parse(JSON.stringify(p)), JSON.parse(p.json));
  const again = await devx.loadProject(multi, { profile: 'ci', user: 'tester' });
  assert.equal(again.json, p.json);
});

test('a directory is searched upwards', () => {
  assert.equal(devx.findProject(path.join(multi, 'web', 'app')), path.join(multi, 'devx.yaml'));
  const p = devx.loadProjectSync(path.join(multi, 'web', 'app'));
  assert.equal(p.root_file, path.join(multi, 'devx.yaml'));
});

test('toYAML renders the resolved project', () => {
  const p = devx.loadProjectSync(multi, { profile: 'ci' });
  const yaml = p.toYAML();
  assert.match(yaml, /shop/);
  assert.match(yaml, /payments/);
});

test('contexts take options and close idempotently', () => {
  const ctx = new devx.Context({ devxHome: require('./helpers').tmpDir(), env: { A: '1' }, dryRun: true });
  const p = devx.loadProjectSync(multi, { context: ctx });
  assert.equal(p.name, 'shop');
  ctx.close();
  ctx.close();
  assert.equal(ctx.closed, true);
  assert.throws(() => devx.loadProjectSync(multi, { context: ctx }), devx.InvalidArgumentError);
});
