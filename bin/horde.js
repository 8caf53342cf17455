#!/usr/bin/env node
'use strict';
// Runs the compiled CLI when built, otherwise the TypeScript source through tsx (a development checkout).
const path = require('node:path');
const fs = require('node:fs');
const compiled = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (fs.existsSync(compiled)) {
  require(compiled).runCli();
} else {
  require('tsx/cjs');
  require(path.join(__dirname, '..', 'src', 'cli', 'main.ts')).runCli();
}
