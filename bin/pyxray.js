#!/usr/bin/env node
// The pyxray command. Built from src/cli/main.ts by `npm run build` (run automatically by npm install/ci).
import { runCli } from '../dist/cli/main.js'

runCli(process.argv.slice(2))
