/**
 * The decompiler: CPython bytecode back to Python source.
 *
 * Design, in three steps per code object:
 *   1. ir.ts normalizes the decoded instructions of every version into one small IR (named rules
 *      in NORMALIZE_RULES: superinstructions split, the call forms unified, NULL slots explicit,
 *      jumps as targets, no-op instructions dropped);
 *   2. body.ts runs the IR on a symbolic stack whose values are an expression tree (expr.ts, printed
 *      with Python's precedence) plus a few markers (iterators, unpacking slots, functions being
 *      built, imported modules);
 *   3. body.ts structures the jumps into statements (if/elif/else, while, for, break/continue,
 *      and/or conditions, chained comparisons, conditional expressions, assert) range by range,
 *      and, from the exception table (3.12+: handlers after the body), try/except/else, with, and
 *      inlined comprehensions; nested comprehension functions are read back from their loops.
 * This file puts the pieces together: signatures, decorators, docstrings, global/nonlocal,
 * classes and lambdas, and the module. A code object that any step cannot handle (a construct not
 * recovered yet, or anything inconsistent) becomes a marker with its disassembly as comments and
 * a `raise NotImplementedError`, so the module source always compiles; nothing here throws.
 *
 * Core layer: no dependencies, no Node APIs.
 */
import { type CodeObject, formatDis, parseExceptionTable } from '../bytecode/index.js'
import { BodyBuilder, type ClassValue, COMP_ELEMENT, type FuncValue, indent, type Nested, readComprehension, type TryEntry, Unsupported } from './body.js'
import { constText, type Expr, Prec, Printer, UnprintableError } from './expr.js'
import { ASSERTION_ERROR, normalize, type Op } from './ir.js'
import type { DecompiledUnit, DecompileResult } from './types.js'

export { NORMALIZE_RULES, type NormalizeRule } from './ir.js'

export type { DecompiledUnit, DecompileResult, Decompiler } from './types.js'

/** Work budget of a partly recovered body, in ops built over (about 10 ns each: 2 s at most). */
const PARTIAL_WORK = 200_000_000

const CO_VARARGS = 0x4
const CO_VARKEYWORDS = 0x8
const CO_GENERATOR = 0x20
const CO_COROUTINE = 0x80
const CO_ASYNC_GENERATOR = 0x200
const CO_HAS_DOCSTRING = 0x4000000

/** A code object's outcome, filled as the source is made. */
interface Outcome {
  ok: boolean
  reason?: string
}

/** Decompiles one module. `version` = [major, minor], e.g. [3, 12]; `code` = the module code object. */
export function decompileModule(code: CodeObject, version: readonly [number, number]): DecompileResult {
  const d = new Decompiler(version[1])
  let source: string
  try {
    source = d.module(code)
  } catch (e) {
    // Anything unexpected: the module as a marker (still valid Python).
    d.outcomes.set(code, { ok: false, reason: `internal: ${oneLine(e)}` })
    source = marker(code, `internal: ${oneLine(e)}`, '').join('\n') + '\n'
  }
  const units: DecompiledUnit[] = []
  const walk = (c: CodeObject, parentOk: boolean) => {
    const o = d.outcomes.get(c)
    const ok = parentOk && o?.ok === true
    const reason = !parentOk ? 'not reached: its parent was not recovered' : o === undefined ? 'not reached: inside statements that were not recovered' : o.reason
    units.push(ok ? { qualname: c.qualname, firstLine: c.firstlineno, status: 'recovered', ...(o.reason !== undefined ? { reason: o.reason } : {}) } : { qualname: c.qualname, firstLine: c.firstlineno, status: 'not-recovered', reason: reason ?? 'not recovered' })
    for (const ch of c.children) walk(ch, ok || (o !== undefined && o.ok === false && false))
  }
  walk(code, true)
  return { source, units }
}

function oneLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e)
  return m.split('\n')[0]!.slice(0, 200)
}

/** The marker that stands for a body not recovered: reason, disassembly, raise. */
function marker(code: CodeObject, reason: string, qual: string): string[] {
  const lines = [`# pyxray: not recovered (${reason})`]
  let dis: string
  try {
    dis = formatDis(code, { recursive: false })
  } catch (e) {
    dis = `(no disassembly: ${oneLine(e)})`
  }
  for (const l of dis.split('\n')) if (l.trim() !== '') lines.push(`#   ${l}`)
  const label = qual === '' ? code.qualname : qual
  lines.push(`raise NotImplementedError(${JSON.stringify(`pyxray: ${label.replace(/[^\x20-\x7e]/g, '?')} not recovered from bytecode`)})`)
  return lines
}

class Decompiler {
  readonly outcomes = new Map<CodeObject, Outcome>()
  private readonly printer: Printer

  constructor(private readonly minor: number) {
    this.printer = new Printer(minor)
  }

  module(code: CodeObject): string {
    let lines: string[]
    try {
      lines = this.statements(code, 'module')
      if (!this.outcomes.has(code)) this.outcomes.set(code, { ok: true })
    } catch (e) {
      const reason = e instanceof Unsupported || e instanceof UnprintableError ? oneLine(e) : `internal: ${oneLine(e)}`
      this.outcomes.set(code, { ok: false, reason })
      lines = marker(code, reason, '<module>')
    }
    return lines.length === 0 ? '' : lines.join('\n') + '\n'
  }

  /** The statements of a module, class or function body. Throws Unsupported. */
  private statements(code: CodeObject, kind: 'module' | 'class' | 'function'): string[] {
    const ir = normalize(code)
    const ops = ir.ops
    const exc = this.checkExceptions(code, ir)
    let start = 0
    let end = exc.end ?? ops.length
    let docstring: string | undefined
    const prologue: string[] = []
    if (kind === 'class') {
      // __module__ = __name__; __qualname__ = '…'; 3.13+ __firstlineno__; 3.12+ __classdict__ cell
      const is = (k: number, op: string, nm?: string) => ops[k]?.op === op && (nm === undefined || (ops[k] as { name?: string }).name === nm)
      for (;;) {
        if (is(start, 'load', '__name__') && is(start + 1, 'store', '__module__')) start += 2
        else if (is(start, 'const') && is(start + 1, 'store', '__qualname__')) start += 2
        else if (is(start, 'const') && is(start + 1, 'store', '__firstlineno__')) start += 2
        else if (is(start, 'load_locals') && is(start + 1, 'store', '__classdict__')) start += 2
        else if (is(start, 'const') && is(start + 1, 'store', '__doc__')) {
          const c = ops[start] as Extract<Op, { op: 'const' }>
          docstring = constText(c.value, this.minor)
          start += 2
        } else break
      }
      // the end: return None, or return of the __class__ cell stored as __classcell__
      if (ops[end - 1]?.op !== 'return') throw new Unsupported('internal: class body without a final return')
      end--
      if (is(end - 1, 'const')) end--
      else if (is(end - 1, 'store', '__classcell__') && is(end - 2, 'copy') && is(end - 3, 'load', '__class__')) end -= 3
      else throw new Unsupported('unsupported: class body end')
      for (;;) {
        if (is(end - 1, 'store', '__classdictcell__') && is(end - 2, 'load', '__classdict__')) end -= 2
        else if (is(end - 1, 'store', '__static_attributes__') && is(end - 2, 'const')) end -= 2
        else break
      }
    } else if (kind === 'module') {
      if (ops[start]?.op === 'const' && ops[start + 1]?.op === 'store' && (ops[start + 1] as { name: string }).name === '__doc__') {
        const c = ops[start] as Extract<Op, { op: 'const' }>
        docstring = constText(c.value, this.minor)
        start += 2
      }
    } else {
      const first = code.consts[0]
      const hasDoc = this.minor >= 14 ? (code.flags & CO_HAS_DOCSTRING) !== 0 : first?.type === 'str' && code.name !== '<lambda>'
      if (hasDoc && first !== undefined) docstring = constText(first, this.minor)
    }
    const globals = new Set<string>()
    const nonlocals = new Set<string>()
    const run = (from: number, to: number, whole: boolean): string[] => {
      const b = new BodyBuilder(code, ir, this.nestedHooks(), kind === 'function', exc.entries)
      const lines = b.body(from, to, !whole)
      // the decompiler's own markers must never reach the source
      if (lines.some((l) => l.includes(ASSERTION_ERROR) || l.includes(COMP_ELEMENT))) throw new Unsupported('unsupported: assert or comprehension shape')
      for (const g of b.globals) globals.add(g)
      for (const n of b.nonlocals) nonlocals.add(n)
      return lines
    }
    const before = new Set(this.outcomes.keys())
    let body: string[]
    try {
      body = run(start, end, true)
    } catch (e) {
      // A module or class body keeps the statements that are recovered (their definitions with them);
      // the ranges that are not become markers. A function body becomes one marker (the caller's).
      if (kind === 'function' || !(e instanceof Unsupported || e instanceof UnprintableError)) throw e
      this.forgetSince(before)
      body = this.partial(code, ir, exc.entries, start, end, run)
    }
    if (kind === 'function' && body[body.length - 1] === 'return None') body = body.slice(0, -1)
    // an async generator may not return a value, not even None: `return` compiles the same
    if (kind === 'function' && (code.flags & CO_ASYNC_GENERATOR) !== 0) body = body.map((l) => l.replace(/^(\s*)return None$/, '$1return'))
    if (globals.size > 0) prologue.push(`global ${[...globals].join(', ')}`)
    if (nonlocals.size > 0) prologue.push(`nonlocal ${[...nonlocals].join(', ')}`)
    if (docstring !== undefined) prologue.unshift(docstring)
    return [...prologue, ...body]
  }

  /** Drops the outcomes recorded since `before` (of nested code objects in a range given up). */
  private forgetSince(before: ReadonlySet<CodeObject>): void {
    for (const c of [...this.outcomes.keys()]) if (!before.has(c)) this.outcomes.delete(c)
  }

  /**
   * A module or class body that does not decompile as a whole, statement range by statement range:
   * ops [start, end) are cut where no jump and no protected range crosses, each range as long as
   * needed to decompile with nothing left on the stack; a range that does not becomes a marker
   * (its disassembly as comments, then a raise behind a test the compiler cannot fold, so the
   * statements after it, and the functions and classes they define, stay in the compiled code).
   * The body's outcome is set to recovered with the reason "partly recovered: …".
   */
  private partial(code: CodeObject, ir: ReturnType<typeof normalize>, entries: readonly TryEntry[], start: number, end: number, run: (from: number, to: number, whole: boolean) => string[]): string[] {
    const ops = ir.ops
    const blocked = new Uint8Array(end + 1)
    const block = (lo: number, hi: number) => {
      for (let k = Math.max(lo, start + 1); k < Math.min(hi, end); k++) blocked[k] = 1
    }
    const starts = entries.map((e) => e.start).sort((a, b) => a - b)
    ops.forEach((o, i) => {
      if (!('target' in o)) return
      const t = ir.indexOf(o.target)
      if (i >= end) {
        // a handler going back to the body: from the try statement it belongs to up to there
        let from = start
        for (const st of starts) if (st < t) from = st
        block(from + 1, t)
      } else if (t > i) block(i + 1, t)
      else block(t + 1, i + 1)
    })
    for (const e of entries) block(e.start + 1, e.end)
    const cuts: number[] = []
    for (let k = start + 1; k < end; k++) if (blocked[k] === 0) cuts.push(k)
    cuts.push(end)
    const out: string[] = []
    const failed: string[] = []
    let bad: { from: number; reason: string } | undefined
    const flushBad = (to: number) => {
      if (bad === undefined) return
      out.push(...this.rangeMarker(code, ir, bad.from, to, bad.reason))
      failed.push(bad.reason)
      bad = undefined
    }
    let c = 0
    let s = start
    // Each attempt builds over the whole code object: attempts are bounded so that the work stays
    // linear in its size (8,000 unreachable returns took 50 s); past the budget the rest is one marker.
    let attempts = Math.max(256, Math.floor(PARTIAL_WORK / Math.max(1, ops.length)))
    while (s < end) {
      while (cuts[c]! <= s) c++
      if (attempts <= 0) {
        bad ??= { from: s, reason: 'more statement ranges than the work budget retries (it grows with the code object)' }
        break
      }
      let lines: string[] | undefined
      let reason = 'not recovered'
      let next = cuts[c]!
      for (let j = c; j < cuts.length && j < c + 64 && lines === undefined && attempts-- > 0; j++) {
        const before = new Set(this.outcomes.keys())
        try {
          lines = run(s, cuts[j]!, false)
          next = cuts[j]!
        } catch (e) {
          this.forgetSince(before)
          if (!(e instanceof Unsupported || e instanceof UnprintableError)) throw e
          if (!/left on the stack|stack underflow/.test(e.message) || reason === 'not recovered') reason = oneLine(e)
        }
      }
      if (lines === undefined) {
        bad ??= { from: s, reason }
      } else {
        flushBad(s)
        out.push(...lines)
      }
      s = next
    }
    flushBad(end)
    // `from __future__` must stay first: after a marker it would not compile
    const firstMarker = out.findIndex((l) => l.startsWith('# pyxray: statements not recovered'))
    if (firstMarker >= 0 && out.some((l, n) => n > firstMarker && l.startsWith('from __future__ import '))) throw new Unsupported(failed[0] ?? 'unsupported: statements before a __future__ import')
    this.outcomes.set(code, { ok: true, reason: `partly recovered: ${failed.length} statement range(s) not recovered (first: ${failed[0] ?? 'none'})` })
    return out
  }

  /** The marker for ops [from, to) of a module or class body: reason, disassembly, guarded raise. */
  private rangeMarker(code: CodeObject, ir: ReturnType<typeof normalize>, from: number, to: number, reason: string): string[] {
    const lo = ir.ops[from]!.at
    const hi = ir.ops[to]?.at ?? Infinity
    const where = `bytes ${lo} to ${hi === Infinity ? 'the end' : hi}`
    const lines = [`# pyxray: statements not recovered (${reason}), ${where}:`]
    let dis: string
    try {
      dis = formatDis(code, { recursive: false, showOffsets: true })
    } catch (e) {
      dis = `(no disassembly: ${oneLine(e)})`
    }
    let inside = false
    for (const l of dis.split('\n')) {
      const m = /^\s*(?:(?:\d+|--)\s+)?(?:(?:L\d+:|>>)\s+)?(\d+)\s+[A-Z]/.exec(l)
      if (m !== null) inside = Number(m[1]) >= lo && Number(m[1]) < hi
      else if (/^\S/.test(l)) inside = false
      if (inside && l.trim() !== '') lines.push(`#   ${l}`)
    }
    const label = `${code.qualname.replace(/[^\x20-\x7e]/g, '?')} statements at ${where}`
    lines.push('if __name__:  # a test the compiler keeps: the statements after this stay in the code')
    lines.push(`    raise NotImplementedError(${JSON.stringify(`pyxray: ${label} not recovered from bytecode`)})`)
    return lines
  }

  /**
   * The exception table as op-index ranges, and where the handlers start (the body ends there:
   * 3.12+ moves every handler after the body). The generator wrapper (3.12+) is left out; before
   * 3.12 handlers sit inside the body, so any other entry is not supported there yet.
   */
  private checkExceptions(code: CodeObject, ir: ReturnType<typeof normalize>): { end: number | undefined; entries: TryEntry[] } {
    const entries: TryEntry[] = []
    if (code.exceptiontable.length === 0) return { end: undefined, entries }
    let handlerStart: number | undefined
    for (const e of parseExceptionTable(code.exceptiontable)) {
      const h = ir.indexOf(e.target)
      const op = ir.ops[h]
      const isGenWrapper = op?.op === 'intrinsic' && op.which === 'INTRINSIC_STOPITERATION_ERROR' && (code.flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)) !== 0
      // the send loop of an await or yield from: part of its op
      const isSendCleanup = op?.op === 'unsupported' && op.opname === 'CLEANUP_THROW'
      if (!isGenWrapper && !isSendCleanup) {
        if (this.minor < 12) throw new Unsupported('unsupported: try/except, with or a comprehension before 3.12 (exception table)')
        entries.push({ start: ir.indexOf(e.start), end: ir.indexOf(e.end), handler: h, depth: e.depth })
      }
      handlerStart = Math.min(handlerStart ?? h, h)
    }
    return { end: handlerStart, entries }
  }

  /** `def`/`class` lines for a function or class stored under `target`. */
  private define(v: FuncValue | ClassValue, target: string): string[] {
    const decorators = v.decorators.map((d) => `@${this.printer.expr(d, Prec.Tuple)}`)
    if (v.kind === '$class') {
      const code = v.func.code
      if (v.name !== target && !mangledMatch(v.name, target)) throw new Unsupported('unsupported: class stored under another name')
      const args = [...v.bases.map((b) => this.printer.arg(b)), ...v.keywords.map((k) => (k.name === undefined ? `**${this.printer.expr(k.value, Prec.BitOr)}` : `${k.name}=${this.printer.expr(k.value, Prec.Lambda)}`))]
      const header = `class ${v.name}${args.length > 0 ? `(${args.join(', ')})` : ''}:`
      return [...decorators, header, ...indent(this.child(code, 'class'))]
    }
    const code = v.code
    if (code.name !== target && !mangledMatch(code.name, target)) throw new Unsupported('unsupported: function stored under another name')
    const isAsync = (code.flags & (CO_COROUTINE | CO_ASYNC_GENERATOR)) !== 0
    const header = `${isAsync ? 'async ' : ''}def ${code.name}(${this.signature(v, true)})${this.returns(v)}:`
    return [...decorators, header, ...indent(this.child(code, 'function'))]
  }

  /** The body of a nested function or class, or its marker. */
  private child(code: CodeObject, kind: 'class' | 'function'): string[] {
    try {
      const lines = this.statements(code, kind)
      if (!this.outcomes.has(code)) this.outcomes.set(code, { ok: true })
      return lines.length === 0 ? ['pass'] : lines
    } catch (e) {
      const reason = e instanceof Unsupported || e instanceof UnprintableError ? oneLine(e) : `internal: ${oneLine(e)}`
      this.outcomes.set(code, { ok: false, reason })
      return marker(code, reason, '')
    }
  }

  private nestedHooks(): Nested {
    return { define: (v, t) => this.define(v, t), lambda: (v) => this.lambda(v), comprehension: (v, it) => this.comprehension(v, it), annotate: (v) => this.annotate(v) }
  }

  /**
   * 3.14+ annotations: `__annotate__(format)` is `if format > 2: raise NotImplementedError`, then
   * `return {name: annotation, …}`; the dict is read back.
   */
  private annotate(v: FuncValue): Expr {
    const code = v.code
    if (code.name !== '__annotate__') throw new Unsupported('unsupported: annotate function')
    const ir = normalize(code)
    const ops = ir.ops
    const raise = ops.findIndex((o) => o.op === 'raise')
    if (raise < 0 || ops[ops.length - 1]?.op !== 'return') throw new Unsupported('unsupported: annotate function shape')
    const b = new BodyBuilder(code, ir, this.nestedHooks(), true, [])
    const dict = b.value(raise + 1, ops.length - 1)
    if (dict.kind !== 'dict') throw new Unsupported('unsupported: annotate function shape')
    this.outcomes.set(code, { ok: true })
    return dict
  }

  /**
   * A comprehension from its nested code object: the body decompiles as loops and ifs around one
   * element line (`(yield e)` or the append marker), read back into `[e for … in … if …]`.
   */
  private comprehension(v: FuncValue, outer: Expr): Expr {
    const code = v.code
    const ir = normalize(code)
    const exc = this.checkExceptions(code, ir)
    if (exc.entries.length > 0) throw new Unsupported('unsupported: a comprehension with an exception table')
    const b = new BodyBuilder(code, ir, this.nestedHooks(), true, [])
    b.comprehension = true
    const ops = ir.ops
    let start = 0
    let end = exc.end ?? ops.length
    const type = code.name === '<genexpr>' ? 'gen' : code.name === '<listcomp>' ? 'list' : code.name === '<setcomp>' ? 'set' : 'dict'
    if (type !== 'gen') {
      // BUILD_LIST/SET/MAP 0 first, the collection returned last
      if (ops[start]?.op !== 'build') throw new Unsupported('unsupported: comprehension start')
      start++
      if (ops[end - 1]?.op !== 'return') throw new Unsupported('unsupported: comprehension end')
      end--
    }
    let lines = b.body(start, end)
    if (type === 'gen' && lines[lines.length - 1] === 'return None') lines = lines.slice(0, -1)
    const comp = readComprehension(lines, type, outer)
    this.outcomes.set(code, { ok: true })
    return comp
  }

  private lambda(v: FuncValue): Expr {
    const code = v.code
    const ir = normalize(code)
    const exc = this.checkExceptions(code, ir)
    const b = new BodyBuilder(code, ir, this.nestedHooks(), true, exc.entries)
    const lines = b.body(0, exc.end ?? ir.ops.length)
    if (lines.length !== 1 || !lines[0]!.startsWith('return ') || b.globals.size > 0 || b.nonlocals.size > 0) throw new Unsupported('unsupported: lambda body')
    if ((code.flags & CO_GENERATOR) !== 0) throw new Unsupported('unsupported: generator lambda')
    this.outcomes.set(code, { ok: true })
    const sig = this.signature(v, false)
    return { kind: 'lambda', args: sig, body: { kind: 'raw', text: lines[0]!.slice('return '.length), prec: Prec.Lambda } }
  }

  /** The parameter list of a function value. */
  private signature(v: FuncValue, annotate: boolean): string {
    const code = v.code
    const names = code.varnames
    const argc = code.argcount
    const kwc = code.kwonlyargcount
    const p = this.printer
    // A compiler names every parameter in co_varnames; a code object claiming more (hostile or
    // damaged: argcount 2**31 over 3 names) has no signature to print.
    const named = argc + kwc + (code.flags & CO_VARARGS ? 1 : 0) + (code.flags & CO_VARKEYWORDS ? 1 : 0)
    if (argc < 0 || kwc < 0 || code.posonlyargcount < 0 || named > names.length || code.posonlyargcount > argc) throw new Unsupported(`the parameter counts (${argc} positional, ${kwc} keyword-only) exceed co_varnames (${names.length})`)
    const defaults = tupleItems(v.defaults)
    const kwdefaults = new Map<string, Expr>()
    if (v.kwdefaults !== undefined) {
      if (v.kwdefaults.kind !== 'dict') throw new Unsupported('internal: keyword defaults not a dict')
      for (const [k, val] of v.kwdefaults.items) {
        if (k?.kind !== 'const' || k.value.type !== 'str') throw new Unsupported('internal: keyword default name')
        kwdefaults.set(k.value.value, val)
      }
    }
    const ann = annotate ? this.annotations(v) : new Map<string, Expr>()
    const one = (n: string, def: Expr | undefined) => {
      const a = ann.get(n)
      const head = a === undefined ? n : `${n}: ${p.expr(a, Prec.Lambda)}`
      return def === undefined ? head : a === undefined ? `${head}=${p.expr(def, Prec.Lambda)}` : `${head} = ${p.expr(def, Prec.Lambda)}`
    }
    const parts: string[] = []
    const firstDefault = argc - defaults.length
    for (let k = 0; k < argc; k++) {
      parts.push(one(names[k]!, k >= firstDefault ? defaults[k - firstDefault] : undefined))
      if (k === code.posonlyargcount - 1) parts.push('/')
    }
    let next = argc + kwc
    if (code.flags & CO_VARARGS) {
      const n = names[next++]!
      const a = ann.get(n)
      parts.push(a === undefined ? `*${n}` : `*${n}: ${p.expr(a, Prec.Lambda)}`)
    } else if (kwc > 0) parts.push('*')
    for (let k = argc; k < argc + kwc; k++) parts.push(one(names[k]!, kwdefaults.get(names[k]!)))
    if (code.flags & CO_VARKEYWORDS) {
      const n = names[next++]!
      const a = ann.get(n)
      parts.push(a === undefined ? `**${n}` : `**${n}: ${p.expr(a, Prec.Lambda)}`)
    }
    return parts.join(', ')
  }

  private returns(v: FuncValue): string {
    const r = this.annotations(v).get('return')
    return r === undefined ? '' : ` -> ${this.printer.expr(r, Prec.Lambda)}`
  }

  /** Annotations by parameter name ('return' for the return annotation). */
  private annotations(v: FuncValue): Map<string, Expr> {
    const out = new Map<string, Expr>()
    const a = v.annotations
    if (a === undefined) return out
    if (a.kind === 'dict') {
      for (const [k, val] of a.items) {
        if (k?.kind !== 'const' || k.value.type !== 'str') throw new Unsupported('internal: annotation name')
        out.set(k.value.value, val)
      }
      return out
    }
    const items = tupleItems(a)
    if (items.length % 2 !== 0) throw new Unsupported('internal: annotations tuple')
    for (let k = 0; k < items.length; k += 2) {
      const key = items[k]!
      if (key.kind !== 'const' || key.value.type !== 'str') throw new Unsupported('internal: annotation name')
      out.set(key.value.value, items[k + 1]!)
    }
    return out
  }
}

/** Whether `stored` is `name` mangled inside some class (`__x` stored as `_C__x`). */
function mangledMatch(name: string, stored: string): boolean {
  return name.startsWith('__') && !name.endsWith('__') && stored.endsWith(name) && stored.startsWith('_')
}

function tupleItems(e: Expr | undefined): Expr[] {
  if (e === undefined) return []
  if (e.kind === 'tuple') return [...e.items]
  if (e.kind === 'const' && e.value.type === 'tuple') return e.value.items.map((value) => ({ kind: 'const', value }) as Expr)
  throw new Unsupported('internal: expected a tuple')
}
