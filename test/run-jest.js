#!/usr/bin/env node
// Runs jest once with --json so CI gets a single closing line "N passed, N failed"
// (CI does not read jest's own summary). Extra argv is passed through to jest.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const out = path.join(os.tmpdir(), `nlweb-chat-jest-${process.pid}.json`);
const jestBin = require.resolve('jest/bin/jest');
const args = [jestBin, '--json', `--outputFile=${out}`, '--detectOpenHandles', '--forceExit', ...process.argv.slice(2)];
const run = spawnSync(process.execPath, args, { stdio: 'inherit', env: process.env });
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const report = JSON.parse(fs.readFileSync(out, 'utf8'));
  passed = report.numPassedTests;
  failed = report.numFailedTests;
  skipped = report.numPendingTests + (report.numTodoTests || 0);
  // A suite that fails to load has no failed tests but must still count as failure.
  failed += report.testResults.filter((r) => r.status === 'failed' && r.assertionResults.length === 0).length;
  fs.unlinkSync(out);
} catch (err) {
  console.error('could not read jest report:', err.message);
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(run.status === 0 && failed === 0 ? 0 : 1);
