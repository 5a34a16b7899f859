#!/usr/bin/env node
// The CLI is compiled to dist/ and bundled into dist/bundle/ (by `npm ci`/`npm install` through
// the prepare script): a command starts without compiling TypeScript on the fly, and loads one
// file instead of a hundred modules (scripts/bundle-cli.ts). A no-op `repro` or `status` whose
// last record still holds is answered by a small module of its own, without loading the CLI
// (src/cli/up-to-date-cli.ts).
import process from 'node:process';
import { upToDateCli } from '../dist/bundle/up-to-date-cli.js';

const code = upToDateCli(process.argv.slice(2));
if (code === undefined) await import('../dist/bundle/main.js');
else process.exitCode = code;
