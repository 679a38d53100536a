#!/usr/bin/env node
// The pyxray command. Runs the bundle of src/cli (dist/bundle/, made by `npm run build`, which npm
// install/ci run: scripts/build-cli.mjs). A command that will compile source starts its Python
// worker first, so that the interpreter starts while Node loads the commands (src/cli/prestart.ts).
import { prestart } from '../dist/bundle/prestart.js'

const argv = process.argv.slice(2)
prestart(argv)
const { runCli } = await import('../dist/bundle/pyxray.js')
runCli(argv)
