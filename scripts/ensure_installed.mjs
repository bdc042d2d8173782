// prestart / pretest: `npm start` and `npm test` work on a fresh clone by
// themselves. When node_modules is missing, or older than package-lock.json
// (a pull changed a dependency), this runs `npm ci` first; the script npm runs
// next then finds the pinned Node 24 (the `node` devDependency) on its PATH.
// Plain JavaScript on purpose: it runs on whatever Node the machine has
// (Node 20 here), which cannot run the TypeScript scripts.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const LOCK = 'package-lock.json';
const INSTALLED = 'node_modules/.package-lock.json'; // npm's record of what node_modules holds

function staleness() {
  if (!existsSync(INSTALLED) || !existsSync('node_modules/.bin/node')) return 'node_modules is missing';
  const wanted = JSON.parse(readFileSync(LOCK, 'utf8')).packages ?? {};
  const have = JSON.parse(readFileSync(INSTALLED, 'utf8')).packages ?? {};
  for (const [path, entry] of Object.entries(wanted)) {
    if (path === '' || entry.optional) continue; // the project itself; other platforms' binaries
    if (have[path]?.version !== entry.version) return `${path.replace(/^node_modules\//, '')} is not at ${entry.version}`;
  }
  return null;
}

const why = staleness();
if (why) {
  console.error(`${why}: running npm ci first (once)`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('npm ci failed: see above (it needs the npm registry, or a populated npm cache)');
    process.exit(result.status ?? 1);
  }
}

// What else a command needs from the machine: one line each, before it fails less clearly.
const NEEDS = {
  pretest: [['python3', 'the Python client\'s tests (test/clients/python.test.ts) run python3: apt-get install python3']],
};
for (const [command, hint] of NEEDS[process.env.npm_lifecycle_event] ?? []) {
  if (spawnSync(command, ['--version'], { stdio: 'ignore' }).error) console.error(`missing ${command}: ${hint}`);
}
