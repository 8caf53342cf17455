#!/usr/bin/env node
'use strict';
// Runs the compiled CLI when built, otherwise the TypeScript source through tsx (a development checkout).
const path = require('node:path');
const fs = require('node:fs');
// A role whose parent died (a miner SIGKILLed under its executors, `horde up` killed) writes its logs into a closed
// pipe. Node reports that as an 'error' event (EPIPE) which, unhandled, would crash the process before it removes its
// job container or reports; the log lines are lost either way, the cleanup must not be.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error && error.code === 'EPIPE') return;
    throw error;
  });
}
const compiled = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (fs.existsSync(compiled)) {
  require(compiled).runCli();
} else {
  require('tsx/cjs');
  require(path.join(__dirname, '..', 'src', 'cli', 'main.ts')).runCli();
}
