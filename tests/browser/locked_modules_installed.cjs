// Exits 0 when node_modules holds exactly the versions package-lock.json pins, 1 otherwise, so
// the ctest fixture runs `npm ci` after the pin changes and not on every run. Looks at the
// directory given as the first argument (examples use it too), else at this one.
const fs = require('fs');
const path = require('path');

const dir = path.resolve(process.argv[2] || __dirname);
const lock = JSON.parse(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8'));
for (const [where, locked] of Object.entries(lock.packages)) {
  if (!where) continue;  // the project itself
  const manifest = path.join(dir, where, 'package.json');
  let installed;
  try {
    installed = JSON.parse(fs.readFileSync(manifest, 'utf8')).version;
  } catch {
    // An optional package may be absent: npm installs only the platform's own binary of a
    // package like esbuild (@esbuild/linux-x64), not the other platforms' listed beside it.
    if (locked.optional) continue;
    process.exit(1);
  }
  if (installed !== locked.version) {
    console.log(`${where}: ${installed} installed, ${locked.version} locked`);
    process.exit(1);
  }
}
