#!/usr/bin/env node
'use strict';
// Builds the addon offline (npm's `install` script):
//  1. libdevx: a static PIC library built from this repository's source with CMake into
//     build/libdevx, or, when DEVX_PREFIX names an installed libdevx, found with pkg-config there;
//  2. SWIG: swig/devx.i -> build/swig/devx_wrap.cxx (regenerated only when its inputs changed);
//  3. node-gyp (the copy bundled with npm) configure + build, against the installed Node headers
//     (--nodedir, default /usr) so it never downloads them.
// Everything stays under build/, which is incremental: `node-gyp rebuild` is avoided because its
// clean step would delete build/libdevx.
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const pkgDir = path.resolve(__dirname, '..');
const buildDir = path.join(pkgDir, 'build');
const log = (msg) => process.stderr.write(`[devx] ${msg}\n`);

function run(cmd, args, opts = {}) {
  log(`$ ${[cmd, ...args].join(' ')}`);
  execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
}

function capture(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', ...opts }).trim();
}

function which(cmd) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const candidate = path.join(dir, cmd);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch (_) { /* keep looking */ }
  }
  return null;
}

function splitFlags(text) {
  return text.split(/\s+/).filter(Boolean);
}

// The libdevx source tree: this package lives in <repo>/bindings/node.
function repoRoot() {
  const root = path.resolve(pkgDir, '..', '..');
  if (!fs.existsSync(path.join(root, 'capi', 'include', 'devx', 'devx.h'))) {
    throw new Error(`libdevx sources not found at ${root}; set DEVX_PREFIX to an installed libdevx`);
  }
  return root;
}

function libdevxFromPrefix(prefix) {
  const pcDirs = ['lib/pkgconfig', 'lib64/pkgconfig', 'lib/x86_64-linux-gnu/pkgconfig',
    'share/pkgconfig'].map((d) => path.join(prefix, d));
  const env = {
    ...process.env,
    PKG_CONFIG_PATH: [...pcDirs, process.env.PKG_CONFIG_PATH || ''].filter(Boolean).join(':'),
  };
  const cflags = splitFlags(capture('pkg-config', ['--cflags', 'devx'], { env }));
  const libs = splitFlags(capture('pkg-config', ['--libs', 'devx'], { env }));
  const libdirs = libs.filter((f) => f.startsWith('-L')).map((f) => path.resolve(f.slice(2)));
  return {
    include_dirs: cflags.filter((f) => f.startsWith('-I')).map((f) => path.resolve(f.slice(2))),
    defines: cflags.filter((f) => f.startsWith('-D')).map((f) => f.slice(2)),
    libraries: libs.map((f) => (f.startsWith('-L') ? `-L${path.resolve(f.slice(2))}` : f)),
    // The shared libdevx must be found at run time without LD_LIBRARY_PATH.
    ldflags: libdirs.map((d) => `-Wl,-rpath,${d}`),
  };
}

function libdevxFromSource(root) {
  const out = path.join(buildDir, 'libdevx');
  if (!fs.existsSync(path.join(out, 'CMakeCache.txt'))) {
    const generator = which('ninja') ? ['-G', 'Ninja'] : [];
    run('cmake', ['-S', root, '-B', out, ...generator,
      '-DDEVX_BUILD_SHARED=OFF', '-DDEVX_BUILD_CLI=OFF', '-DDEVX_BUILD_TESTS=OFF',
      '-DDEVX_INSTALL=OFF', '-DCMAKE_BUILD_TYPE=Release',
      // -O2 like the repository's presets: GCC 12 at -O3 raises false-positive warnings
      // (-Wrestrict, -Wdangling-pointer in yaml-cpp) that DEVX_WERROR makes fatal.
      '-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG', '-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG',
      ...(process.env.DEVX_WERROR ? [`-DDEVX_WERROR=${process.env.DEVX_WERROR}`] : [])]);
  }
  run('cmake', ['--build', out, '--target', 'devx']);
  const archive = [path.join(out, 'lib', 'libdevx.a'), path.join(out, 'libdevx.a')]
    .find((p) => fs.existsSync(p));
  if (!archive) throw new Error(`libdevx.a not found under ${out}`);
  // libdevx's own dependencies (lib/CMakeLists.txt: Boost.JSON, yaml-cpp, spdlog, fmt, simdjson,
  // libcurl, threads), from Debian's packages.
  const pcLibs = splitFlags(capture('pkg-config', ['--libs', 'yaml-cpp', 'libcurl', 'fmt', 'spdlog']));
  return {
    include_dirs: [path.join(root, 'capi', 'include')],
    defines: ['DEVX_STATIC'],
    libraries: [archive, ...pcLibs, '-lboost_json', '-lsimdjson', '-lpthread'],
    ldflags: [],
  };
}

function newerThan(target, sources) {
  if (!fs.existsSync(target)) return false;
  const t = fs.statSync(target).mtimeMs;
  return sources.every((s) => fs.statSync(s).mtimeMs <= t);
}

function runSwig(includeDirs) {
  const iface = path.join(pkgDir, 'swig', 'devx.i');
  const header = includeDirs.map((d) => path.join(d, 'devx', 'devx.h')).find((p) => fs.existsSync(p));
  const out = path.join(buildDir, 'swig', 'devx_wrap.cxx');
  if (newerThan(out, [iface, header].filter(Boolean))) return;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  run(process.env.SWIG || 'swig', ['-javascript', '-node',
    ...includeDirs.map((d) => `-I${d}`), '-o', out, iface]);
}

// node-gyp as bundled with npm (`npx node-gyp` would try the network).
function nodeGypScript() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath) {
    candidates.push(path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules',
      'node-gyp', 'bin', 'node-gyp.js'));
  }
  const npm = which('npm');
  if (npm) {
    const npmDir = path.resolve(path.dirname(fs.realpathSync(npm)), '..');
    candidates.push(path.join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
    candidates.push(path.join(path.dirname(npm), '..', 'lib', 'node_modules', 'npm',
      'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  candidates.push(path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm',
    'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const found = candidates.find((p) => p && p.endsWith('.js') && fs.existsSync(p));
  if (!found) throw new Error(`node-gyp not found (looked at ${candidates.join(', ')})`);
  return found;
}

// Headers of the running Node: npm's nodedir setting, else the prefix of this node binary, else
// /usr (Debian's nodejs puts them in /usr/include/node).
function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'node.h'))) return prefix;
  return '/usr';
}

function main() {
  const start = Date.now();
  fs.mkdirSync(buildDir, { recursive: true });
  const flags = process.env.DEVX_PREFIX
    ? libdevxFromPrefix(process.env.DEVX_PREFIX)
    : libdevxFromSource(repoRoot());
  fs.writeFileSync(path.join(buildDir, 'devx-link.json'), JSON.stringify(flags, null, 2));
  runSwig(flags.include_dirs);
  const gyp = nodeGypScript();
  const common = [`--nodedir=${nodeDir()}`, '--release'];
  run(process.execPath, [gyp, 'configure', ...common], { cwd: pkgDir });
  run(process.execPath, [gyp, 'build', ...common, `--jobs=${Math.max(1, require('os').cpus().length)}`],
    { cwd: pkgDir });
  log(`addon built in ${((Date.now() - start) / 1000).toFixed(1)} s: build/Release/devx_native.node`);
}

try {
  main();
} catch (err) {
  log(`build failed: ${err.message}`);
  process.exit(1);
}
