'use strict';
// The Kubernetes bridge from Node (devx.bridge): the pure functions, status on an empty DEVX_HOME,
// strict options, and a real connect session through the fake kubectl (tests/fakes/kubectl)
// relaying to a local HTTP server.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const http = require('http');
const net = require('net');
const path = require('path');
const devx = require('devx');
const { tmpDir } = require('./helpers');

const FAKE_KUBECTL = path.resolve(__dirname, '..', 'fakes', 'kubectl');

function fakeKubectlPresent() {
  try {
    fs.accessSync(FAKE_KUBECTL, fs.constants.X_OK);
    return true;
  } catch (_) {
    return false;
  }
}
const needsFake = fakeKubectlPresent()
  ? {}
  : { skip: `the fake kubectl ${FAKE_KUBECTL} does not exist yet` };

test('the ABI has the bridge', () => {
  assert.ok(devx.abiVersion() >= 3);
});

test('rbacYaml: a Role and its binding, or cluster-wide objects', () => {
  const namespaced = devx.bridge.rbacYaml('team-a');
  assert.match(namespaced, /kind: Role\b/);
  assert.match(namespaced, /kind: RoleBinding\b/);
  assert.match(namespaced, /namespace: team-a/);
  assert.match(namespaced, /rules:/);
  assert.match(namespaced, /services/);
  assert.doesNotMatch(namespaced, /ClusterRole/);
  const cluster = devx.bridge.rbacYaml();
  assert.match(cluster, /kind: ClusterRole\b/);
  assert.match(cluster, /kind: ClusterRoleBinding\b/);
  assert.equal(devx.bridge.rbacYaml(''), cluster);
});

test('envPrefix is the one formula', () => {
  assert.equal(devx.bridge.envPrefix('payments-api'), 'BRIDGE_PAYMENTS_API');
  assert.equal(devx.bridge.envPrefix('payments-api', 'team.a'), 'BRIDGE_PAYMENTS_API');
  assert.equal(devx.bridge.envPrefix('payments-api', 'team.a', true), 'BRIDGE_PAYMENTS_API_TEAM_A');
  assert.equal(devx.bridge.envPrefix('redis', 'default', true), 'BRIDGE_REDIS_DEFAULT');
});

test('status, environment and disconnect on an empty DEVX_HOME', () => {
  const context = new devx.Context({ devxHome: tmpDir() });
  try {
    assert.deepEqual(devx.bridge.status({ context }), { v: 1, active: false, sessions: [] });
    assert.deepEqual(devx.bridge.environment({ context }), {});
    const stopped = devx.bridge.disconnect({ context, waitMs: 0 });
    assert.equal(stopped.v, 1);
    assert.deepEqual(stopped.sessions, []);
  } finally {
    context.close();
  }
});

test('bad options fail the call with InvalidArgumentError naming the field', () => {
  const context = new devx.Context({ devxHome: tmpDir(), dryRun: true });
  try {
    const cases = [
      [() => devx.bridge.connect({ context, targets: [{ service: 'a', port: '80' }] }),
        /"targets\[0\]\.port" must be an integer/],
      [() => devx.bridge.connect({ context, targets: [{ service: 'a', port: 80, locl: 1 }] }),
        /unknown key "targets\[0\]\.locl"/],
      [() => devx.bridge.connect({ context, targets: [], kube: { kubeconfg: '/x' } }),
        /unknown key "kube\.kubeconfg"/],
      [() => devx.bridge.connect({ context, target: [] }), /unknown key "target"/],
      [() => devx.bridge.connect({ context, origin: 'cli' }), /origin/],
      [() => devx.bridge.intercept({ context, service: 'api', graceS: 1.5 }),
        /"grace_s" must be an integer/],
      [() => devx.bridge.intercept({ context, service: 'api', ports: [{ remote: 80, locl: 1 }] }),
        /unknown key "ports\[0\]\.locl"/],
      [() => devx.bridge.doctor({ context, repair: 'yes' }), /"repair" must be a boolean/],
    ];
    for (const [fn, message] of cases) {
      assert.throws(fn, (err) => {
        assert.ok(err instanceof devx.InvalidArgumentError, `${err}`);
        assert.equal(err.code, 'invalid_argument');
        assert.match(err.message, message);
        return true;
      });
    }
  } finally {
    context.close();
  }
});

// ---- a real session through the fake kubectl ---------------------------------------------------

// Seeds the fake cluster (layout in tests/fakes/kubefake/__init__.py) with Service <service>
// exposing <port>, which `kubectl port-forward svc/…` relays to 127.0.0.1:<fixturePort>.
function configureFake(state, service, namespace, port, fixturePort) {
  const services = path.join(state, namespace, 'service');
  fs.mkdirSync(services, { recursive: true });
  fs.writeFileSync(path.join(services, `${service}.json`), JSON.stringify({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: service, namespace },
    spec: {
      type: 'ClusterIP',
      selector: { app: service },
      ports: [{ name: 'http', port, targetPort: port, protocol: 'TCP' }],
    },
  }));
  const forward = path.join(state, '_forward', namespace);
  fs.mkdirSync(forward, { recursive: true });
  fs.writeFileSync(path.join(forward, `${service}.json`),
    JSON.stringify({ [String(port)]: `127.0.0.1:${fixturePort}` }));
}

// The calls the fake recorded that change the cluster.
function mutatingCalls(state) {
  const log = path.join(state, 'calls.log');
  if (!fs.existsSync(log)) return [];
  return fs.readFileSync(log, 'utf8').split('\n').filter(Boolean)
    .map((line) => JSON.parse(line).argv)
    .filter((argv) => argv.some((a) => ['apply', 'patch', 'delete'].includes(a)));
}

function fixtureServer() {
  const server = http.createServer((req, res) => res.end('fixture says hello'));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function get(port) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/' }, (res) => {
      let body = '';
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

function refused(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('connect', () => { socket.destroy(); resolve(false); });
    socket.on('error', () => resolve(true));
  });
}

function forwarding(session, ms = 30000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no 'forwarding' state within ${ms} ms`)), ms);
    session.on('state', (event) => {
      if (event.data && event.data.state === 'forwarding') {
        clearTimeout(timer);
        resolve(event.data);
      }
    });
    session.result.then(
      () => { clearTimeout(timer); reject(new Error('the session ended before forwarding')); },
      (err) => { clearTimeout(timer); reject(err); });
  });
}

function kubeContext(state, options = {}) {
  return new devx.Context({
    devxHome: tmpDir(), env: { ...process.env, FAKE_KUBE_STATE: state }, ...options,
  });
}

test('connect forwards traffic to the fixture; close leaves nothing', needsFake, async () => {
  const server = await fixtureServer();
  const state = tmpDir('devx-node-kube-');
  configureFake(state, 'payments-api', 'team-a', 8080, server.address().port);
  const context = kubeContext(state);
  try {
    const session = devx.bridge.connect({
      context,
      kube: { kubectl: FAKE_KUBECTL },
      namespace: 'team-a',
      targets: [{ service: 'payments-api', port: 8080 }],
    });
    assert.ok(session instanceof devx.Operation);
    assert.ok(session.result instanceof Promise);
    const data = await forwarding(session);
    assert.equal(data.service, 'payments-api');
    assert.equal(data.namespace, 'team-a');
    assert.equal(data.remote_port, 8080);
    const localPort = data.local_port;

    assert.deepEqual(await get(localPort), { status: 200, body: 'fixture says hello' });

    const status = devx.bridge.status({ context });
    assert.equal(status.active, true);
    assert.equal(status.sessions.length, 1);
    assert.match(JSON.stringify(status), /payments-api/);
    assert.match(JSON.stringify(status), new RegExp(`\\b${localPort}\\b`));
    const env = devx.bridge.environment({ context });
    assert.equal(env.BRIDGE_PAYMENTS_API_PORT, String(localPort));
    assert.match(env.BRIDGE_PAYMENTS_API_URL, new RegExp(`:${localPort}\\b`));

    await session.close();
    assert.ok(session.done);
    assert.deepEqual(devx.bridge.status({ context }), { v: 1, active: false, sessions: [] });
    assert.deepEqual(devx.bridge.environment({ context }), {});
    assert.ok(await refused(localPort));
  } finally {
    context.close();
    server.close();
  }
});

test('a dry-run intercept resolves with the plan and records nothing', needsFake, async () => {
  const state = tmpDir('devx-node-kube-');
  configureFake(state, 'payments-api', 'team-a', 8080, 9);
  const context = kubeContext(state, { dryRun: true });
  try {
    const session = devx.bridge.intercept({
      context,
      kube: { kubectl: FAKE_KUBECTL },
      service: 'payments-api',
      namespace: 'team-a',
      ports: [{ remote: 8080, local: 9000 }],
    });
    const plan = await session.result;
    assert.equal(plan.v, 1);
    assert.match(JSON.stringify(plan), /payments-api/);
    assert.deepEqual(devx.bridge.status({ context }).sessions, []);
    assert.deepEqual(mutatingCalls(state), []);
  } finally {
    context.close();
  }
});
