'use strict';
// Shared by the *.test.js files: fixture paths and a context per test file.
const fs = require('fs');
const os = require('os');
const path = require('path');

const DATA = path.resolve(__dirname, '..', 'data', 'bindings');

function tmpDir(prefix = 'devx-node-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// The resolved JSON every layer must produce for tests/data/bindings/multi with profile "ci"
// (user "tester"); "@DATA@" stands for the absolute fixture directory.
function expectedMultiCi() {
  const text = fs.readFileSync(path.join(DATA, 'expected', 'multi-ci.json'), 'utf8').trim();
  return text.split('@DATA@').join(DATA);
}

module.exports = { DATA, tmpDir, expectedMultiCi };
