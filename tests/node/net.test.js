'use strict';
// Tunnels, edge proxies, the mesh, webhooks and mail from Node (devx.tunnel, devx.edge, devx.mesh,
// devx.webhook, devx.mail). Traffic is real: loopback HTTP servers and clients.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('http');
const net = require('net');
const path = require('path');
const devx = require('devx');
const { tmpDir } = require('./helpers');

const contexts = [];
test.after(() => {
  for (const context of contexts) context.close();
});

function newContext(options = {}) {
  const context = new devx.Context({ devxHome: path.join(tmpDir(), 'devx-home'), ...options });
  contexts.push(context);
  return context;
}

// An HTTP server on 127.0.0.1 answering 200 "origin" and recording the requests.
function startOrigin() {
  const received = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      res.end('origin');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port, received }));
  });
}

// The same origin on a worker thread: for the calls that block this thread until the origin
// answers (edge.replay, webhook.replay are synchronous), which an origin on this thread's event
// loop could never do. `received` fills as the worker reports; `waitFor(n)` resolves at n requests.
function startOriginOnWorker() {
  const { Worker } = require('worker_threads');
  const worker = new Worker(`
    const http = require('http');
    const { parentPort } = require('worker_threads');
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        parentPort.postMessage({ url: req.url, headers: req.headers,
          body: Buffer.concat(chunks).toString('latin1') });
        res.end('origin');
      });
    });
    server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
    parentPort.on('message', () => server.close(() => process.exit(0)));
  `, { eval: true });
  worker.unref();  // a failed test must not keep the process alive
  const received = [];
  const waiters = [];
  return new Promise((resolve) => {
    worker.on('message', (message) => {
      if (message.port !== undefined) {
        resolve({
          port: message.port,
          received,
          waitFor: (n) => new Promise((done) => {
            worker.ref();  // held while waiting for its messages
            waiters.push({ n, done: () => { worker.unref(); done(); } });
            waiters.filter((w) => received.length >= w.n).forEach((w) => w.done());
          }),
          close: () => worker.postMessage('close'),
        });
        return;
      }
      received.push({ ...message, body: Buffer.from(message.body, 'latin1') });
      waiters.filter((w) => received.length >= w.n).forEach((w) => w.done());
    });
  });
}

function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function firstEvent(op, predicate) {
  return new Promise((resolve) => {
    const listener = (event) => {
      if (predicate(event)) {
        op.off('event', listener);
        resolve(event);
      }
    };
    op.on('event', listener);
  });
}

test('the ABI has the networking domains', () => {
  assert.ok(devx.abiVersion() >= 5);
});

test('options are decoded strictly, with camelCase keys renamed', () => {
  const context = newContext();
  assert.throws(() => devx.tunnel.unexpose({ target: 'x', cloudflare: { apiUrll: 'x' }, context }),
    (err) => err instanceof devx.InvalidArgumentError && /cloudflare\.apiUrll/.test(err.message));
  assert.throws(() => devx.webhook.catch({ port: '80', context }),
    (err) => err instanceof devx.InvalidArgumentError &&
      /"port" must be an integer/.test(err.message));
});

test('dns labels and throttle profiles', () => {
  assert.equal(devx.tunnel.dnsLabel('My_App..v2'), 'my-app-v2');
  assert.throws(() => devx.tunnel.dnsLabel('___'), devx.InvalidArgumentError);
  assert.equal(devx.edge.throttleProfile('3g').bytes_per_second, 250 * 1024);
  assert.deepEqual([...devx.edge.throttleProfiles()].sort(), ['3g', 'edge', 'slow']);
});

test('the basic-auth proxy rejects, accepts and strips the header', async () => {
  const origin = await startOrigin();
  const context = newContext();
  const proxy = devx.edge.proxy({ targetPort: origin.port, basicAuth: 'alice:pa:ss', context });
  const { port } = proxy;
  try {
    assert.ok(proxy.port > 0);
    const denied = await request(`${proxy.url}/x`);
    assert.equal(denied.status, 401);
    const token = Buffer.from('alice:pa:ss').toString('base64');
    const ok = await request(`${proxy.url}/ok`, { headers: { Authorization: `Basic ${token}` } });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.toString(), 'origin');
    assert.equal(origin.received.at(-1).headers.authorization, undefined);
    assert.equal(proxy.status().stats.rejected, 1);
  } finally {
    proxy.close();
    origin.server.close();
  }
  // Closed: nothing listens there any more.
  await assert.rejects(request(`http://127.0.0.1:${port}/`));
});

test('the inspector records an exchange that can be replayed', async () => {
  const origin = await startOriginOnWorker();
  try {
    const context = newContext();
    const proxy = devx.edge.proxy({ targetPort: origin.port, inspect: true,
      inspectOptions: { session: 'node-inspect' }, context });
    try {
      const reply = await request(`${proxy.url}/items?id=7`, { method: 'POST', body: 'payload' });
      assert.equal(reply.status, 200);
    } finally {
      proxy.close();
    }
    const { exchanges } = devx.edge.captures({ session: 'node-inspect', context });
    assert.deepEqual(exchanges.map((x) => [x.method, x.status]), [['POST', 200]]);
    const replayed = devx.edge.replay(exchanges[0].id, { session: 'node-inspect', context });
    assert.equal(replayed.response.status, 200);
    await origin.waitFor(2);
    assert.equal(origin.received[1].body.toString(), 'payload');
  } finally {
    origin.close();
  }
});

test('the webhook catcher records requests until it is closed', async () => {
  const context = newContext();
  const catcher = devx.webhook.catch({ port: 0, session: 'node-hooks', context });
  const listening = await firstEvent(catcher, (e) => e.type === 'state' && e.data && e.data.url);
  const recorded = firstEvent(catcher, (e) => e.type === 'progress');
  const reply = await request(`${listening.data.url}/hook`, { method: 'POST', body: '{"a":1}',
    headers: { 'Content-Type': 'application/json' } });
  assert.equal(reply.status, 200);
  await recorded;
  await catcher.close();
  const { requests } = devx.webhook.list({ session: 'node-hooks', context });
  assert.equal(requests.length, 1);
  assert.equal(requests[0].body, '{"a":1}');
  assert.equal(requests[0].path, '/hook');
});

test('the mail catcher announces its ports and has no messages yet', async () => {
  const context = newContext();
  const catcher = devx.mail.catcher({ instance: 'node', smtpPort: 0, httpPort: 0, context });
  const listening = await firstEvent(catcher,
    (e) => e.type === 'state' && e.data && e.data.smtp_port);
  const greeting = await new Promise((resolve, reject) => {
    const socket = net.connect(listening.data.smtp_port, '127.0.0.1');
    socket.once('data', (data) => {
      socket.end('QUIT\r\n');
      resolve(data.toString());
    });
    socket.on('error', reject);
  });
  assert.match(greeting, /^220 /);
  assert.equal(devx.mail.environment({ instance: 'node', context }).SMTP_PORT,
    String(listening.data.smtp_port));
  assert.deepEqual(devx.mail.messages({ instance: 'node', context }).messages, []);
  await catcher.close();
});

test('the mesh is unsupported on the host provider', () => {
  const context = newContext();
  assert.throws(() => devx.mesh.status({ provider: 'host', context }), devx.UnsupportedError);
});
