/**
 * Stack effects by opcode number: the generated net effects (effects/v3_X.ts, = dis.stack_effect)
 * and the reviewed pops/pushes (pops-pushes.ts), compiled once per version into arrays indexed
 * by opcode. Specialized opcodes (3.11+) answer as their base instruction.
 *
 * No Node or DOM API is used: this module runs in browsers too.
 */
import { BytecodeError } from '../errors.js'
import { versionRules } from '../rules.js'
import { NET_EFFECTS } from './effects/index.js'
import { formulaFunction, type OpargFunction } from './expr.js'
import { POPS_PUSHES } from './pops-pushes.js'
import type { NetEffectTable, PopsPushesRow, StackEffect } from './types.js'

/** One direction of one opcode, compiled. */
interface Compiled {
  readonly pops: OpargFunction
  readonly pushes: OpargFunction
}

/** The stack effects of one Python version, by (possibly specialized) opcode. */
export interface StackEffectTable {
  readonly minor: number
  /** The generated table this was built from. */
  readonly generated: NetEffectTable
  /**
   * Pops and pushes of `opcode` with argument `oparg` (ignored by opcodes without one) when it
   * falls through (`jump` false), branches (`jump` true), or — `jump` undefined — whichever of the
   * two leaves the deeper stack, as dis.stack_effect's jump=None. Undefined for opcodes this
   * version does not define or gives no effect for.
   */
  stackEffect(opcode: number, oparg: number, jump?: boolean): StackEffect | undefined
  /**
   * `dis.stack_effect(opcode, oparg, jump=jump)` from the generated table (max of both
   * directions when `jump` is undefined), or undefined where CPython has none.
   */
  netEffect(opcode: number, oparg: number, jump?: boolean): number | undefined
}

const tables = new Map<number, StackEffectTable>()

/** The compiled stack effects of CPython 3.`minor`; throws BytecodeError for unsupported versions. */
export function stackEffectTable(minor: number): StackEffectTable {
  let table = tables.get(minor)
  if (table === undefined) {
    table = build(minor)
    tables.set(minor, table)
  }
  return table
}

/**
 * Pops and pushes of one instruction of CPython 3.`minor` (see {@link StackEffectTable.stackEffect}).
 * `jump`: false = falls through to the next instruction, true = branches to its target (or, for
 * ≤ 3.10's SETUP_*, enters the handler), undefined = the deeper of the two.
 */
export function stackEffect(minor: number, opcode: number, oparg: number, jump?: boolean): StackEffect | undefined {
  return stackEffectTable(minor).stackEffect(opcode, oparg, jump)
}

/** The pops/pushes row of `name` that applies to 3.`minor`: the one with the largest key ≤ minor. */
export function popsPushesRow(name: string, minor: number): PopsPushesRow | null | undefined {
  const rows = POPS_PUSHES[name]
  if (rows === undefined) return undefined
  let best: number | undefined
  for (const key of Object.keys(rows)) {
    const from = Number(key)
    if (from <= minor && (best === undefined || from > best)) best = from
  }
  return best === undefined ? undefined : rows[best]
}

function compile(row: PopsPushesRow): { next: Compiled; jump: Compiled } {
  const one = (pp: readonly [number | string, number | string]): Compiled => ({
    pops: formulaFunction(pp[0]),
    pushes: formulaFunction(pp[1]),
  })
  if ('next' in row) return { next: one(row.next), jump: one(row.jump) }
  const both = one(row as readonly [number | string, number | string])
  return { next: both, jump: both }
}

function build(minor: number): StackEffectTable {
  const generated = NET_EFFECTS[minor]
  if (generated === undefined) {
    throw new BytecodeError('UNSUPPORTED_VERSION', `no stack-effect table for Python 3.${minor}`)
  }
  const rules = versionRules(minor)
  const { deopt } = rules.arrays
  const next: (Compiled | undefined)[] = new Array(256).fill(undefined)
  const jump: (Compiled | undefined)[] = new Array(256).fill(undefined)
  const netNext: (OpargFunction | undefined)[] = new Array(256).fill(undefined)
  const netJump: (OpargFunction | undefined)[] = new Array(256).fill(undefined)
  for (const [name, op] of Object.entries(rules.table.opmap)) {
    if (op >= 256) continue
    const row = popsPushesRow(name, minor)
    if (row) {
      const c = compile(row)
      next[op] = c.next
      jump[op] = c.jump
    }
    const net = generated.effects[name]
    if (net !== null && net !== undefined) {
      const [n, j] = typeof net === 'object' ? [net.next, net.jump] : [net, net]
      netNext[op] = formulaFunction(n)
      netJump[op] = formulaFunction(j)
    }
  }
  const effectOf = (c: Compiled | undefined, oparg: number): StackEffect | undefined =>
    c === undefined ? undefined : { pops: c.pops(oparg), pushes: c.pushes(oparg) }
  return {
    minor,
    generated,
    stackEffect(opcode, oparg, dir) {
      const op = deopt[opcode]
      if (op === undefined) return undefined
      if (dir !== undefined) return effectOf(dir ? jump[op] : next[op], oparg)
      const a = effectOf(next[op], oparg)
      const b = effectOf(jump[op], oparg)
      if (a === undefined || b === undefined) return a ?? b
      return b.pushes - b.pops > a.pushes - a.pops ? b : a
    },
    netEffect(opcode, oparg, dir) {
      const op = deopt[opcode]
      if (op === undefined) return undefined
      const n = netNext[op]
      const j = netJump[op]
      if (n === undefined || j === undefined) return undefined
      if (dir === undefined) return Math.max(n(oparg), j(oparg))
      return dir ? j(oparg) : n(oparg)
    },
  }
}
