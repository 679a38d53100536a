/**
 * The decompiler's interface, as the core (src/decompile/index.ts) implements it and the verifier,
 * the CLI and the measurement harness use it. Browser-safe: no Node APIs.
 */
import type { CodeObject } from '../bytecode/index.js'

/** What the decompiler says about one code object of its input. */
export interface DecompiledUnit {
  /** co_qualname (3.11+) or co_name of the original code object. */
  readonly qualname: string
  /** co_firstlineno of the original code object. */
  readonly firstLine: number
  /** 'not-recovered': the output holds a marker and the disassembly in place of its body. */
  readonly status: 'recovered' | 'not-recovered'
  /** Why it was not recovered (the construct that was not understood). */
  readonly reason?: string
}

/** The decompiler's output for one module. */
export interface DecompileResult {
  /** Python source that always compiles. */
  readonly source: string
  readonly units: readonly DecompiledUnit[]
}

/** A decompiler: the module's code object and its Python version in, source out. */
export type Decompiler = (code: CodeObject, version: readonly [number, number]) => DecompileResult
