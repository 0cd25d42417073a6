// Runs a bench written in TypeScript (Node 20 runs none itself) through
// Vite's module runner, the same Vite the console builds with: `node
// bench/run.mjs bench/output.ts --lines 1000`. The bench sees its own
// arguments as `process.argv.slice(2)`, as if it had been started directly.
import { resolve } from 'node:path';
import { argv } from 'node:process';
import { runnerImport } from 'vite';

const [file] = argv.splice(2, 1);
if (!file) throw new Error('usage: node bench/run.mjs <bench.ts> [arguments]');
await runnerImport(resolve(file));
