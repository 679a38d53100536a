#!/usr/bin/env node
// The pyxray command. Runs the bundle of src/cli (dist/bundle/pyxray.js, one module to load), built
// by `npm run build` (run automatically by npm install/ci; scripts/build-cli.mjs).
// A command that will compile source starts its Python worker first, so that the interpreter starts
// while Node sets up the commands (src/cli/prestart.ts).
import { prestart, runCli } from '../dist/bundle/pyxray.js'

const argv = process.argv.slice(2)
prestart(argv)
runCli(argv)
