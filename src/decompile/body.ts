/**
 * Steps 2 and 3 of the decompiler: a symbolic run of the IR that builds expressions, and the
 * structuring of the jumps into statements. One code object's body at a time; nested code objects
 * (functions, classes, lambdas) are handed to `nested`.
 *
 * The structurer walks op ranges, `block(start, end, follow)`: `follow` is where control goes when
 * the range runs off its end, so a jump there is a no-op, a jump to the innermost loop's head is
 * `continue` and one to its exit is `break`. A conditional jump starts a condition: the atoms
 * (expression + conditional jump) that follow are merged by the and/or rules of `mergeAtoms`, and
 * the result is an if/else, a `while`, an `if …: break/continue`, or (when both arms leave a value)
 * a conditional expression. Anything not matched throws {@link Unsupported}: that code object is
 * then emitted as a marker with its disassembly.
 */
import type { PyObject } from '../marshal/index.js'
import type { CodeObject } from '../bytecode/index.js'
import { constant, type Expr, isBinop, isNoneConst, type Keyword, name, Prec, Printer } from './expr.js'
import { ASSERTION_ERROR, type CodeIR, type Op } from './ir.js'

/** Why a code object was not recovered; the message is the one-line reason. */
export class Unsupported extends Error {
  override readonly name = 'Unsupported'
}

const fail = (why: string): never => {
  throw new Unsupported(why)
}

/**
 * The deepest value stack the decompiler models. Blocks copy the stack they start with, so a
 * hostile count (UNPACK_SEQUENCE 65535 in a 1.3 kB file) made gigabytes; compiler-made code stays
 * far below (its depth is co_stacksize). Deeper code is not recovered, with this as the reason.
 */
export const MAX_DECOMPILE_DEPTH = 4096

const tooDeep = (depth: number): never => fail(`a value stack ${depth} deep (more than ${MAX_DECOMPILE_DEPTH} is not modeled)`)

/** A function or class being built on the stack. */
export interface FuncValue {
  readonly kind: '$func'
  readonly code: CodeObject
  defaults: Expr | undefined
  kwdefaults: Expr | undefined
  annotations: Expr | undefined
  decorators: Expr[]
}

export interface ClassValue {
  readonly kind: '$class'
  readonly func: FuncValue
  readonly name: string
  readonly bases: readonly Expr[]
  readonly keywords: readonly Keyword[]
  decorators: Expr[]
}

/** A value of the symbolic stack: an expression or one of the decompiler's own markers. */
type Val =
  | Expr
  | { readonly kind: '$null' }
  | FuncValue
  | ClassValue
  | { readonly kind: '$buildclass' }
  | { readonly kind: '$iter'; readonly iter: Expr }
  | { readonly kind: '$item'; readonly loop: number }
  | { readonly kind: '$slot'; readonly group: UnpackGroup; readonly index: number }
  | { readonly kind: '$aug'; readonly op: string; readonly target: Expr; readonly value: Expr }
  | { readonly kind: '$module'; readonly module: string; readonly level: number; readonly fromlist: PyObject }
  | { readonly kind: '$excinfo' }
  | { readonly kind: '$with' }

interface UnpackGroup {
  readonly value: Val
  readonly targets: (string | undefined)[]
  readonly star: number
  filled: number
}

const NULL: Val = { kind: '$null' }

/** What the caller needs back from a nested code object: the statements that define it. */
export interface Nested {
  /** `def`/`class` lines (decorators included) for a function or class stored under `target`. */
  define(value: FuncValue | ClassValue, target: string): string[]
  /** A lambda expression for a function value used as a value. */
  lambda(value: FuncValue): Expr
  /** 3.14+: the annotations dict an `__annotate__` function returns. */
  annotate(value: FuncValue): Expr
  /** The comprehension a nested comprehension function makes from its outermost iterable. */
  comprehension(value: FuncValue, iter: Expr): Expr
}

/** The names of the code objects of comprehensions (nested functions up to 3.11, generator expressions always). */
export const COMPREHENSIONS = new Set(['<genexpr>', '<listcomp>', '<setcomp>', '<dictcomp>'])

interface Loop {
  /** Op index of the loop head (`continue` jumps here). */
  readonly head: number
  /** Op index just past the loop (`break` jumps here). */
  readonly exit: number
  /** The `$iter` value of a for loop (popped by break and return). */
  readonly iter: Val | undefined
}

/** One condition atom: an expression and the conditional jump that tests it. */
interface Atom {
  expr: Expr
  /** Jump taken when the expression is true (else: false). */
  whenTrue: boolean
  /** Op index jumped to. */
  target: number
  /** Op index of the atom's first op and just past its jump. */
  readonly start: number
  end: number
}

/** Whether `v` is an ordinary expression (not a marker). */
function isExpr(v: Val): v is Expr {
  return !v.kind.startsWith('$')
}

function boolOp(op: 'and' | 'or', a: Expr, b: Expr): Expr {
  const values: Expr[] = []
  for (const x of [a, b]) {
    if (x.kind === 'bool' && x.op === op) values.push(...x.values)
    else values.push(x)
  }
  return { kind: 'bool', op, values }
}

function negate(e: Expr): Expr {
  return { kind: 'unary', op: 'not', operand: e }
}

/**
 * Merges condition atoms into one (the and/or rules): two adjacent atoms with the same target,
 * or an atom jumping just past the next one, become one atom. Returns the merged atom when all
 * of them merge into one.
 */
function mergeAtoms(atoms: Atom[]): Atom | undefined {
  const list = atoms.map((a) => ({ ...a }))
  for (let changed = true; changed && list.length > 1; ) {
    changed = false
    for (let k = list.length - 2; k >= 0; k--) {
      const a = list[k]!
      const b = list[k + 1]!
      let merged: Atom | undefined
      if (a.target === b.target) {
        // jump iff (a is sa) or (b is sb)
        if (!a.whenTrue && !b.whenTrue) merged = { ...b, expr: boolOp('and', a.expr, b.expr) }
        else if (a.whenTrue && b.whenTrue) merged = { ...b, expr: boolOp('or', a.expr, b.expr) }
        else if (!a.whenTrue && b.whenTrue) merged = { ...b, expr: boolOp('or', negate(a.expr), b.expr) }
        else merged = { ...b, expr: boolOp('and', negate(a.expr), b.expr) }
      } else if (a.target === b.end) {
        // jump to b.target iff (a is not sa) and (b is sb)
        if (b.whenTrue) merged = { ...b, expr: boolOp('and', a.whenTrue ? negate(a.expr) : a.expr, b.expr) }
        else merged = { ...b, expr: boolOp('or', a.whenTrue ? a.expr : negate(a.expr), b.expr) }
      }
      if (merged !== undefined) {
        list.splice(k, 2, { ...merged, start: a.start })
        changed = true
        break
      }
    }
  }
  return list.length === 1 ? list[0] : undefined
}

/** An exception-table entry in op indexes: ops [start, end) go to `handler` with `depth` values kept. */
export interface TryEntry {
  readonly start: number
  readonly end: number
  readonly handler: number
  readonly depth: number
}

/** The statements of one code object's body. */
export class BodyBuilder {
  private readonly ops: readonly Op[]
  readonly printer: Printer
  private readonly minor: number
  /** Op index → the largest op index of a backward jump to it. */
  private readonly backEdges = new Map<number, number>()
  /** Names declared `global` / `nonlocal` in this function. */
  readonly globals = new Set<string>()
  readonly nonlocals = new Set<string>()
  private loops: Loop[] = []
  private nextLoop = 0

  constructor(
    readonly code: CodeObject,
    private readonly ir: CodeIR,
    private readonly nested: Nested,
    private readonly isFunction: boolean,
    private readonly entries: readonly TryEntry[] = [],
  ) {
    this.ops = ir.ops
    this.minor = code.pythonVersion[1]
    this.printer = new Printer(this.minor)
    this.ops.forEach((o, i) => {
      if (o.op === 'jump' || o.op === 'cjump') {
        const t = this.ix(o.target)
        if (t <= i) this.backEdges.set(t, Math.max(i, this.backEdges.get(t) ?? -1))
      }
    })
  }

  private ix(offset: number): number {
    return this.ir.indexOf(offset)
  }

  private text(e: Expr, min: Prec = Prec.Tuple): string {
    return this.printer.expr(e, min)
  }

  /**
   * The statements of ops [start, end), with nothing on the stack at the start (and, when
   * `emptyAtEnd`, nothing left at the end: a range of whole statements).
   */
  body(start: number, end: number, emptyAtEnd = false): string[] {
    const stack: Val[] = []
    const lines = this.block(start, end, end, stack)
    // every protected range of the body must have been made into a statement
    for (const e of this.entries) if (e.start >= start && e.start < end && !this.handled.has(e.handler)) fail('unsupported: with or an inlined comprehension (exception table)')
    if (emptyAtEnd && stack.length > 0) fail('internal: values left on the stack at the end of a statement range')
    return lines
  }

  /** Set when building the body of a nested comprehension function: its appends become marker lines. */
  comprehension = false

  /** Ops already accounted for (the local restores after an inlined comprehension stored at once). */
  private readonly skipOps = new Set<number>()

  /** Handlers (op indexes) that a try statement accounted for. */
  private readonly handled = new Set<number>()

  /** Resolves unconditional jump chains: where control really goes from op index `i`. */
  private land(i: number): number {
    for (let n = 0; n < 20 && i < this.ops.length; n++) {
      const o = this.ops[i]!
      if (o.op !== 'jump') break
      i = this.ix(o.target)
    }
    return i
  }

  private same(a: number, b: number): boolean {
    return a === b || this.land(a) === this.land(b)
  }

  /**
   * Runs ops [start, end) on `stack` (changed in place), returning the statements made. When
   * `valueOnly`, no statement may be made (an expression range).
   */
  private block(start: number, end: number, follow: number, stack: Val[]): string[] {
    const out: string[] = []
    // A for body starts with the loop's item on the stack, stored by its first statement.
    const base = stack.length > 0 && stack[stack.length - 1]!.kind === '$item' ? stack.length - 1 : stack.length
    let pending: [string, Val][] = []
    const pop = (): Val => stack.pop() ?? fail('internal: stack underflow')
    const expr = (v: Val): Expr => (isExpr(v) ? v : v.kind === '$func' && v.code.name === '<lambda>' ? this.nested.lambda(v) : fail(`internal: ${v.kind} used as a value`))
    const popValue = (): Expr => expr(pop())
    const emit = (line: string) => {
      if (pending.length > 0) fail('internal: statement inside a multiple assignment')
      out.push(line)
    }
    const assign = (target: string, v: Val) => {
      if (v.kind === '$slot') {
        const g = v.group
        g.targets[v.index] = v.index === g.star ? `*${target}` : target
        g.filled++
        if (g.filled === g.targets.length) assign(`(${g.targets.join(', ')})`.replace(/^\((.*)\)$/, g.targets.length === 1 ? '($1,)' : '($1)'), g.value)
        return
      }
      if (v.kind === '$item') {
        const loop = this.loopTargets.get(v.loop)
        if (loop !== undefined) fail('internal: loop target stored twice')
        this.loopTargets.set(v.loop, target)
        return
      }
      if (v.kind === '$aug') {
        if (this.text(v.target) !== target) fail('internal: augmented assignment to another target')
        emit(`${target} ${v.op}= ${this.text(v.value)}`)
        return
      }
      if (v.kind === '$func' || v.kind === '$class') {
        if (stack.length !== base) fail('unsupported: a definition inside an expression')
        if (v.kind === '$func' && v.code.name === '<lambda>') {
          emit(`${target} = ${this.text(this.nested.lambda(v))}`)
          return
        }
        for (const line of this.nested.define(v, target)) emit(line)
        return
      }
      if (v.kind === '$module') {
        if (v.fromlist.type !== 'none' || v.level !== 0) fail('internal: import with a fromlist stored')
        const top = v.module.split('.')[0]!
        emit(top === target ? `import ${v.module}` : `import ${v.module} as ${target}`)
        return
      }
      const e = expr(v)
      if (stack.length > base || pending.length > 0) {
        pending.push([target, e])
        if (stack.length === base) flush()
        return
      }
      emit(`${target} = ${this.text(e)}`)
    }
    const flush = () => {
      const p = pending
      pending = []
      if (p.every(([, v]) => v === p[0]![1])) emit(`${p.map(([t]) => t).join(' = ')} = ${this.text(p[0]![1] as Expr)}`)
      else if (new Set(p.map(([, v]) => v)).size === p.length) emit(`(${p.map(([t]) => t).join(', ')}) = (${p.map(([, v]) => this.printer.arg(v as Expr)).join(', ')})`)
      else fail('unsupported: mixed chained and parallel assignment')
    }
    const declare = (scope: string, nm: string) => {
      if (!this.isFunction) return
      if (scope === 'global') this.globals.add(nm)
      if (scope === 'deref' && this.code.freevars.includes(nm)) this.nonlocals.add(nm)
    }

    let i = start
    while (i < end) {
      if (this.skipOps.has(i)) {
        i++
        continue
      }
      // A loop head: a while loop (for loops start at their FOR_ITER).
      const back = this.backEdges.get(i)
      if (back !== undefined && back < end && this.ops[i]!.op !== 'for_iter' && !this.loops.some((l) => l.head === i)) {
        if (stack.length !== base || pending.length > 0) fail('unsupported: a loop inside an expression')
        out.push(...this.whileLoop(i, back + 1, stack, undefined))
        i = back + 1
        continue
      }
      if (stack.length === base && pending.length === 0) {
        const tryEntry = this.entries.find((e) => e.start === i && e.depth === base && this.ops[e.handler]?.op === 'push_exc_info' && !this.handled.has(e.handler))
        if (tryEntry !== undefined) {
          const r = this.tryStatement(tryEntry, end, follow, stack)
          out.push(...r.lines)
          i = r.next
          continue
        }
      }
      const o = this.ops[i]!
      if (stack.length > MAX_DECOMPILE_DEPTH) tooDeep(stack.length)
      switch (o.op) {
        case 'const':
          stack.push(constant(o.value))
          break
        case 'load':
          stack.push(name(o.name))
          break
        case 'load_clear': {
          const r = this.inlineComprehension(i, stack)
          i = r.next
          continue
        }
        case 'store':
          declare(o.scope, o.name)
          assign(o.name, pop())
          break
        case 'delete':
          declare(o.scope, o.name)
          emit(`del ${o.name}`)
          break
        case 'load_attr':
          stack.push({ kind: 'attr', obj: popValue(), name: o.name })
          break
        case 'store_attr': {
          const owner = popValue()
          assign(this.text({ kind: 'attr', obj: owner, name: o.name }, Prec.Atom), pop())
          break
        }
        case 'delete_attr':
          emit(`del ${this.text({ kind: 'attr', obj: popValue(), name: o.name }, Prec.Atom)}`)
          break
        case 'load_super_attr': {
          const self = popValue()
          const cls = popValue()
          const sup = popValue()
          const call: Expr = { kind: 'call', func: sup, args: o.twoArg ? [cls, self] : [], keywords: [] }
          stack.push({ kind: 'attr', obj: call, name: o.name })
          break
        }
        case 'subscr': {
          const index = popValue()
          stack.push({ kind: 'subscript', obj: popValue(), index })
          break
        }
        case 'store_subscr': {
          const index = popValue()
          const owner = popValue()
          assign(this.text({ kind: 'subscript', obj: owner, index }), pop())
          break
        }
        case 'delete_subscr': {
          const index = popValue()
          emit(`del ${this.text({ kind: 'subscript', obj: popValue(), index })}`)
          break
        }
        case 'build_slice': {
          const step = o.n === 3 ? popValue() : undefined
          const hi = popValue()
          const lo = popValue()
          stack.push({ kind: 'slice', lo: isNoneConst(lo) ? undefined : lo, hi: isNoneConst(hi) ? undefined : hi, step: step === undefined || isNoneConst(step) ? undefined : step })
          break
        }
        case 'binary_slice': {
          const hi = popValue()
          const lo = popValue()
          stack.push({ kind: 'subscript', obj: popValue(), index: { kind: 'slice', lo: isNoneConst(lo) ? undefined : lo, hi: isNoneConst(hi) ? undefined : hi, step: undefined } })
          break
        }
        case 'store_slice': {
          const hi = popValue()
          const lo = popValue()
          const owner = popValue()
          assign(this.text({ kind: 'subscript', obj: owner, index: { kind: 'slice', lo: isNoneConst(lo) ? undefined : lo, hi: isNoneConst(hi) ? undefined : hi, step: undefined } }), pop())
          break
        }
        case 'binop': {
          const right = popValue()
          const left = popValue()
          if (!isBinop(o.operator)) fail(`unsupported: operator ${o.operator}`)
          if (o.inplace) stack.push({ kind: '$aug', op: o.operator, target: left, value: right })
          else stack.push({ kind: 'binop', op: o.operator, left, right })
          break
        }
        case 'unary': {
          const v = popValue()
          stack.push(o.operator === 'not' ? negate(v) : { kind: 'unary', op: o.operator, operand: v })
          break
        }
        case 'compare': {
          const right = popValue()
          const left = popValue()
          stack.push({ kind: 'compare', left, ops: [o.operator], rights: [right] })
          break
        }
        case 'null':
          stack.push(NULL)
          break
        case 'call': {
          let kwnames = o.kwnames
          if (o.kwOnStack) {
            const k = popValue()
            if (k.kind !== 'const' || k.value.type !== 'tuple') return fail('internal: keyword names are not a constant tuple')
            kwnames = k.value.items.map((x) => (x.type === 'str' ? x.value : fail('internal: keyword name not a str')))
          }
          const values: Val[] = []
          for (let n = 0; n < o.argc; n++) values.unshift(pop())
          let func: Val
          if (o.slots === 2) {
            const y = pop()
            const x = pop()
            if (y.kind === '$null') func = x
            else if (x.kind === '$null') func = y
            else {
              func = x
              values.unshift(y)
            }
          } else func = pop()
          const positional = values.slice(0, values.length - kwnames.length)
          const keywords = kwnames.map((k, n) => ({ name: k, value: expr(values[positional.length + n]!) }))
          if (func.kind === '$func' && COMPREHENSIONS.has(func.code.name) && positional.length === 1 && positional[0]!.kind === '$iter' && keywords.length === 0) {
            stack.push(this.nested.comprehension(func, (positional[0] as { iter: Expr }).iter))
            break
          }
          if (func.kind === '$buildclass') {
            const [fn, nm, ...bases] = positional
            if (fn?.kind !== '$func' || nm === undefined || !isExpr(nm) || nm.kind !== 'const' || nm.value.type !== 'str') return fail('internal: odd __build_class__ call')
            stack.push({ kind: '$class', func: fn, name: nm.value.value, bases: bases.map(expr), keywords, decorators: [] })
            break
          }
          if (positional.length === 1 && keywords.length === 0 && (positional[0]!.kind === '$func' || positional[0]!.kind === '$class') && isExpr(func)) {
            // A decorator applied.
            const def = positional[0] as FuncValue | ClassValue
            if (def.kind === '$func' && def.code.name === '<lambda>') {
              stack.push({ kind: 'call', func, args: [this.nested.lambda(def)], keywords: [] })
              break
            }
            def.decorators.unshift(func)
            stack.push(def)
            break
          }
          stack.push({ kind: 'call', func: expr(func), args: positional.map(expr), keywords })
          break
        }
        case 'call_ex': {
          let kw: Expr | undefined
          if (o.kwargs) {
            const k = pop()
            if (k.kind !== '$null') kw = expr(k)
          }
          const args = popValue()
          let func: Val = pop()
          if (o.slots === 2) {
            const x = pop()
            if (func.kind === '$null') func = x
            else if (x.kind !== '$null') return fail('internal: call_ex with a self argument')
          }
          const positional: Expr[] = args.kind === 'tuple' ? [...args.items] : args.kind === 'const' && args.value.type === 'tuple' ? args.value.items.map(constant) : [{ kind: 'starred', value: args }]
          const keywords: Keyword[] = []
          if (kw !== undefined) {
            if (kw.kind === 'dict') for (const [k, v] of kw.items) keywords.push(k === undefined ? { name: undefined, value: v } : k.kind === 'const' && k.value.type === 'str' ? { name: k.value.value, value: v } : fail('internal: keyword not a str'))
            else keywords.push({ name: undefined, value: kw })
          }
          stack.push({ kind: 'call', func: expr(func), args: positional, keywords })
          break
        }
        case 'build': {
          const items: Expr[] = []
          const n = o.type === 'map' ? 2 * o.n : o.n
          for (let k = 0; k < n; k++) items.unshift(popValue())
          if (o.type === 'map') {
            const pairs: [Expr, Expr][] = []
            for (let k = 0; k < items.length; k += 2) pairs.push([items[k]!, items[k + 1]!])
            stack.push({ kind: 'dict', items: pairs })
          } else if (o.type === 'string') stack.push({ kind: 'fstring', parts: items })
          else stack.push({ kind: o.type, items })
          break
        }
        case 'const_key_map': {
          const keys = popValue()
          const vals: Expr[] = []
          for (let k = 0; k < o.n; k++) vals.unshift(popValue())
          if (keys.kind !== 'const' || keys.value.type !== 'tuple') return fail('internal: const key map without a key tuple')
          stack.push({ kind: 'dict', items: keys.value.items.map((key, n) => [constant(key), vals[n]!] as const) })
          break
        }
        case 'list_extend': case 'set_update': {
          const v = popValue()
          const target = stack[stack.length - o.n]
          if (target === undefined || (target.kind !== 'list' && target.kind !== 'set')) return fail('internal: extend of a non-display')
          const more: Expr[] = v.kind === 'const' && (v.value.type === 'tuple' || v.value.type === 'frozenset') ? v.value.items.map(constant) : [{ kind: 'starred', value: v }]
          stack[stack.length - o.n] = { kind: target.kind, items: [...target.items, ...more] }
          break
        }
        case 'dict_update': case 'dict_merge': {
          const v = popValue()
          const target = stack[stack.length - o.n]
          if (target?.kind === 'dict') stack[stack.length - o.n] = { kind: 'dict', items: [...target.items, [undefined, v]] }
          else return fail('internal: dict update of a non-display')
          break
        }
        case 'list_append': case 'set_add': case 'map_add': {
          if (!this.comprehension) {
            // 3.14+ builds a long display one item at a time: BUILD_LIST 0, LIST_APPEND 1, …
            const v = popValue()
            const key = o.op === 'map_add' ? popValue() : undefined
            const at = stack.length - o.n
            const target = stack[at]
            if (target?.kind === 'list' && o.op === 'list_append') stack[at] = { kind: 'list', items: [...target.items, v] }
            else if (target?.kind === 'set' && o.op === 'set_add') stack[at] = { kind: 'set', items: [...target.items, v] }
            else if (target?.kind === 'dict' && key !== undefined) stack[at] = { kind: 'dict', items: [...target.items, [key, v]] }
            else return fail(`unsupported: ${o.op}`)
            break
          }
          const v = popValue()
          if (o.op === 'map_add') {
            const key = popValue()
            emit(`${COMP_ELEMENT} ${this.text(key, Prec.Lambda)}: ${this.text(v, Prec.Lambda)}`)
          } else emit(`${COMP_ELEMENT} ${this.text(v, Prec.Lambda)}`)
          break
        }
        case 'list_to_tuple': {
          const v = popValue()
          if (v.kind !== 'list') return fail('internal: list_to_tuple of a non-list')
          stack.push({ kind: 'tuple', items: v.items })
          break
        }
        case 'get_iter': {
          stack.push({ kind: '$iter', iter: popValue() })
          break
        }
        case 'for_iter': {
          if (stack.length !== base + (stack[stack.length - 1]?.kind === '$null' ? 2 : 1) || pending.length > 0) fail('unsupported: a for loop inside an expression')
          const r = this.forLoop(i, stack)
          out.push(...r.lines)
          i = r.next
          continue
        }
        case 'return': {
          const v = popValue()
          while (stack.length > 0 && (stack[stack.length - 1]!.kind === '$iter' || stack[stack.length - 1]!.kind === '$with' || stack[stack.length - 1]!.kind === '$null')) stack.pop()
          if (stack.length !== 0 && stack.some((x) => x.kind !== '$null')) fail('internal: return with values left on the stack')
          if (!this.isFunction) {
            // The implicit `return None` of a module or class body, at the end of a block.
            if (isNoneConst(v) && i === end - 1) break
            fail('unsupported: return outside a function')
          }
          emit(isNoneConst(v) ? 'return None' : `return ${this.text(v)}`)
          break
        }
        case 'pop': {
          const v = pop()
          if (v.kind === '$iter') {
            // break (or return) out of a for loop
            const loop = this.loops[this.loops.length - 1]
            const next = this.ops[i + 1]
            if (loop !== undefined && loop.iter === v && next?.op === 'jump' && this.same(this.ix(next.target), loop.exit)) {
              emit('break')
              i += 2
              stack.push(v)
              continue
            }
            break
          }
          if (v.kind === '$null') {
            // 3.15: break pops the loop's second slot, then the iterator
            const loop = this.loops[this.loops.length - 1]
            const n1 = this.ops[i + 1]
            const n2 = this.ops[i + 2]
            if (loop !== undefined && stack[stack.length - 1] === loop.iter && n1?.op === 'pop' && n2?.op === 'jump' && this.same(this.ix(n2.target), loop.exit)) {
              stack.push(v)
              emit('break')
              i += 3
              continue
            }
            break
          }
          if (v.kind === '$module') break
          if (stack.length !== base) {
            stack.push(v)
            return fail('unsupported: value discarded inside an expression')
          }
          emit(this.text(expr(v)))
          break
        }
        case 'copy': {
          if (this.isSpecialWith(i)) {
            // 3.14+: COPY 1, LOAD_SPECIAL __exit__, SWAP 2, SWAP 3, LOAD_SPECIAL __enter__, CALL 0
            if (stack.length !== base + 1 || pending.length > 0) return fail('unsupported: with inside an expression')
            const r = this.withStatement(i + 5, stack, 2)
            out.push(...r.lines)
            i = r.next
            continue
          }
          const v = stack[stack.length - o.n] ?? fail('internal: copy below the stack')
          stack.push(v)
          break
        }
        case 'swap': {
          const a = stack.length - 1
          const b = stack.length - o.n
          if (b < 0) fail('internal: swap below the stack')
          const t = stack[a]!
          stack[a] = stack[b]!
          stack[b] = t
          break
        }
        case 'unpack': {
          const v = pop()
          const count = o.before + o.after + (o.star ? 1 : 0)
          if (stack.length + count > MAX_DECOMPILE_DEPTH) tooDeep(stack.length + count)
          const group: UnpackGroup = { value: v, targets: new Array(count).fill(undefined), star: o.star ? o.before : -1, filled: 0 }
          for (let k = count - 1; k >= 0; k--) stack.push({ kind: '$slot', group, index: k })
          break
        }
        case 'import_name': {
          const fromlist = popValue()
          const level = popValue()
          if (fromlist.kind !== 'const' || level.kind !== 'const' || level.value.type !== 'int') return fail('internal: odd import')
          stack.push({ kind: '$module', module: o.name, level: Number(level.value.value), fromlist: fromlist.value })
          break
        }
        case 'import_from': {
          const m = stack[stack.length - 1]
          if (m?.kind !== '$module') return fail('internal: import from without a module')
          const r = this.importFrom(i, m, stack)
          emit(r.line)
          i = r.next
          continue
        }
        case 'import_star': {
          const m = pop()
          if (m.kind !== '$module') return fail('internal: import * without a module')
          emit(`from ${'.'.repeat(m.level)}${m.module} import *`)
          break
        }
        case 'make_function': {
          // ≤ 3.10: the qualified name is on top, the code below it
          if (this.minor <= 10) popValue()
          const c = popValue()
          if (c.kind !== 'const' || c.value.type !== 'code') return fail('internal: make_function without a code object')
          const child = this.code.children.find((ch) => ch.raw === (c.value as unknown)) ?? fail('internal: code constant not among the children')
          const f: FuncValue = { kind: '$func', code: child, defaults: undefined, kwdefaults: undefined, annotations: undefined, decorators: [] }
          if (o.flags & 0x08) pop()
          if (o.flags & 0x04) f.annotations = popValue()
          if (o.flags & 0x02) f.kwdefaults = popValue()
          if (o.flags & 0x01) f.defaults = popValue()
          if (o.flags & 0x10) fail('unsupported: __annotate__ function')
          stack.push(f)
          break
        }
        case 'set_function_attribute': {
          const f = pop()
          const v = pop()
          if (f.kind !== '$func') return fail('internal: set_function_attribute on a non-function')
          if (o.flag === 0x01) f.defaults = expr(v)
          else if (o.flag === 0x02) f.kwdefaults = expr(v)
          else if (o.flag === 0x04) f.annotations = expr(v)
          else if (o.flag === 0x08) {
            // closure cells: nothing to print
          } else if (o.flag === 0x10 && v.kind === '$func') f.annotations = this.nested.annotate(v)
          else fail('unsupported: function attribute')
          stack.push(f)
          break
        }
        case 'format': {
          const spec = o.spec ? popValue() : undefined
          stack.push({ kind: 'formatted', value: popValue(), conversion: CONVERSION_TEXT[o.conversion] ?? '', spec })
          break
        }
        case 'convert': {
          const v = popValue()
          stack.push({ kind: 'formatted', value: v, conversion: CONVERSION_TEXT[o.conversion] ?? '', spec: undefined })
          break
        }
        case 'format_simple': {
          const v = popValue()
          stack.push(v.kind === 'formatted' ? v : { kind: 'formatted', value: v, conversion: '', spec: undefined })
          break
        }
        case 'format_with_spec': {
          const spec = popValue()
          const v = popValue()
          stack.push(v.kind === 'formatted' ? { ...v, spec } : { kind: 'formatted', value: v, conversion: '', spec })
          break
        }
        case 'load_build_class':
          stack.push({ kind: '$buildclass' })
          break
        case 'raise': {
          const cause = o.n === 2 ? popValue() : undefined
          const exc = o.n >= 1 ? popValue() : undefined
          if (exc !== undefined && cause === undefined && this.text(exc).startsWith(ASSERTION_ERROR) && out.length >= 2 && out[out.length - 1] === '    continue' && /^if .*:$/.test(out[out.length - 2]!)) {
            // at the end of a loop body: `if c: continue` then the raise is `assert c[, msg]`
            const rest = this.text(exc).slice(ASSERTION_ERROR.length)
            const c = out[out.length - 2]!.slice(3, -1)
            out.splice(out.length - 2, 2)
            if (rest === '') emit(`assert ${c}`)
            else if (rest.startsWith('(') && rest.endsWith(')')) emit(`assert ${c}, ${rest.slice(1, -1)}`)
            else fail('unsupported: assert shape')
            break
          }
          if (exc !== undefined && cause === undefined && this.text(exc).startsWith(ASSERTION_ERROR) && !this.inIf) {
            // `assert False[, msg]`: the test folded away, the raise is left
            const rest = this.text(exc).slice(ASSERTION_ERROR.length)
            if (rest === '') emit('assert False')
            else if (rest.startsWith('(') && rest.endsWith(')')) emit(`assert False, ${rest.slice(1, -1)}`)
            else fail('unsupported: assert shape')
            break
          }
          emit(exc === undefined ? 'raise' : cause === undefined ? `raise ${this.text(exc)}` : `raise ${this.text(exc)} from ${this.text(cause)}`)
          break
        }
        case 'await':
          stack.push({ kind: 'await', value: popValue() })
          break
        case 'yield_from':
          stack.push({ kind: 'yieldfrom', value: popValue() })
          break
        case 'yield': {
          const v = popValue()
          stack.push({ kind: 'yield', value: isNoneConst(v) ? undefined : v })
          break
        }
        case 'return_generator':
          break
        case 'jump': {
          const t = this.ix(o.target)
          const loop = this.loops[this.loops.length - 1]
          if (i === end - 1 && this.same(t, follow)) break
          if (loop !== undefined && this.same(t, loop.head) && stack.length === base) {
            emit('continue')
            break
          }
          if (loop !== undefined && this.same(t, loop.exit) && loop.iter === undefined && stack.length === base) {
            emit('break')
            break
          }
          return fail(`unsupported: jump at offset ${o.at}`)
        }
        case 'cjump': case 'cjump_or_pop': {
          const r = this.condition(i, end, follow, stack, base, pending.length > 0)
          out.push(...r.lines)
          i = r.next
          continue
        }
        case 'before_with': {
          if (stack.length !== base + 1 || pending.length > 0) return fail('unsupported: with inside an expression')
          const r = this.withStatement(i, stack, 1)
          out.push(...r.lines)
          i = r.next
          continue
        }
        case 'pop_except': {
          // inside an except body, before a return: the saved exception goes
          let k = stack.length - 1
          while (k >= 0 && stack[k]!.kind !== '$excinfo') k--
          if (k < 0) return fail('internal: pop_except without a handler')
          stack.splice(k, 1)
          break
        }
        case 'unsupported':
          return fail(`unsupported: ${o.opname}`)
        default:
          return fail(`unsupported: ${o.op}`)
      }
      i++
    }
    if (pending.length > 0) fail('internal: unfinished multiple assignment')
    return out
  }

  private readonly loopTargets = new Map<number, string>()
  /** Whether the block being built is the then-branch of an if without else (an `assert` candidate). */
  private inIf = false

  /**
   * A try/except[/else] statement (3.12+ layout: handlers after the body). `e` protects the try
   * body; its handler starts with PUSH_EXC_INFO and tests the clauses in order. Each clause body
   * ends at its POP_EXCEPT; what follows it (a jump to the end of the statement, or a copy of the
   * code after the statement, which 3.12+ duplicates into small exits) must agree with the
   * normal path, which tells the else block from the code after the statement.
   */
  private tryStatement(e: TryEntry, end: number, follow: number, stack: Val[]): { lines: string[]; next: number } {
    const H = e.handler
    let bodyEnd = e.end
    // the body's ranges (split by the ranges of statements nested in it), not the cleanups of
    // nested handlers, which come after the first handler code past the body's start
    let handlers = Infinity
    for (const x of this.entries) if (x.handler > e.start) handlers = Math.min(handlers, x.handler)
    for (const x of this.entries) if (x.handler === H && x.start >= e.start && x.start < handlers) bodyEnd = Math.max(bodyEnd, x.end)
    if (bodyEnd > end) return fail('unsupported: try body shape')
    const fin = this.finallyHandler(H)
    if (fin !== undefined) return this.tryFinally(e, bodyEnd, fin, end, stack)
    this.handled.add(H)
    // The table leaves out a last op that cannot raise (RETURN_VALUE, STORE_FAST…): take it in
    // when the body would otherwise leave a value on the stack.
    let bodyLines: string[] | undefined
    for (let ext = 0; ext <= 2 && bodyEnd + ext <= end; ext++) {
      const s2 = [...stack]
      try {
        const lines = this.block(e.start, bodyEnd + ext, follow, s2)
        if (s2.length === stack.length || (lines.length > 0 && /^(return|raise)\b/.test(lines[lines.length - 1]!))) {
          bodyLines = lines
          bodyEnd += ext
          break
        }
      } catch (err) {
        if (ext === 2 || !(err instanceof Unsupported)) throw err
      }
    }
    if (bodyLines === undefined) return fail('unsupported: try body shape')
    // the clauses
    const clauses: { header: string; lines: string[]; exit: string[]; jump: number | undefined }[] = []
    let k = H + 1
    const excStack: Val[] = [...stack, { kind: '$excinfo' }]
    for (let guard = 0; guard < 100; guard++) {
      const op = this.ops[k]
      if (op === undefined) return fail('internal: handler runs off the code')
      if (op.op === 'reraise') break // no clause matched
      // typed clause: <type expr> CHECK_EXC_MATCH POP_JUMP_IF_FALSE next; POP_TOP | STORE name
      let header: string
      let bodyStart: number
      let next: number | undefined
      let asName: string | undefined
      if (op.op === 'pop') {
        header = 'except:'
        bodyStart = k + 1
      } else {
        let m = k
        while (m < this.ops.length && this.ops[m]!.op !== 'check_exc_match') {
          // the clause's type is an expression; anything else is not an except clause (finally)
          if (!PURE_OPS.has(this.ops[m]!.op)) return fail('unsupported: try/finally or handler shape')
          m++
        }
        const cj = this.ops[m + 1]
        if (cj?.op !== 'cjump' || cj.when !== 'false') return fail('unsupported: except clause shape')
        const typeStack: Val[] = [...excStack, { kind: 'name', id: '$exc' }]
        const lines = this.block(k, m, m, typeStack)
        if (lines.length > 0 || typeStack.length !== excStack.length + 2) return fail('unsupported: except clause type')
        const type = typeStack[typeStack.length - 1]!
        if (!isExpr(type)) return fail('internal: except type is a marker')
        next = this.ix(cj.target)
        const bind = this.ops[m + 2]
        if (bind?.op === 'store') asName = bind.name
        else if (bind?.op !== 'pop') return fail('unsupported: except clause binding')
        header = `except ${this.text(type, Prec.Lambda)}${asName === undefined ? '' : ` as ${asName}`}:`
        bodyStart = m + 3
      }
      // the clause's region: up to the next clause, and before any cleanup handler inside it
      let regionEnd = next ?? this.ops.length
      for (const x of this.entries) if (x.end > bodyStart && x.start < regionEnd && x.handler > bodyStart && x.handler < regionEnd) regionEnd = Math.min(regionEnd, x.handler)
      // the last POP_EXCEPT at this level ends the clause body
      let p = -1
      let level = 0
      for (let q = bodyStart; q < regionEnd; q++) {
        const o = this.ops[q]!
        if (o.op === 'push_exc_info') level++
        else if (o.op === 'pop_except') {
          if (level === 0) p = q
          else level--
        }
      }
      if (p < 0) {
        // the clause body never finishes normally (it raises or returns through POP_EXCEPT paths)
        const bodyStack = [...excStack]
        const lines = this.block(bodyStart, regionEnd, regionEnd, bodyStack)
        clauses.push({ header, lines, exit: [], jump: undefined })
      } else {
        const bodyStack = [...excStack]
        const lines = this.block(bodyStart, p, p, bodyStack)
        let after = p + 1
        if (bodyStack.length === excStack.length + 1 && this.ops[after]?.op === 'return') {
          // `return v` in the clause: v computed, SWAP 2, POP_EXCEPT, RETURN_VALUE
          const v = bodyStack.slice(stack.length).find((x) => x.kind !== '$excinfo')
          if (v === undefined || !isExpr(v)) return fail('internal: except return of a marker')
          lines.push(isNoneConst(v) ? 'return None' : `return ${this.text(v)}`)
          clauses.push({ header, lines, exit: [], jump: undefined })
          if (next === undefined) break
          k = next
          continue
        }
        if (asName !== undefined) {
          const a = this.ops[after]
          const b = this.ops[after + 1]
          const c = this.ops[after + 2]
          if (a?.op === 'const' && b?.op === 'store' && b.name === asName && c?.op === 'delete' && c.name === asName) after += 3
          else return fail('unsupported: except-as cleanup shape')
        }
        let jump: number | undefined
        let exit: string[] = []
        const last = this.ops[after]
        const loop = this.loops[this.loops.length - 1]
        const lt = last?.op === 'jump' ? this.ix(last.target) : -1
        if (last?.op === 'jump' && loop !== undefined && (this.same(lt, loop.head) || this.same(lt, loop.exit)) && after + 1 === regionEnd) exit = [this.same(lt, loop.head) ? 'continue' : 'break']
        else if (last?.op === 'jump' && after + 1 === regionEnd) jump = this.ix(last.target)
        else if (last?.op === 'jump' && this.ix(last.target) >= regionEnd) jump = this.ix(last.target)
        else exit = this.block(after, regionEnd, regionEnd, [...stack])
        clauses.push({ header, lines, exit, jump })
      }
      if (next === undefined) break
      k = next
    }
    // where the statement ends: a clause's jump, or the duplicated code after it
    const jumps = clauses.map((c) => c.jump).filter((j): j is number => j !== undefined)
    let elseLines: string[] = []
    let nextIndex: number
    let tail: string[] = []
    if (jumps.length > 0) {
      const END = jumps[0]!
      if (!jumps.every((j) => this.same(j, END))) return fail('unsupported: except clauses end in different places')
      if (END < bodyEnd || END > end) {
        if (!this.same(END, follow)) return fail('unsupported: try statement end')
        elseLines = this.block(bodyEnd, end, follow, [...stack])
        nextIndex = end
      } else {
        elseLines = this.block(bodyEnd, END, END, [...stack])
        nextIndex = END
      }
      for (const c of clauses) if (c.jump === undefined && c.exit.length > 0) return fail('unsupported: except clause exit')
    } else {
      // every clause ends in a copy of what follows the statement (or in a return/raise)
      const exits = clauses.map((c) => c.exit).filter((x) => x.length > 0)
      const rest = this.block(bodyEnd, end, follow, [...stack])
      tail = exits.length > 0 ? exits.reduce((a, b) => (a.length <= b.length ? a : b)) : []
      for (const x of exits) {
        if (x.length !== tail.length || x.some((l, n) => l !== tail[n])) {
          // a clause ending in its own return: keep it in the clause
          continue
        }
      }
      if (tail.length > rest.length || rest.slice(rest.length - tail.length).some((l, n) => l !== tail[n])) {
        tail = []
      }
      for (const c of clauses) {
        if (c.exit.length === tail.length && c.exit.every((l, n) => l === tail[n])) c.exit = []
      }
      elseLines = rest.slice(0, rest.length - tail.length)
      nextIndex = end
    }
    const lines = ['try:', ...indent(bodyLines.length === 0 ? ['pass'] : bodyLines)]
    for (const c of clauses) {
      const body = [...c.lines, ...c.exit]
      lines.push(c.header, ...indent(body.length === 0 ? ['pass'] : body))
    }
    if (clauses.length === 0) return fail('unsupported: try/finally')
    // a trailing `return None` of the body that the function end supplies anyway stays in the tail
    if (elseLines.length > 0) lines.push('else:', ...indent(elseLines))
    return { lines: [...lines, ...tail], next: nextIndex }
  }

  /**
   * The finally block of a handler (3.12+), as op indexes [H + 1, reraise): PUSH_EXC_INFO, the
   * finally body, RERAISE 0, protected by a cleanup (COPY 3, POP_EXCEPT, RERAISE 1) that follows
   * it. Undefined when the handler tests except clauses instead.
   */
  private finallyHandler(H: number): number | undefined {
    const cover = this.entries.find((x) => x.start <= H && H < x.end)
    if (cover === undefined) return undefined
    const C = cover.handler
    const R = C - 1
    const at = (k: number, op: string) => this.ops[k]?.op === op
    if (R <= H || !at(R, 'reraise') || !at(C, 'copy') || !at(C + 1, 'pop_except') || !at(C + 2, 'reraise')) return undefined
    if (at(H + 1, 'pop')) return undefined
    for (let k = H + 1; k < R; k++) if (at(k, 'check_exc_match') || at(k, 'push_exc_info') || at(k, 'pop_except')) return undefined
    return R
  }

  /**
   * A try/finally statement (3.12+): the body, then the finally body on the normal path; the
   * handler holds the same finally body between PUSH_EXC_INFO and RERAISE. Both copies must read
   * the same. `try: return v` computes v, runs the finally body, then returns.
   */
  private tryFinally(e: TryEntry, bodyEnd: number, R: number, end: number, stack: Val[]): { lines: string[]; next: number } {
    const H = e.handler
    const L = R - (H + 1)
    const finLines = this.block(H + 1, R, R, [...stack, { kind: '$excinfo' }])
    if (finLines.length === 0) return fail('unsupported: empty finally body')
    // the body must not take this statement again
    this.handled.add(H)
    for (let ext = 0; ext <= 2; ext++) {
      const bEnd = bodyEnd + ext
      if (bEnd > end) break
      const s2 = [...stack]
      let lines: string[]
      try {
        lines = this.block(e.start, bEnd, bEnd, s2)
      } catch (err) {
        if (!(err instanceof Unsupported)) throw err
        continue
      }
      const extra = s2.length - stack.length
      if (extra !== 0 && extra !== 1) continue
      if (extra === 0 && ext === 0 && lines.length > 0 && /^raise\b/.test(lines[lines.length - 1]!)) {
        // the body ends in a raise: no normal path, so no copy of the finally body after it
        return { lines: ['try:', ...indent(lines), 'finally:', ...indent(finLines)], next: bEnd }
      }
      if (bEnd + L > end) break
      const s3 = [...s2]
      const normal = this.block(bEnd, bEnd + L, bEnd + L, s3)
      if (s3.length !== s2.length || normal.length !== finLines.length || normal.some((l, n) => l !== finLines[n])) continue
      let next = bEnd + L
      if (extra === 1) {
        // `return v` inside the try: v stays on the stack through the finally body
        const v = s2[s2.length - 1]!
        if (this.ops[next]?.op !== 'return' || !isExpr(v)) continue
        lines = [...lines, isNoneConst(v) ? 'return None' : `return ${this.text(v)}`]
        next++
      }
      return { lines: ['try:', ...indent(lines.length === 0 ? ['pass'] : lines), 'finally:', ...indent(finLines)], next }
    }
    this.handled.delete(H)
    return fail('unsupported: try/finally shape')
  }

  /**
   * A 3.12+ inlined comprehension starting at its LOAD_FAST_AND_CLEARs (the iterator is on the
   * stack): saved locals, SWAP, the empty collection, SWAP, the loop, SWAP, the locals restored.
   */
  private inlineComprehension(i: number, stack: Val[]): { next: number } {
    const saved: string[] = []
    let k = i
    while (this.ops[k]?.op === 'load_clear') {
      saved.push((this.ops[k] as { name: string }).name)
      k++
    }
    const sw = this.ops[k]
    const build = this.ops[k + 1]
    const sw2 = this.ops[k + 2]
    if (sw?.op !== 'swap' || sw.n !== saved.length + 1 || build?.op !== 'build' || build.n !== 0 || sw2?.op !== 'swap' || sw2.n !== 2) return fail('unsupported: inlined comprehension shape')
    const type = build.type === 'list' ? 'list' : build.type === 'set' ? 'set' : build.type === 'map' ? 'dict' : fail('unsupported: inlined comprehension kind')
    const iter = stack[stack.length - 1]
    if (iter?.kind !== '$iter') return fail('internal: inlined comprehension without an iterator')
    const loopAt = k + 3
    if (this.ops[loopAt]?.op !== 'for_iter') return fail('unsupported: inlined comprehension shape')
    // the protected range's handler restores the locals: accounted for here
    for (const e of this.entries) if (e.start <= k + 1 && e.end > k + 1 && e.start >= i) this.handled.add(e.handler)
    const was = this.comprehension
    this.comprehension = true
    let r: { lines: string[]; next: number }
    const loopStack: Val[] = [...stack.slice(0, -1), { kind: '$null' }, iter]
    try {
      r = this.forLoop(loopAt, loopStack)
    } finally {
      this.comprehension = was
    }
    let n = r.next
    const back = this.ops[n]
    // SWAP n+1 and the restores, or (result stored at once) the result's store first, then the restores
    let resultStore: number | undefined
    if (back?.op === 'swap' && back.n === saved.length + 1) n++
    else if (back?.op === 'store') {
      resultStore = n
      n++
    } else return fail('unsupported: inlined comprehension end')
    const restored = new Set<string>()
    for (let q = 0; q < saved.length; q++) {
      const st = this.ops[n]
      if (st?.op !== 'store' || !saved.includes(st.name)) return fail('unsupported: inlined comprehension end')
      restored.add(st.name)
      if (resultStore !== undefined) this.skipOps.add(n)
      n++
    }
    if (restored.size !== saved.length) return fail('unsupported: inlined comprehension end')
    if (resultStore !== undefined) n = resultStore
    stack.pop()
    stack.push(readComprehension(r.lines, type, undefined))
    return { next: n }
  }

  /**
   * The value computed by ops [start, end) on an empty stack, with no statement made (for
   * reading `__annotate__` functions).
   */
  value(start: number, end: number): Expr {
    const stack: Val[] = []
    const lines = this.block(start, end, end, stack)
    const v = stack[0]
    if (lines.length > 0 || stack.length !== 1 || v === undefined || !isExpr(v)) return fail('unsupported: value range shape')
    return v
  }

  /** Whether ops k… are the normal exit of a with block: exit(None, None, None), result popped. */
  private isWithExit(k: number): boolean {
    const o = this.ops
    const none = (q: number) => o[q]?.op === 'const' && (o[q] as { value: PyObject }).value.type === 'none'
    const call = o[k + 3]
    return none(k) && none(k + 1) && none(k + 2) && call?.op === 'call' && (call.argc === 2 || call.argc === 3) && o[k + 4]?.op === 'pop'
  }

  /**
   * A with statement (3.12–3.13 BEFORE_WITH): the manager's value is stored (`as`) or popped, the
   * body runs up to the matching normal exit `exit(None, None, None)`; the exception path (a
   * handler after the body) is the compiler's own and is left out.
   */
  private isSpecialWith(i: number): boolean {
    const o = this.ops
    const c = o[i]
    const x = o[i + 1]
    const e = o[i + 4]
    const call = o[i + 5]
    return c?.op === 'copy' && c.n === 1 && x?.op === 'load_special' && x.name === '__exit__' && o[i + 2]?.op === 'swap' && o[i + 3]?.op === 'swap' && e?.op === 'load_special' && e.name === '__enter__' && call?.op === 'call' && call.argc === 0
  }

  private withStatement(i: number, stack: Val[], slots: 1 | 2): { lines: string[]; next: number } {
    const ctx = stack.pop()
    if (ctx === undefined || !isExpr(ctx)) return fail('internal: with without a manager')
    const bind = this.ops[i + 1]
    let target: string | undefined
    if (bind?.op === 'store') target = bind.name
    else if (bind?.op !== 'pop') return fail('unsupported: with target')
    const bodyStart = i + 2
    // the matching exit: nested with statements open and close their own
    let depth = 0
    let exit = -1
    for (let k = bodyStart; k < this.ops.length; k++) {
      const o = this.ops[k]!
      if (o.op === 'before_with' || this.isSpecialWith(k)) depth++
      else if (this.isWithExit(k)) {
        if (depth === 0) {
          exit = k
          break
        }
        depth--
        k += 4
      }
    }
    if (exit < 0) return fail('unsupported: with block end')
    for (const e of this.entries) if (e.start >= i + 1 && e.start < exit && this.ops[e.handler]?.op === 'push_exc_info') {
      if (e.depth === stack.length + slots) this.handled.add(e.handler)
    }
    const bodyStack: Val[] = [...stack, ...Array.from({ length: slots }, (): Val => ({ kind: '$with' }))]
    const lines = this.block(bodyStart, exit, exit, bodyStack)
    let next = exit + 5
    if (bodyStack.length === stack.length + slots + 1 && this.ops[next]?.op === 'return') {
      // `return v` inside the block: v is computed, the manager exits, then v is returned
      // (SWAPs put the value under the exit function)
      const v = bodyStack.slice(stack.length).find((x) => x.kind !== '$with')!
      if (!isExpr(v)) return fail('internal: with return of a marker')
      lines.push(isNoneConst(v) ? 'return None' : `return ${this.text(v)}`)
      next++
    } else if (bodyStack.length !== stack.length + slots) return fail('unsupported: with block leaves values')
    const head = `with ${this.text(ctx, Prec.Lambda)}${target === undefined ? '' : ` as ${target}`}:`
    return { lines: [head, ...indent(lines.length === 0 ? ['pass'] : lines)], next }
  }

  /** `from m import a as b, c` starting at the IMPORT_FROM at `i`. */
  private importFrom(i: number, m: Extract<Val, { kind: '$module' }>, stack: Val[]): { line: string; next: number } {
    const names: string[] = []
    let k = i
    if (m.fromlist.type === 'none') {
      // import a.b.c as d: IMPORT_FROM b, SWAP 2, POP_TOP, IMPORT_FROM c, SWAP 2, POP_TOP, STORE d
      // (3.12+: the last IMPORT_FROM, STORE d, POP_TOP)
      while (this.ops[k]?.op === 'import_from' && this.ops[k + 1]?.op === 'swap' && this.ops[k + 2]?.op === 'pop') k += 3
      let popAfter = false
      if (this.ops[k]?.op === 'import_from' && this.ops[k + 1]?.op === 'store' && this.ops[k + 2]?.op === 'pop') {
        k++
        popAfter = true
      }
      const store = this.ops[k]
      if (store?.op !== 'store' || k === i) return fail('unsupported: import as shape')
      if (this.isFunction && store.scope === 'global') this.globals.add(store.name)
      stack.pop()
      return { line: `import ${m.module} as ${store.name}`, next: k + (popAfter ? 2 : 1) }
    }
    while (this.ops[k]?.op === 'import_from') {
      const from = this.ops[k] as Extract<Op, { op: 'import_from' }>
      const store = this.ops[k + 1]
      if (store?.op !== 'store') return fail('unsupported: import from without a store')
      if (this.isFunction && store.scope === 'global') this.globals.add(store.name)
      names.push(from.name === store.name ? from.name : `${from.name} as ${store.name}`)
      k += 2
    }
    if (this.ops[k]?.op !== 'pop') return fail('unsupported: import from not followed by a pop')
    if (m.fromlist.type !== 'tuple') return fail('internal: from import without a fromlist')
    stack.pop()
    return { line: `from ${'.'.repeat(m.level)}${m.module} import ${names.join(', ')}`, next: k + 1 }
  }

  /** A for loop whose FOR_ITER is op `i`; the iterator is on top of `stack`. */
  private forLoop(i: number, stack: Val[]): { lines: string[]; next: number } {
    const fo = this.ops[i] as Extract<Op, { op: 'for_iter' }>
    const target = this.ix(fo.target)
    let exit = target
    if (this.ops[exit]?.op === 'end_for') {
      exit++
      if (this.ops[exit]?.op === 'pop') exit++
      if (stack[stack.length - 1]!.kind === '$null' && this.ops[exit]?.op === 'pop') exit++
    }
    const twoSlots = stack[stack.length - 1]!.kind === '$null'
    const top = stack[stack.length - (twoSlots ? 2 : 1)]!
    // a nested comprehension loops over its argument `.0`, already an iterator
    if (top.kind === 'name' && top.id === '.0') stack[stack.length - (twoSlots ? 2 : 1)] = { kind: '$iter', iter: top }
    const iter = stack[stack.length - (twoSlots ? 2 : 1)]!
    if (iter.kind !== '$iter') return fail('internal: for loop without an iterator')
    const id = this.nextLoop++
    const loop: Loop = { head: i, exit, iter }
    this.loops.push(loop)
    let lines: string[]
    try {
      const bodyStack = [...stack, { kind: '$item', loop: id } as Val]
      lines = this.block(i + 1, target, i, bodyStack)
      if (bodyStack.length !== stack.length) fail('internal: for body left values on the stack')
    } finally {
      this.loops.pop()
    }
    const t = this.loopTargets.get(id) ?? fail('internal: for loop target not stored')
    stack.pop()
    if (twoSlots) stack.pop()
    if (lines.length > 1 && lines[lines.length - 1] === 'continue') lines.pop()
    return { lines: [`for ${t} in ${this.text(iter.iter, Prec.Tuple)}:`, ...indent(lines.length === 0 ? ['pass'] : lines)], next: exit }
  }

  /** A while loop over ops [head, exit). */
  private whileLoop(head: number, exit: number, stack: Val[], test: Expr | undefined): string[] {
    const loop: Loop = { head, exit, iter: undefined }
    this.loops.push(loop)
    let lines: string[]
    try {
      lines = this.block(head, exit, head, [...stack])
    } finally {
      this.loops.pop()
    }
    const last = this.ops[exit - 1]
    if (!((last?.op === 'jump' || last?.op === 'cjump') && this.ix(last.target) === head) && lines[lines.length - 1] !== 'continue') {
      // the loop's range ends without going back to its head: falling through leaves the loop
      lines.push('break')
    }
    if (lines[lines.length - 1] === 'continue') lines.pop()
    let cond = test === undefined ? 'True' : this.text(test)
    // `while c:` (3.13+): the loop starts with `if not c: break`.
    if (test === undefined && lines.length >= 2 && lines[0]!.startsWith('if ') && lines[1] === '    break' && lines[0]!.endsWith(':') && !lines[2]?.startsWith('    ')) {
      const c = lines[0]!.slice(3, -1)
      cond = c.startsWith('not ') ? c.slice(4) : `not ${c.includes(' ') ? `(${c})` : c}`
      lines = lines.slice(2)
    }
    return [`while ${cond}:`, ...indent(lines.length === 0 ? ['pass'] : lines)]
  }

  /**
   * A conditional jump at op `i` with the condition on the stack: gathers the condition's atoms
   * and makes an if statement, a loop exit, a conditional expression or an and/or value.
   */
  private condition(i: number, end: number, follow: number, stack: Val[], base: number, pendingAssign: boolean): { lines: string[]; next: number } {
    const o = this.ops[i] as Extract<Op, { op: 'cjump' | 'cjump_or_pop' }>
    // and/or as a value: `a COPY 1 POP_JUMP_IF_x L; POP_TOP; b; L:` (or ≤ 3.11 JUMP_IF_x_OR_POP).
    const valueForm = o.op === 'cjump_or_pop' || (this.ops[i - 1]?.op === 'copy' && (this.ops[i - 1] as { n: number }).n === 1 && this.ops[i + 1]?.op === 'pop' && stack.length >= 2 && stack[stack.length - 1] === stack[stack.length - 2])
    if (valueForm && (o.when === 'true' || o.when === 'false')) {
      const left = stack.pop()!
      if (!isExpr(left)) return fail('internal: and/or of a marker')
      if (o.op === 'cjump') stack.pop()
      const t = this.ix(o.target)
      const sub: Val[] = [...stack]
      const lines = this.block(o.op === 'cjump' ? i + 2 : i + 1, t, t, sub)
      if (lines.length > 0 || sub.length !== stack.length + 1) return fail('unsupported: statements inside an and/or')
      const right = sub[sub.length - 1]!
      if (!isExpr(right)) return fail('internal: and/or of a marker')
      stack.push(boolOp(o.when === 'true' ? 'or' : 'and', left, right))
      return { lines: [], next: t }
    }
    if (o.op !== 'cjump') return fail('internal')
    const first = stack.pop()!
    if (!isExpr(first)) return fail('internal: condition is a marker')
    const cond = (e: Expr, when: string): { expr: Expr; whenTrue: boolean } => {
      if (when === 'none') return { expr: { kind: 'compare', left: e, ops: ['is'], rights: [constant({ type: 'none' } as PyObject)] }, whenTrue: true }
      if (when === 'notnone') return { expr: { kind: 'compare', left: e, ops: ['is not'], rights: [constant({ type: 'none' } as PyObject)] }, whenTrue: true }
      return { expr: e, whenTrue: when === 'true' }
    }
    const atoms: Atom[] = [{ ...cond(first, o.when), target: this.ix(o.target), start: i, end: i + 1 }]
    // a chained comparison `a < b < c` as a condition: `a b SWAP 2 COPY 2 <; jump-if-false T;
    // c <; jump F; JUMP B; T: POP_TOP; JUMP F; B:` — one atom testing the whole chain
    const chain = this.chainAtom(i, first, stack)
    if (chain !== undefined) atoms[0] = chain
    // More atoms: expression ranges ending in a conditional jump, with no loop head inside.
    for (;;) {
      const last = atoms[atoms.length - 1]!
      let k = last.end
      const sub: Val[] = [...stack]
      let ok = false
      while (k < end && !this.backEdges.has(k)) {
        const op = this.ops[k]!
        if (op.op === 'cjump') {
          ok = k > last.end
          break
        }
        if (!PURE_OPS.has(op.op)) break
        if (op.op === 'copy' || op.op === 'swap') break
        k++
      }
      if (!ok) break
      let value: Expr
      try {
        const lines = this.block(last.end, k, k, sub)
        if (lines.length > 0 || sub.length !== stack.length + 1) break
        const v = sub[sub.length - 1]!
        if (!isExpr(v)) break
        value = v
      } catch {
        break
      }
      const cj = this.ops[k] as Extract<Op, { op: 'cjump' }>
      atoms.push({ ...cond(value, cj.when), target: this.ix(cj.target), start: last.end, end: k + 1 })
    }
    // The longest prefix of atoms that merges into one condition.
    let merged: Atom | undefined
    for (let n = atoms.length; n >= 1 && merged === undefined; n--) {
      const prefix = atoms.slice(0, n)
      const bodyStart = prefix[n - 1]!.end
      const exits = new Set([bodyStart, prefix[n - 1]!.target, ...prefix.slice(1).map((a) => a.start)])
      if (!prefix.every((a) => exits.has(a.target))) continue
      merged = mergeAtoms(prefix)
    }
    if (merged === undefined) return fail('unsupported: condition shape')
    const test = merged.whenTrue ? negateCond(merged.expr) : merged.expr
    // `test` is true when the jump is NOT taken (falls into the body).
    const jumpTest = merged.whenTrue ? merged.expr : negate(merged.expr)
    const bodyStart = merged.end
    const t = merged.target
    const loop = this.loops[this.loops.length - 1]
    const simplify = (e: Expr): Expr => (e.kind === 'unary' && e.op === 'not' && e.operand.kind === 'unary' && e.operand.op === 'not' ? e.operand.operand : e)
    if (stack.length === base && !pendingAssign && loop !== undefined && loop.iter === undefined && this.same(t, loop.exit) && t !== follow) {
      return { lines: [`if ${this.text(simplify(jumpTest))}:`, '    break'], next: bodyStart }
    }
    if (stack.length === base && !pendingAssign && loop !== undefined && loop.iter === undefined && this.same(t, loop.head) && bodyStart === loop.exit) {
      // ≤ 3.11: the loop's last op jumps back on a condition: `if not c: break`
      return { lines: [`if ${this.text(simplify(negate(jumpTest)))}:`, '    break'], next: bodyStart }
    }
    if (stack.length === base && !pendingAssign && loop !== undefined && this.same(t, loop.head) && t > i === false) {
      return { lines: [`if ${this.text(simplify(jumpTest))}:`, '    continue'], next: bodyStart }
    }
    if (t <= bodyStart || t > end) {
      if (stack.length === base && !pendingAssign && loop !== undefined && this.same(t, loop.head)) return { lines: [`if ${this.text(simplify(jumpTest))}:`, '    continue'], next: bodyStart }
      return fail(`unsupported: conditional jump at offset ${o.at}`)
    }
    // 3.12 while loop: `c; jump-if-not L; H: body; c; jump-if-not L; JUMP H; L:`
    const lastOp = this.ops[t - 1]!
    if (lastOp.op === 'jump' && this.ix(lastOp.target) === bodyStart && this.backEdges.get(bodyStart) === t - 1 && stack.length === base) {
      const condLen = merged.end - merged.start
      const condStart = this.statementStart(merged.start, base, stack)
      const dupStart = t - 1 - (merged.end - condStart)
      if (dupStart < bodyStart || condLen <= 0) return fail('unsupported: while loop shape')
      for (let k = 0; k < merged.end - condStart; k++) {
        if (this.ops[condStart + k]!.op !== this.ops[dupStart + k]!.op) return fail('unsupported: while loop shape')
      }
      const l2: Loop = { head: bodyStart, exit: t, iter: undefined }
      this.loops.push(l2)
      let lines: string[]
      try {
        lines = this.block(bodyStart, dupStart, bodyStart, [...stack])
      } finally {
        this.loops.pop()
      }
      if (lines[lines.length - 1] === 'continue') lines.pop()
      return { lines: [`while ${this.text(test)}:`, ...indent(lines.length === 0 ? ['pass'] : lines)], next: t }
    }
    // then [bodyStart, t), maybe else [t, e)
    let thenEnd = t
    let elseEnd: number | undefined
    let thenFollow = t
    if (!this.isFunction && lastOp.op === 'return' && t < end) {
      // module or class body: the then-branch ends in the implicit `return None`, so the rest is its else
      elseEnd = end
      thenFollow = follow
    } else if (lastOp.op === 'jump') {
      const e = this.ix(lastOp.target)
      const loopJump = loop !== undefined && (this.same(e, loop.exit) || this.same(e, loop.head))
      if (e > t && e <= end && !loopJump) {
        thenEnd = t - 1
        elseEnd = e
        thenFollow = e
      } else if (e > end && this.same(e, follow) && !(loop !== undefined && (this.same(e, loop.head) || this.same(e, loop.exit)))) {
        thenEnd = t - 1
        elseEnd = end
        thenFollow = follow
      }
    }
    const thenStack = [...stack]
    const wasInIf = this.inIf
    this.inIf = elseEnd === undefined
    let thenLines: string[]
    try {
      thenLines = this.block(bodyStart, thenEnd, thenFollow, thenStack)
    } finally {
      this.inIf = wasInIf
    }
    if (thenStack.length === stack.length + 1 && thenLines.length === 0 && elseEnd !== undefined && !pendingAssign) {
      // a conditional expression
      const elseStack = [...stack]
      const elseLines = this.block(t, elseEnd, thenFollow, elseStack)
      if (elseLines.length > 0 || elseStack.length !== stack.length + 1) return fail('unsupported: conditional expression shape')
      const a = thenStack[thenStack.length - 1]!
      const b = elseStack[elseStack.length - 1]!
      if (!isExpr(a) || !isExpr(b)) return fail('internal: conditional expression of markers')
      stack.push({ kind: 'ifexp', test, body: a, orelse: b })
      return { lines: [], next: elseEnd }
    }
    if (thenStack.length !== stack.length || stack.length !== base || pendingAssign) return fail('unsupported: branch inside an expression')
    const lines = [`if ${this.text(test)}:`, ...indent(thenLines.length === 0 ? ['pass'] : thenLines)]
    if (elseEnd === undefined && thenLines.length === 1 && thenLines[0]!.startsWith(`raise ${ASSERTION_ERROR}`)) {
      // assert: `if not test: raise AssertionError[(msg)]` with the special load
      const rest = thenLines[0]!.slice(`raise ${ASSERTION_ERROR}`.length)
      const holds = this.text(negateCond(test), Prec.Lambda)
      if (rest === '') return { lines: [`assert ${holds}`], next: t }
      if (rest.startsWith('(') && rest.endsWith(')')) return { lines: [`assert ${holds}, ${rest.slice(1, -1)}`], next: t }
      return fail('unsupported: assert shape')
    }
    if (elseEnd === undefined) {
      const w = this.whileFromIf(test, thenLines, t)
      if (w !== undefined) return { lines: w, next: t }
      return { lines, next: t }
    }
    const elseLines = this.block(t, elseEnd, thenFollow, [...stack])
    if (elseLines.length > 0) {
      if (elseLines[0]!.startsWith('if ') && elseLines.slice(1).every((l) => l.startsWith('    ') || l.startsWith('elif ') || l.startsWith('else:'))) {
        lines.push(`el${elseLines[0]!}`, ...elseLines.slice(1))
      } else lines.push('else:', ...indent(elseLines))
    }
    return { lines, next: elseEnd }
  }

  /**
   * 3.12 lays `while c: body` out as `if c: (loop: body; if not c: break)`: this turns the
   * if-block back into the while loop (when nothing else happens in it, or only the function's
   * final `return None` that the false branch reaches too).
   */
  private whileFromIf(test: Expr, thenLines: string[], t: number): string[] | undefined {
    if (thenLines[0] !== 'while True:') return undefined
    let end = 1
    while (end < thenLines.length && thenLines[end]!.startsWith('    ')) end++
    const rest = thenLines.slice(end)
    const endsFunction = this.ops[t]?.op === 'const' && isNoneConst({ kind: 'const', value: (this.ops[t] as { value: PyObject }).value }) && this.ops[t + 1]?.op === 'return'
    if (!(rest.length === 0 || (rest.length === 1 && rest[0] === 'return None' && endsFunction))) return undefined
    const body = thenLines.slice(1, end)
    const tail = body.slice(-2)
    const c = this.text(test)
    const neg = this.text(negateCond(test))
    if (!((tail[0] === `    if ${neg}:` || tail[0] === `    if not (${c}):`) && tail[1] === '        break')) return undefined
    const inner = body.slice(0, -2)
    return [`while ${c}:`, ...(inner.length === 0 ? ['    pass'] : inner), ...rest]
  }

  /** The chained-comparison atom starting with the conditional jump at `i` (see condition()). */
  private chainAtom(i: number, first: Expr, stack: Val[]): Atom | undefined {
    const o = this.ops[i] as Extract<Op, { op: 'cjump' }>
    if (o.when !== 'false' || first.kind !== 'compare' || stack[stack.length - 1] !== first.rights[first.rights.length - 1]) return undefined
    const T = this.ix(o.target)
    if (this.ops[T]?.op !== 'pop') return undefined
    // the rest of the chain: ops up to the next compare that uses the middle value
    const sub: Val[] = [...stack]
    let k = i + 1
    while (k < T && this.ops[k]!.op !== 'cjump') k++
    const cj = this.ops[k]
    const skip = this.ops[k + 1]
    if (cj?.op !== 'cjump' || skip?.op !== 'jump' || k + 2 !== T) return undefined
    try {
      const lines = this.block(i + 1, k, k, sub)
      if (lines.length > 0 || sub.length !== stack.length) return undefined
    } catch {
      return undefined
    }
    const rest = sub[sub.length - 1]
    if (rest === undefined || !isExpr(rest) || rest.kind !== 'compare' || rest.left !== stack[stack.length - 1]) return undefined
    const F = this.ix(cj.target)
    // after the cleanup POP_TOP: a jump to F, or (3.12+ duplicated exits) a copy of F's code
    const after = this.ops[T + 1]
    const cleanupEnd = after?.op === 'jump' ? T + 2 : this.sameExit(T + 1, F)
    if (cleanupEnd === undefined || (after?.op === 'jump' && !this.same(this.ix(after.target), F))) return undefined
    if (cj.when !== 'false' || this.ix(skip.target) !== cleanupEnd) return undefined
    stack.pop()
    const expr: Expr = { kind: 'compare', left: first.left, ops: [...first.ops, ...rest.ops], rights: [...first.rights, ...rest.rights] }
    return { expr, whenTrue: false, target: F, start: i, end: cleanupEnd }
  }

  /** When ops from `a` repeat the ops from `b` up to a return: the index just past a's copy. */
  private sameExit(a: number, b: number): number | undefined {
    const key = (o: Op | undefined) => (o === undefined ? '' : JSON.stringify({ ...o, at: 0 }, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))
    for (let n = 0; n < 12; n++) {
      const x = this.ops[a + n]
      if (x === undefined || key(x) !== key(this.ops[b + n])) return undefined
      if (x.op === 'return') return a + n + 1
      if (x.op === 'jump' || x.op === 'cjump') return undefined
    }
    return undefined
  }

  /** Where the statement holding the condition atom at `i` began (for 3.12 duplicated loop tests). */
  private statementStart(i: number, base: number, stack: Val[]): number {
    // Walk back over the pure ops that computed the condition.
    let depth = 1
    let k = i - 1
    void base
    void stack
    while (k >= 0 && depth > 0) {
      const op = this.ops[k]!
      const e = SIMPLE_EFFECT[op.op]
      if (e === undefined) return fail('unsupported: while loop test shape')
      depth -= e(op)
      k--
    }
    return k + 1
  }
}

/** Net stack effects of the ops a simple loop test is made of. */
const SIMPLE_EFFECT: Readonly<Record<string, (o: Op) => number>> = {
  const: () => 1,
  load: () => 1,
  null: () => 1,
  load_attr: () => 0,
  subscr: () => -1,
  binop: () => -1,
  unary: () => 0,
  compare: () => -1,
  call: (o) => -(o as { argc: number }).argc - ((o as { slots: number }).slots - 1) - ((o as { kwOnStack: boolean }).kwOnStack ? 1 : 0),
  build: (o) => 1 - ((o as { n: number; type: string }).type === 'map' ? 2 : 1) * (o as { n: number }).n,
}

const CONVERSION_TEXT = ['', 's', 'r', 'a']

/** The line a comprehension's LIST_APPEND / SET_ADD / MAP_ADD makes (not Python: parsed back by the caller). */
export const COMP_ELEMENT = '$element$'

/** Ops that only compute a value (no statement), for gathering condition atoms. */
const PURE_OPS = new Set(['format', 'convert', 'format_simple', 'format_with_spec', 'const', 'load', 'null', 'load_attr', 'load_super_attr', 'subscr', 'binary_slice', 'build_slice', 'binop', 'unary', 'compare', 'call', 'call_ex', 'build', 'const_key_map', 'list_extend', 'set_update', 'dict_update', 'dict_merge', 'list_to_tuple'])

function negateCond(e: Expr): Expr {
  if (e.kind === 'unary' && e.op === 'not') return e.operand
  return { kind: 'unary', op: 'not', operand: e }
}

/**
 * Reads a comprehension back from the statements of its loop: `for` lines, filters (`if c:`
 * nesting or `if not c: continue`) and one element line (`(yield e)` or the append marker).
 * `outer` replaces the `.0` argument of a nested comprehension function.
 */
export function readComprehension(lines: readonly string[], type: 'gen' | 'list' | 'set' | 'dict', outer: Expr | undefined): Expr {
  const raw = (text: string): Expr => ({ kind: 'raw', text, prec: Prec.Tuple })
  const gens: { target: string; iter: Expr; ifs: Expr[]; isAsync: boolean }[] = []
  let elt: string | undefined
  for (let k = 0, depth = 0; k < lines.length; k++, depth++) {
    const line = lines[k]!
    const pad = '    '.repeat(depth)
    if (!line.startsWith(pad) || line[pad.length] === ' ') throw new Unsupported('unsupported: comprehension shape')
    const text = line.slice(pad.length)
    const m = /^for (.+) in (.+):$/.exec(text)
    const c = /^if (.+):$/.exec(text)
    if (c !== null && gens.length > 0 && lines[k + 1] === `${pad}    continue`) {
      // `if not c: continue` is the filter `if c`
      gens[gens.length - 1]!.ifs.push(raw(`not (${c[1]!})`))
      k++
      depth--
      continue
    }
    if (m !== null) gens.push({ target: m[1]!, iter: gens.length === 0 && m[2] === '.0' && outer !== undefined ? outer : raw(m[2]!), ifs: [], isAsync: false })
    else if (c !== null && gens.length > 0) gens[gens.length - 1]!.ifs.push(raw(c[1]!))
    else if (k === lines.length - 1 && type === 'gen' && text.startsWith('(yield ') && text.endsWith(')')) elt = text.slice(7, -1)
    else if (k === lines.length - 1 && type !== 'gen' && text.startsWith(`${COMP_ELEMENT} `)) elt = text.slice(COMP_ELEMENT.length + 1)
    else throw new Unsupported('unsupported: comprehension shape')
  }
  if (elt === undefined || gens.length === 0 || (outer !== undefined && gens[0]!.iter !== outer)) throw new Unsupported('unsupported: comprehension shape')
  if (type === 'dict') {
    const colon = elt.indexOf(': ')
    return { kind: 'comp', type, elt: raw(`(${elt.slice(0, colon)})`), value: raw(`(${elt.slice(colon + 2)})`), generators: gens }
  }
  return { kind: 'comp', type, elt: raw(elt), value: undefined, generators: gens }
}

/** Lines indented one level. */
export function indent(lines: readonly string[]): string[] {
  return lines.map((l) => `    ${l}`)
}
