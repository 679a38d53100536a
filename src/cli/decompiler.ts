/**
 * The decompiler of this build, for `pyxray decompile` and scripts/decompile-all.ts: the one place
 * both get it from (tests inject stand-ins through runDecompile's parameter instead).
 */
import type { Decompiler } from '../decompile/types.js'
import { decompileModule } from '../decompile/index.js'

export const coreDecompiler: Decompiler | undefined = decompileModule
