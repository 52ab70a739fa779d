// Child process of fast.test.mjs: the package as an engine without
// String.prototype.isWellFormed sees it, so every call takes the general entry.
// Reads {keyring, cases, envelopes, bad} as JSON on stdin; writes the results as JSON.
import { readFileSync } from 'node:fs';
import { run } from './fast-plan.mjs';

delete String.prototype.isWellFormed;
const kc = await import('../node.js');
const input = JSON.parse(readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(run(kc, input)));
