/**
 * The decompiler of this build, for `pyxray decompile` and scripts/decompile-all.ts: the one place
 * both get it from. Once the core (src/decompile/index.ts) is in, the line below becomes
 * `export { decompileModule as coreDecompiler } from '../decompile/index.js'`.
 */
export const coreDecompiler: import('../decompile/types.js').Decompiler | undefined = undefined
