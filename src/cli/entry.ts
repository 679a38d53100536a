/**
 * What bin/pyxray.js loads: the entry of the bundled command line (dist/bundle/pyxray.js, made by
 * scripts/build-cli.mjs), one module instead of the ~60 a cold `pyxray dis` would load one by one.
 * prestart and the commands come from one bundle so they share one copy of the runtime's state.
 */
export { prestart } from './prestart.js'
export { runCli } from './main.js'
