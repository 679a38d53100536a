/**
 * Verifying a decompilation: the original code object against the one CPython compiles from the
 * decompiled source, compared recursively, ignoring only line and column data.
 *
 * What is compared, per code object:
 * - the instructions: the base opname (never a specialized one) and the argument resolved to what
 *   it means — a constant by value, a name by name (with the flags dis shows beside it, such as
 *   `NULL + print`), a jump by the instruction it lands on, anything else by its number;
 * - the exception handler of every instruction (3.11+): where it goes, the stack depth, lasti;
 * - the tables, by position: co_consts (by value; nested code objects by name, and compared as code
 *   objects of their own), co_names, co_varnames, co_cellvars, co_freevars, and (3.11+) the kind
 *   of every local; argcount, posonlyargcount, kwonlyargcount, nlocals, stacksize, flags, name and
 *   qualname.
 *
 * What is not: co_filename, co_firstlineno, the line table (co_lnotab / co_linetable and the
 * positions in it), and two instructions that carry no meaning of their own: NOP (CPython keeps a
 * NOP only to hold a line number, so where it stays depends on the lines) and EXTENDED_ARG (needed
 * or not depending on how far a jump reaches, which NOPs change). Jump targets and exception
 * ranges are compared as instruction numbers counted without these two, so they line up. From
 * 3.13 a superinstruction (LOAD_FAST_LOAD_FAST…), formed only from two instructions on one line,
 * is compared as its two parts, and LOAD_FAST_BORROW (3.14) as LOAD_FAST (see SAME_AS). One
 * constant is line data too: from 3.13 a class body stores its first line as `__firstlineno__`;
 * the value loaded just before `STORE_NAME __firstlineno__` (or a nonlocal or global one) is not compared, nor are the entries of
 * co_consts holding either side's number (other loads of them are compared as any others are).
 *
 * Sets and frozensets are compared without regard to order (their marshalled order follows string
 * hashes, which differ between processes). CPython's compiler is deterministic, so equivalent
 * source gives the constants and names in the same order: a table in another order differs.
 *
 * Code objects are matched by position in the tree: the children of a code object (the code
 * objects among its constants) by qualname and, among children of the same qualname, by order.
 */
import { type CodeObject, disassemble, type Instruction, pyRepr } from '../bytecode/index.js'
import type { PyCode, PyObject } from '../marshal/index.js'
import type { DecompiledUnit } from './types.js'
import { firstAtOrAfter } from './search.js'

/** The verdict on one code object. */
export type VerifyStatus = 'equivalent' | 'differs' | 'not-recovered'

/** The first difference found in a code object. */
export interface Difference {
  /**
   * What differs: 'instruction' (the opname), 'argument', 'instructions' (one stream ends first),
   * 'jump target', 'exception handler', a table ('consts', 'names', 'varnames', 'cellvars', 'freevars',
   * 'localspluskinds'), a number ('argcount', 'posonlyargcount', 'kwonlyargcount', 'nlocals',
   * 'stacksize', 'flags'), 'name', 'qualname', 'code object' (none in the output at this place)
   * or 'compile' (the output does not compile).
   */
  readonly field: string
  /** Byte offset, in the original's co_code, of the first differing instruction (instruction fields). */
  readonly offset?: number
  /** Byte offset, in the recompiled co_code, of the instruction compared with it. */
  readonly gotOffset?: number
  /** Instruction number (NOP and EXTENDED_ARG not counted), or the index in a table. */
  readonly index?: number
  /** The original's side, as text (an instruction as dis shows it, a constant's repr, a number). */
  readonly expected: string
  /** The recompiled side, as text. */
  readonly got: string
}

/** The verdict on one code object of the original. */
export interface CodeVerdict {
  readonly qualname: string
  /** co_firstlineno of the original. */
  readonly firstLine: number
  /** Where it is in the tree: the child numbers from the module down, joined by "/" ("" for the module). */
  readonly path: string
  readonly status: VerifyStatus
  /** Why it was not recovered (status 'not-recovered'). */
  readonly reason?: string
  /** The first difference (status 'differs'). */
  readonly difference?: Difference
}

/** The verdicts on every code object of one module. */
export interface VerifyReport {
  /** One per code object of the original, parents before children, in co_consts order. */
  readonly verdicts: readonly CodeVerdict[]
  readonly equivalent: number
  readonly differs: number
  readonly notRecovered: number
  /** Why the output did not compile, when it did not (every recovered code object then differs). */
  readonly compileError?: string
}

/** Options of {@link verifyModule}. */
export interface VerifyOptions {
  /** The decompiler's word on each code object (those it did not recover count as such). */
  readonly units?: readonly DecompiledUnit[]
  /** Set when the output did not compile (then `recompiled` is undefined). */
  readonly compileError?: string
}

/**
 * Verifies a decompiled module: `original` against `recompiled`, the code object CPython made from
 * the decompiler's output (undefined when the output did not compile; give `compileError`).
 */
export function verifyModule(original: CodeObject, recompiled: CodeObject | undefined, options: VerifyOptions = {}): VerifyReport {
  const units = new Map<string, DecompiledUnit>()
  for (const u of options.units ?? []) units.set(unitKey(u.qualname, u.firstLine), u)
  const verdicts: CodeVerdict[] = []
  const { compileError } = options
  const visit = (orig: CodeObject, got: CodeObject | undefined, path: string, inside: string | undefined): void => {
    const base = { qualname: orig.qualname, firstLine: orig.firstlineno, path }
    const unit = units.get(unitKey(orig.qualname, orig.firstlineno))
    let verdict: CodeVerdict
    let notRecoveredIn = inside
    if (inside !== undefined) {
      verdict = { ...base, status: 'not-recovered', reason: `inside ${inside}, which was not recovered` }
    } else if (unit?.status === 'not-recovered') {
      verdict = { ...base, status: 'not-recovered', reason: unit.reason ?? 'not recovered' }
      notRecoveredIn = orig.qualname
    } else if (compileError !== undefined) {
      verdict = { ...base, status: 'differs', difference: { field: 'compile', expected: 'source that compiles', got: compileError } }
    } else if (got === undefined) {
      verdict = { ...base, status: 'differs', difference: { field: 'code object', expected: orig.qualname, got: 'no code object at this place in the output' } }
    } else {
      const difference = compareCode(orig, got)
      verdict = difference === undefined ? { ...base, status: 'equivalent' } : { ...base, status: 'differs', difference }
    }
    verdicts.push(verdict)
    const matched = got === undefined ? [] : matchChildren(orig.children, got.children)
    orig.children.forEach((child, i) => visit(child, matched[i], path === '' ? String(i) : `${path}/${i}`, notRecoveredIn))
  }
  visit(original, recompiled, '', undefined)
  let equivalent = 0
  let differs = 0
  let notRecovered = 0
  for (const v of verdicts) {
    if (v.status === 'equivalent') equivalent++
    else if (v.status === 'differs') differs++
    else notRecovered++
  }
  return { verdicts, equivalent, differs, notRecovered, ...(compileError !== undefined ? { compileError } : {}) }
}

const unitKey = (qualname: string, firstLine: number) => `${firstLine}\u0000${qualname}`

/** For each of `orig`, the child of `got` with the same qualname and the same rank among those of that qualname. */
function matchChildren(orig: readonly CodeObject[], got: readonly CodeObject[]): (CodeObject | undefined)[] {
  const byName = new Map<string, CodeObject[]>()
  for (const c of got) {
    const list = byName.get(c.qualname)
    if (list) list.push(c)
    else byName.set(c.qualname, [c])
  }
  const rank = new Map<string, number>()
  return orig.map((c) => {
    const k = rank.get(c.qualname) ?? 0
    rank.set(c.qualname, k + 1)
    return byName.get(c.qualname)?.[k]
  })
}

// --- one code object ---------------------------------------------------------------------------

/** The instructions that count, with jump targets and handlers as instruction numbers. */
interface Stream {
  readonly instructions: readonly Compared[]
  readonly opnames: readonly string[]
  /** Instruction number of the first counted instruction at or after a byte offset. */
  indexAt(offset: number): number
  /** Per instruction, its exception handler ("" when none) as instruction number, depth and lasti. */
  readonly handlers: readonly string[]
  /** Instruction numbers of the loads of `__firstlineno__`'s value (3.13+ class bodies). */
  readonly lineLoads: ReadonlySet<number>
  /** The line numbers those loads load. */
  readonly lineValues: ReadonlySet<bigint>
}

/** Opnames that carry no meaning of their own (see the file's comment). */
const SKIPPED: ReadonlySet<string> = new Set(['NOP', 'EXTENDED_ARG'])

/**
 * Superinstructions (3.13+) and their two parts: CPython joins two local loads or stores into one
 * only when both are on the same line, so they are compared as the two instructions they stand for.
 */
const SUPERINSTRUCTIONS: ReadonlyMap<string, readonly [string, string]> = new Map([
  ['LOAD_FAST_LOAD_FAST', ['LOAD_FAST', 'LOAD_FAST']],
  ['STORE_FAST_LOAD_FAST', ['STORE_FAST', 'LOAD_FAST']],
  ['STORE_FAST_STORE_FAST', ['STORE_FAST', 'STORE_FAST']],
  ['LOAD_FAST_BORROW_LOAD_FAST_BORROW', ['LOAD_FAST_BORROW', 'LOAD_FAST_BORROW']],
])

/**
 * Opnames compared as another: LOAD_FAST_BORROW (3.14+) is LOAD_FAST without the reference count,
 * chosen after superinstructions are formed (a load inside one stays LOAD_FAST), so which of the
 * two a load is follows the lines as well.
 */
const SAME_AS: ReadonlyMap<string, string> = new Map([['LOAD_FAST_BORROW', 'LOAD_FAST']])

/** An instruction of the compared stream: as decoded, or one part of a superinstruction. */
type Compared = Instruction & { readonly opnameShown?: string }

function streamOf(code: CodeObject): Stream {
  const dis = disassemble(code, { positions: false })
  const opnames = dis.rules.arrays.opnames
  const instructions: Compared[] = []
  for (const i of dis.instructions) {
    const name = opnames[i.baseOpcode]!
    if (SKIPPED.has(name)) continue
    const parts = SUPERINSTRUCTIONS.get(name)
    if (parts !== undefined && i.argval?.kind === 'names') {
      for (let p = 0; p < 2; p++) {
        const local = i.argval.value[p]!
        instructions.push({ ...i, opnameShown: SAME_AS.get(parts[p]!) ?? parts[p]!, argval: { kind: 'name', value: local }, argrepr: local })
      }
    } else {
      const same = SAME_AS.get(name)
      instructions.push(same === undefined ? i : { ...i, opnameShown: same })
    }
  }
  const offsets = instructions.map((i) => i.offset)
  const indexAt = (offset: number): number => firstAtOrAfter(offsets, offset)
  const handlers: string[] = new Array<string>(instructions.length).fill('')
  for (const e of dis.exceptionEntries) {
    const text = `to instruction ${indexAt(e.target)}, depth ${e.depth}${e.lasti ? ', lasti' : ''}`
    for (let k = indexAt(e.start); k < instructions.length && offsets[k]! < e.end; k++) handlers[k] = text
  }
  const lineLoads = new Set<number>()
  const lineValues = new Set<bigint>()
  for (let k = 1; k < instructions.length; k++) {
    const store = instructions[k]!
    const load = instructions[k - 1]!
    if (/^STORE_(NAME|DEREF|GLOBAL)$/.test(opnames[store.baseOpcode]!) && store.argrepr === '__firstlineno__' && (load.argval?.kind === 'const' || load.argval?.kind === 'int')) {
      lineLoads.add(k - 1)
      if (load.argval.kind === 'int') lineValues.add(BigInt(load.argval.value))
      else if (load.argval.value.type === 'int') lineValues.add(load.argval.value.value)
    }
  }
  return { instructions, opnames, indexAt, handlers, lineLoads, lineValues }
}

/** The first difference between two code objects (not their children), or undefined when equivalent. */
export function compareCode(expected: CodeObject, got: CodeObject): Difference | undefined {
  const a = streamOf(expected)
  const b = streamOf(got)
  // A class body's first line (3.13+) is in co_consts where the other side may have another number, or
  // share it with another use of the same value: those numbers are left out of both tables (every use
  // of them by an instruction is compared by value all the same).
  const lines = a.lineValues.size > 0 && b.lineValues.size > 0 ? new Set([...a.lineValues, ...b.lineValues]) : undefined
  const lineConst = (o: PyObject) => lines !== undefined && o.type === 'int' && lines.has(o.value)
  return compareInstructions(a, b) ?? compareFields(expected, got, lineConst)
}

/**
 * The first difference between two instruction streams. Opnames and arguments other than jump
 * targets come first, with the lengths: one instruction added or removed shifts every later jump
 * target and handler by one, so those are compared only once the instructions match one for one,
 * and the difference reported is the instruction itself, not a jump that lands past it.
 */
function compareInstructions(a: Stream, b: Stream): Difference | undefined {
  const n = Math.min(a.instructions.length, b.instructions.length)
  const nameOf = (s: Stream, i: Compared) => i.opnameShown ?? s.opnames[i.baseOpcode]!
  const at = (k: number, field: string, expected: string, got: string): Difference => {
    const x = a.instructions[k]
    const y = b.instructions[k]
    return { field, ...(x ? { offset: x.offset } : {}), ...(y ? { gotOffset: y.offset } : {}), index: k, expected, got }
  }
  const show = (s: Stream, k: number) => {
    const i = s.instructions[k]
    return i ? showInstruction(i, nameOf(s, i), s) : 'end of code'
  }
  for (let k = 0; k < n; k++) {
    const x = a.instructions[k]!
    const y = b.instructions[k]!
    // A class body's first line: LOAD_CONST on one side may be LOAD_SMALL_INT (3.14+) on the other.
    if (a.lineLoads.has(k) && b.lineLoads.has(k)) continue
    if (nameOf(a, x) !== nameOf(b, y)) return at(k, 'instruction', show(a, k), show(b, k))
    if (x.argval?.kind !== 'jump' && !sameArgument(x, y)) return at(k, 'argument', show(a, k), show(b, k))
  }
  if (a.instructions.length !== b.instructions.length) return at(n, 'instructions', show(a, n), show(b, n))
  for (let k = 0; k < n; k++) {
    const x = a.instructions[k]!
    const y = b.instructions[k]!
    if (x.argval?.kind === 'jump' && (y.argval?.kind !== 'jump' || a.indexAt(x.argval.value) !== b.indexAt(y.argval.value))) return at(k, 'jump target', show(a, k), show(b, k))
  }
  for (let k = 0; k < n; k++) {
    if (a.handlers[k] !== b.handlers[k]) return at(k, 'exception handler', `${show(a, k)}: ${a.handlers[k] || 'no handler'}`, `${show(b, k)}: ${b.handlers[k] || 'no handler'}`)
  }
  return undefined
}

/** Whether two instructions of the same opname have the same argument (jump targets are compared apart). */
function sameArgument(x: Compared, y: Compared): boolean {
  if (x.arg === undefined || y.arg === undefined) return x.arg === y.arg
  const xv = x.argval
  const yv = y.argval
  if (xv === undefined || yv === undefined) return xv === yv && x.arg === y.arg
  if (xv.kind !== yv.kind) return false
  switch (xv.kind) {
    case 'const':
      return sameConst(xv.value, (yv as typeof xv).value)
    case 'name':
    case 'names':
      // The names, with the flags dis prints beside them (NULL +, method); the index may differ only with the table.
      return x.argrepr === y.argrepr
    default:
      return x.arg === y.arg && x.argrepr === y.argrepr
  }
}

/** An instruction as dis shows it, with a jump's target as an instruction number too. */
function showInstruction(i: Compared, opname: string, s: Stream): string {
  const target = i.argval?.kind === 'jump' ? ` (instruction ${s.indexAt(i.argval.value)})` : ''
  return `${opname}${i.argrepr ? ` ${i.argrepr}` : i.arg !== undefined ? ` ${i.arg}` : ''}${target}`
}

/** The tables and numbers of two code objects; constants that are `lineConst` are left out of co_consts. */
function compareFields(expected: CodeObject, got: CodeObject, lineConst: (o: PyObject) => boolean): Difference | undefined {
  const minor = expected.pythonVersion[1]
  const numbers = ['argcount', 'posonlyargcount', 'kwonlyargcount', 'nlocals', 'stacksize', 'flags'] as const
  for (const field of numbers) {
    if (expected[field] !== got[field]) {
      const show = (v: number) => (field === 'flags' ? `0x${v.toString(16)}` : String(v))
      return { field, expected: show(expected[field]), got: show(got[field]) }
    }
  }
  for (const field of ['name', 'qualname'] as const) {
    if (expected[field] !== got[field]) return { field, expected: expected[field], got: got[field] }
  }
  const consts = compareTable('consts', expected.consts.filter((o) => !lineConst(o)), got.consts.filter((o) => !lineConst(o)), sameConst, (o) => constText(o, minor))
  if (consts) return consts
  for (const field of ['names', 'varnames', 'cellvars', 'freevars'] as const) {
    const d = compareTable(field, expected[field], got[field], (p, q) => p === q, (s) => JSON.stringify(s))
    if (d) return d
  }
  return compareTable('localspluskinds', [...expected.localspluskinds], [...got.localspluskinds], (p, q) => p === q, (k) => `0x${k.toString(16)}`)
}

function compareTable<T>(field: string, expected: readonly T[], got: readonly T[], same: (a: T, b: T, index: number) => boolean, show: (t: T) => string): Difference | undefined {
  const n = Math.min(expected.length, got.length)
  for (let i = 0; i < n; i++) {
    if (!same(expected[i]!, got[i]!, i)) return { field, index: i, expected: show(expected[i]!), got: show(got[i]!) }
  }
  if (expected.length !== got.length) {
    const a = expected[n]
    const b = got[n]
    return { field, index: n, expected: a === undefined ? `${n} entries` : show(a), got: b === undefined ? `${n} entries` : show(b) }
  }
  return undefined
}

/** A constant's repr for a report, cut short. */
function constText(o: PyObject, minor: number): string {
  if (o.type === 'code') return `<code object ${codeName(o)}>`
  let text: string
  try {
    text = pyRepr(o, { minor, maxLength: 4096 })
  } catch {
    return `<${o.type}>`
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text
}

function codeName(c: PyCode): string {
  const q = c.qualname ?? c.name
  return q.type === 'str' ? q.value : '?'
}

// --- constants ---------------------------------------------------------------------------------

/**
 * Whether two constants are the same value of the same type (1, 1.0 and True differ, as they do in
 * co_consts; 0.0 and -0.0 differ; NaN equals NaN). Sets and frozensets are compared as sets; code
 * objects by qualname (their contents are compared as code objects of their own).
 */
export function sameConst(a: PyObject, b: PyObject): boolean {
  if (a === b) return true
  switch (a.type) {
    case 'none':
    case 'ellipsis':
    case 'stopiteration':
      return b.type === a.type
    case 'bool':
      return b.type === 'bool' && a.value === b.value
    case 'int':
      return b.type === 'int' && a.value === b.value
    case 'float':
      return b.type === 'float' && Object.is(a.value, b.value)
    case 'complex':
      return b.type === 'complex' && Object.is(a.real, b.real) && Object.is(a.imag, b.imag)
    case 'bytes':
      return b.type === 'bytes' && sameBytes(a.value, b.value)
    case 'str':
      return b.type === 'str' && a.value === b.value && (a.utf8 === undefined) === (b.utf8 === undefined) && (a.utf8 === undefined || sameBytes(a.utf8, b.utf8!))
    case 'tuple':
    case 'list':
      return b.type === a.type && a.items.length === b.items.length && a.items.every((x, i) => sameConst(x, b.items[i]!))
    case 'set':
    case 'frozenset':
      return b.type === a.type && sameUnordered(a.items, b.items)
    case 'dict':
    case 'frozendict':
      return (
        b.type === a.type &&
        a.entries.length === b.entries.length &&
        a.entries.every(([k, v], i) => sameConst(k, b.entries[i]![0]) && sameConst(v, b.entries[i]![1]))
      )
    case 'slice':
      return b.type === 'slice' && sameConst(a.start, b.start) && sameConst(a.stop, b.stop) && sameConst(a.step, b.step)
    case 'code':
      return b.type === 'code' && codeName(a) === codeName(b)
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function sameUnordered(a: readonly PyObject[], b: readonly PyObject[]): boolean {
  if (a.length !== b.length) return false
  const used = new Uint8Array(b.length)
  outer: for (const x of a) {
    for (let j = 0; j < b.length; j++) {
      if (used[j] === 0 && sameConst(x, b[j]!)) {
        used[j] = 1
        continue outer
      }
    }
    return false
  }
  return true
}
