'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const devx = require('devx');
const { DATA } = require('./helpers');

test('renderMap formats', () => {
  const p = devx.loadProjectSync(path.join(DATA, 'multi'), { profile: 'ci' });
  const mermaid = p.renderMap();
  assert.equal(mermaid, p.renderMap('mermaid'));
  assert.match(mermaid, /^flowchart/);
  for (const name of ['api', 'web', 'payments', 'redis']) assert.ok(mermaid.includes(name), name);
  assert.match(p.renderMap('dot'), /^\s*digraph/);
  assert.equal(typeof JSON.parse(p.renderMap('json')), 'object');
  assert.throws(() => p.renderMap('svg'), (err) => {
    assert.ok(err instanceof devx.InvalidArgumentError, `${err}`);
    return true;
  });
});

test('configSchema is the JSON Schema of devx.yaml', () => {
  const schema = JSON.parse(devx.configSchema());
  assert.ok('$schema' in schema);
  assert.ok('services' in schema.properties);
});
