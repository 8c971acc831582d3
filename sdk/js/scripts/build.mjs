// Builds the three shapes the SDK ships, from src/ with TypeScript (and esbuild for the single
// file): dist/esm (ES modules + .d.ts), dist/cjs (CommonJS), and dist/wshub.js, one script for
// browsers (global `Wshub`) and WeChat mini-programs (`require('./wshub.js')`).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(join(root, 'dist'), { recursive: true, force: true });
for (const project of ['tsconfig.json', 'tsconfig.cjs.json']) {
  execFileSync(process.execPath, [tsc, '-p', join(root, project)], { stdio: 'inherit' });
}
// Node reads dist/ (the single file, and dist/cjs) as CommonJS and dist/esm as ES modules,
// whatever the package's own "type".
writeFileSync(join(root, 'dist', 'package.json'), '{"type":"commonjs"}\n');
writeFileSync(join(root, 'dist', 'esm', 'package.json'), '{"type":"module"}\n');

await build({
  entryPoints: [join(root, 'src', 'index.ts')],
  outfile: join(root, 'dist', 'wshub.js'),
  bundle: true,
  format: 'iife',
  globalName: 'Wshub',
  // Mini-program base libraries and older WebViews: async/await is fine, newer syntax is not.
  target: 'es2017',
  // In a mini-program every file is a CommonJS module: export there; in a page, `Wshub` is global.
  footer: { js: "if (typeof module === 'object' && module && module.exports) module.exports = Wshub;" },
  legalComments: 'none',
  logLevel: 'warning',
});
console.log('built dist/esm, dist/cjs and dist/wshub.js');
