#!/usr/bin/env node
// The CLI is compiled to dist/ and bundled into dist/bundle/ (by `npm ci`/`npm install` through
// the prepare script): a command starts without compiling TypeScript on the fly, and loads one
// file instead of a hundred modules (scripts/bundle-cli.ts).
import '../dist/bundle/main.js';
