#!/usr/bin/env node
// The pyxray command. Built from src/cli/main.ts by `npm run build` (run automatically by npm install/ci).
// A command that will compile source starts its Python worker first, so that the interpreter starts
// while Node loads the commands (src/cli/prestart.ts).
import { prestart } from '../dist/cli/prestart.js'

const argv = process.argv.slice(2)
prestart(argv)
const { runCli } = await import('../dist/cli/main.js')
runCli(argv)
