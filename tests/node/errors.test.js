'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const devx = require('devx');
const { DATA, tmpDir } = require('./helpers');

// Same cases as tests/python/test_config_errors.py.
const CASES = [
  ['typo', 'devx.yaml', 5, 5, "unknown key 'depend_on'", "did you mean 'depends_on'?"],
  ['bad_type', 'devx.yaml', 5, 11, 'expected an integer', ''],
  ['dep_cycle', 'devx.yaml', 6, 9, 'a -> b -> c -> a', ''],
  ['include_cycle', 'child.yaml', 2, 5, 'devx.yaml -> child.yaml -> devx.yaml', ''],
  ['missing_include', 'devx.yaml', 3, 5, 'nowhere/devx.yaml', ''],
  ['duplicate', 'other/devx.yaml', 4, 5, "'api' is already defined", 'duplicate/devx.yaml:5:5'],
];

for (const [name, file, line, column, message, hint] of CASES) {
  test(`broken config ${name}: ConfigError at ${file}:${line}:${column}`, async () => {
    const dir = path.join(DATA, name);
    const check = (err) => {
      assert.ok(err instanceof devx.ConfigError, `${err}`);
      assert.ok(err instanceof devx.DevxError);
      assert.ok(err instanceof Error);
      assert.equal(err.code, 'config_invalid');
      assert.equal(err.status, 4);
      assert.equal(err.file, path.join(dir, file));
      assert.equal(err.line, line);
      assert.equal(err.column, column);
      assert.ok(err.diagnostics.length >= 1);
      assert.ok(err.diagnostics[0].message.includes(message), err.diagnostics[0].message);
      assert.ok(err.diagnostics[0].hint.includes(hint), err.diagnostics[0].hint);
      return true;
    };
    assert.throws(() => devx.loadProjectSync(dir), check);
    await assert.rejects(devx.loadProject(dir), check);

    const diagnostics = devx.validate(dir);
    const errors = diagnostics.filter((d) => d.severity === 'error');
    assert.ok(errors.length >= 1);
    assert.deepEqual([errors[0].file, errors[0].line, errors[0].column], [path.join(dir, file), line, column]);
  });
}

test('validate of a good project has no errors', () => {
  assert.deepEqual(devx.validate(path.join(DATA, 'multi')).filter((d) => d.severity === 'error'), []);
});

test('all problems are reported at once', () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'devx.yaml'),
    'name: many\nservics: []\nservices:\n  - name: api\n    port: 99999\n    depends_on:\n      - name: ghost\n');
  const errors = devx.validate(dir).filter((d) => d.severity === 'error');
  assert.ok(errors.length >= 3, JSON.stringify(errors));
  assert.ok(errors.some((d) => d.message.includes('servics') && d.hint.includes('services')));
  assert.ok(errors.some((d) => d.message.includes('ghost')));
});

test('a missing project is ConfigNotFoundError', async () => {
  const missing = path.join(tmpDir(), 'nothing');
  assert.throws(() => devx.loadProjectSync(missing), (err) => {
    assert.ok(err instanceof devx.ConfigNotFoundError);
    assert.equal(err.code, 'config_not_found');
    assert.equal(err.status, 3);
    assert.equal(typeof err.hint, 'string');
    return true;
  });
  await assert.rejects(devx.loadProject(missing), devx.ConfigNotFoundError);
  assert.throws(() => devx.validate(missing), devx.ConfigNotFoundError);
});

test('an unknown profile names the available ones', () => {
  assert.throws(() => devx.loadProjectSync(path.join(DATA, 'multi'), { profile: 'nope' }), (err) => {
    assert.ok(err instanceof devx.ConfigError);
    assert.match(err.hint, /ci/);
    return true;
  });
});

test('one error class per code of devx.h, from one table', () => {
  const header = fs.readFileSync(path.resolve(__dirname, '..', '..', 'capi', 'include', 'devx', 'devx.h'), 'utf8');
  const codes = [...header.matchAll(/DEVX_E_([A-Z_]+) = (\d+)/g)].map((m) => [m[1].toLowerCase(), Number(m[2])]);
  assert.ok(codes.length >= 16);
  for (const [code, status] of codes) {
    const Cls = devx.errorClass(code);
    assert.notEqual(Cls, devx.DevxError, code);
    const err = new Cls('m');
    assert.equal(err.code, code);
    assert.equal(err.status, status);
    assert.ok(err instanceof devx.DevxError);
  }
  assert.equal(devx.errorClass('config_invalid'), devx.ConfigError);
  assert.equal(devx.errorClass('config_not_found'), devx.ConfigNotFoundError);
  assert.equal(devx.errorClass('cancelled'), devx.CancelledError);
  assert.equal(devx.errorClass('timeout'), devx.TimeoutError);
  assert.equal(new devx.InvalidArgumentError('x').name, 'InvalidArgumentError');
  assert.equal(devx.errorClass('nope'), devx.DevxError);
});

test('index.d.ts declares every exported name', () => {
  const dts = fs.readFileSync(require.resolve('devx/index.d.ts'), 'utf8');
  for (const name of Object.keys(devx)) {
    assert.match(dts, new RegExp(`export (declare )?(function|class|const|interface|type) ${name}\\b`), name);
  }
});
