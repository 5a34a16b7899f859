#!/usr/bin/env node
// The CLI is compiled to dist/ (by `npm ci`/`npm install` through the prepare script) so that a
// command starts without compiling TypeScript on the fly.
import '../dist/cli/main.js';
