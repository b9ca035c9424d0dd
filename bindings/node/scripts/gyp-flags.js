'use strict';
// Prints one field of build/devx-link.json (written by scripts/build.js) for binding.gyp's
// command expansions: one item per line.
const fs = require('fs');
const path = require('path');

const field = process.argv[2];
const file = path.join(__dirname, '..', 'build', 'devx-link.json');
const flags = JSON.parse(fs.readFileSync(file, 'utf8'));
if (!(field in flags)) {
  process.stderr.write(`gyp-flags: unknown field ${field}\n`);
  process.exit(1);
}
process.stdout.write(flags[field].join('\n'));
