/**
 * The expression tree of the decompiler and its printer. Printing follows Python's precedence
 * table (the Language Reference, "Operator precedence"), adding parentheses only where the parse
 * would otherwise differ; tuples are always parenthesized (the same bytecode either way).
 */
import type { PyObject } from '../marshal/index.js'
import { reprBytes, reprComplex, reprFloat, reprStr } from '../bytecode/index.js'

/** An expression; `kind` selects the shape. */
export type Expr =
  | { readonly kind: 'name'; readonly id: string }
  | { readonly kind: 'const'; readonly value: PyObject }
  | { readonly kind: 'attr'; readonly obj: Expr; readonly name: string }
  | { readonly kind: 'subscript'; readonly obj: Expr; readonly index: Expr }
  | { readonly kind: 'slice'; readonly lo: Expr | undefined; readonly hi: Expr | undefined; readonly step: Expr | undefined }
  | { readonly kind: 'call'; readonly func: Expr; readonly args: readonly Expr[]; readonly keywords: readonly Keyword[] }
  | { readonly kind: 'binop'; readonly op: string; readonly left: Expr; readonly right: Expr }
  | { readonly kind: 'unary'; readonly op: 'not' | '-' | '+' | '~'; readonly operand: Expr }
  | { readonly kind: 'bool'; readonly op: 'and' | 'or'; readonly values: readonly Expr[] }
  | { readonly kind: 'compare'; readonly left: Expr; readonly ops: readonly string[]; readonly rights: readonly Expr[] }
  | { readonly kind: 'ifexp'; readonly test: Expr; readonly body: Expr; readonly orelse: Expr }
  | { readonly kind: 'tuple' | 'list' | 'set'; readonly items: readonly Expr[] }
  | { readonly kind: 'dict'; readonly items: readonly (readonly [Expr | undefined, Expr])[] }
  | { readonly kind: 'starred'; readonly value: Expr }
  | { readonly kind: 'lambda'; readonly args: string; readonly body: Expr }
  | { readonly kind: 'yield'; readonly value: Expr | undefined }
  | { readonly kind: 'yieldfrom'; readonly value: Expr }
  | { readonly kind: 'await'; readonly value: Expr }
  | { readonly kind: 'namedexpr'; readonly target: string; readonly value: Expr }
  | { readonly kind: 'fstring'; readonly parts: readonly Expr[] }
  | { readonly kind: 'formatted'; readonly value: Expr; readonly conversion: string; readonly spec: Expr | undefined }
  | { readonly kind: 'comp'; readonly type: 'list' | 'set' | 'dict' | 'gen'; readonly elt: Expr; readonly value: Expr | undefined; readonly generators: readonly CompFor[] }
  /** Source text printed as is (targets already made into text, e.g. unpacking). */
  | { readonly kind: 'raw'; readonly text: string; readonly prec: number }

/** One `for … in … if …` clause of a comprehension. */
export interface CompFor {
  readonly target: string
  readonly iter: Expr
  readonly ifs: readonly Expr[]
  readonly isAsync: boolean
}

/** A keyword argument; `name` undefined for `**mapping`. */
export interface Keyword {
  readonly name: string | undefined
  readonly value: Expr
}

/** Precedence levels, lowest first. */
export const enum Prec {
  Tuple = 0,
  Lambda = 1,
  IfExp = 2,
  Or = 3,
  And = 4,
  Not = 5,
  Compare = 6,
  BitOr = 7,
  BitXor = 8,
  BitAnd = 9,
  Shift = 10,
  Arith = 11,
  Term = 12,
  Unary = 13,
  Power = 14,
  Await = 15,
  Atom = 16,
}

const BINOP_PREC: Readonly<Record<string, Prec>> = {
  '|': Prec.BitOr,
  '^': Prec.BitXor,
  '&': Prec.BitAnd,
  '<<': Prec.Shift,
  '>>': Prec.Shift,
  '+': Prec.Arith,
  '-': Prec.Arith,
  '*': Prec.Term,
  '/': Prec.Term,
  '//': Prec.Term,
  '%': Prec.Term,
  '@': Prec.Term,
  '**': Prec.Power,
}

/** Whether `op` is a binary operator the printer knows. */
export function isBinop(op: string): boolean {
  return op in BINOP_PREC
}

/** The precedence of an expression's outermost operator. */
export function precOf(e: Expr): Prec {
  switch (e.kind) {
    case 'binop':
      return BINOP_PREC[e.op] ?? Prec.Atom
    case 'unary':
      return e.op === 'not' ? Prec.Not : Prec.Unary
    case 'bool':
      return e.op === 'or' ? Prec.Or : Prec.And
    case 'compare':
      return Prec.Compare
    case 'ifexp':
      return Prec.IfExp
    case 'lambda':
      return Prec.Lambda
    case 'await':
      return Prec.Await
    case 'yield':
    case 'yieldfrom':
    case 'namedexpr':
      return Prec.Tuple
    case 'starred':
      return Prec.BitOr
    case 'raw':
      return e.prec
    case 'const':
      return constPrec(e.value)
    default:
      return Prec.Atom
  }
}

function constPrec(v: PyObject): Prec {
  if (v.type === 'int' && v.value < 0n) return Prec.Unary
  if (v.type === 'float' && (v.value < 0 || Object.is(v.value, -0))) return Prec.Unary
  if (v.type === 'complex') return v.real !== 0 || Object.is(v.real, -0) ? Prec.Arith : Prec.Atom
  return Prec.Atom
}

/** Thrown when a value cannot be printed as Python source. */
export class UnprintableError extends Error {
  override readonly name = 'UnprintableError'
}

/** Python source for a constant. */
export function constText(v: PyObject, minor: number): string {
  switch (v.type) {
    case 'none':
      return 'None'
    case 'bool':
      return v.value ? 'True' : 'False'
    case 'ellipsis':
      return '...'
    case 'int':
      return v.value.toString()
    case 'float':
      if (Number.isNaN(v.value)) throw new UnprintableError('a NaN constant')
      if (v.value === Infinity) return '1e999'
      if (v.value === -Infinity) return '-1e999'
      return reprFloat(v.value)
    case 'complex':
      if (!Number.isFinite(v.real) || !Number.isFinite(v.imag)) throw new UnprintableError('a non-finite complex constant')
      return reprComplex(v.real, v.imag)
    case 'str':
      if (v.utf8 !== undefined) throw new UnprintableError('a string with lone surrogates')
      return reprStr(v.value, minor)
    case 'bytes':
      return reprBytes(v.value)
    case 'tuple':
      if (v.items.length === 1) return `(${constText(v.items[0]!, minor)},)`
      return `(${v.items.map((x) => constText(x, minor)).join(', ')})`
    case 'frozenset':
    case 'set':
      // Only `x in {…}` folds a set display into a frozenset constant.
      if (v.items.length === 0) throw new UnprintableError('an empty frozenset constant')
      return `{${v.items.map((x) => constText(x, minor)).join(', ')}}`
    default:
      throw new UnprintableError(`a ${v.type} constant`)
  }
}

/** Prints expressions for one Python minor version. */
export class Printer {
  constructor(readonly minor: number) {}

  /** The text of `e`, parenthesized when its precedence is below `min`. */
  expr(e: Expr, min: Prec = Prec.Tuple): string {
    const text = this.bare(e)
    return precOf(e) < min ? `(${text})` : text
  }

  private bare(e: Expr): string {
    switch (e.kind) {
      case 'name':
        return e.id
      case 'const':
        return constText(e.value, this.minor)
      case 'raw':
        return e.text
      case 'attr': {
        let obj = this.expr(e.obj, Prec.Atom)
        // `1 .real`: an int literal followed by a dot would read as a float.
        if (e.obj.kind === 'const' && e.obj.value.type === 'int') obj = `(${obj})`
        return `${obj}.${e.name}`
      }
      case 'subscript':
        return `${this.expr(e.obj, Prec.Atom)}[${this.index(e.index)}]`
      case 'slice':
        return this.sliceText(e)
      case 'call': {
        const parts = e.args.map((a) => this.arg(a))
        for (const k of e.keywords) parts.push(k.name === undefined ? `**${this.expr(k.value, Prec.BitOr)}` : `${k.name}=${this.expr(k.value, Prec.Lambda)}`)
        // A lone generator expression argument keeps its own parentheses only.
        if (e.args.length === 1 && e.keywords.length === 0 && e.args[0]!.kind === 'comp' && e.args[0]!.type === 'gen') {
          return `${this.expr(e.func, Prec.Atom)}${this.bare(e.args[0]!)}`
        }
        return `${this.expr(e.func, Prec.Atom)}(${parts.join(', ')})`
      }
      case 'binop': {
        const p = BINOP_PREC[e.op]!
        // ** is right-associative (and binds tighter than a unary operator on its left).
        if (e.op === '**') return `${this.expr(e.left, Prec.Await)} ** ${this.expr(e.right, Prec.Unary)}`
        return `${this.expr(e.left, p)} ${e.op} ${this.expr(e.right, p + 1)}`
      }
      case 'unary':
        if (e.op === 'not') return `not ${this.expr(e.operand, Prec.Not)}`
        return `${e.op}${this.expr(e.operand, Prec.Unary)}`
      case 'bool': {
        const p = e.op === 'or' ? Prec.Or : Prec.And
        return e.values.map((v) => this.expr(v, p + 1)).join(` ${e.op} `)
      }
      case 'compare': {
        let s = this.expr(e.left, Prec.BitOr)
        for (let i = 0; i < e.ops.length; i++) s += ` ${e.ops[i]} ${this.expr(e.rights[i]!, Prec.BitOr)}`
        return s
      }
      case 'ifexp':
        return `${this.expr(e.body, Prec.Or)} if ${this.expr(e.test, Prec.Or)} else ${this.expr(e.orelse, Prec.IfExp)}`
      case 'tuple':
        if (e.items.length === 1) return `(${this.arg(e.items[0]!)},)`
        return `(${e.items.map((x) => this.arg(x)).join(', ')})`
      case 'list':
        return `[${e.items.map((x) => this.arg(x)).join(', ')}]`
      case 'set':
        if (e.items.length === 0) throw new UnprintableError('an empty set display (3.14+ builds long ones item by item: not recovered yet)')
        return `{${e.items.map((x) => this.arg(x)).join(', ')}}`
      case 'dict':
        return `{${e.items.map(([k, v]) => (k === undefined ? `**${this.expr(v, Prec.BitOr)}` : `${this.expr(k, Prec.Lambda)}: ${this.expr(v, Prec.Lambda)}`)).join(', ')}}`
      case 'starred':
        return `*${this.expr(e.value, Prec.BitOr)}`
      case 'lambda':
        return `lambda${e.args === '' ? '' : ' ' + e.args}: ${this.expr(e.body, Prec.Lambda)}`
      case 'yield':
        return e.value === undefined ? '(yield)' : `(yield ${this.expr(e.value, Prec.Lambda)})`
      case 'yieldfrom':
        return `(yield from ${this.expr(e.value, Prec.Lambda)})`
      case 'await':
        return `await ${this.expr(e.value, Prec.Atom)}`
      case 'namedexpr':
        return `(${e.target} := ${this.expr(e.value, Prec.Lambda)})`
      case 'fstring':
      case 'formatted':
        return this.fstring(e.kind === 'fstring' ? e.parts : [e])
      case 'comp': {
        const gens = e.generators.map((g) => `${g.isAsync ? 'async ' : ''}for ${g.target} in ${this.expr(g.iter, Prec.Or)}${g.ifs.map((c) => ` if ${this.expr(c, Prec.Or)}`).join('')}`).join(' ')
        const elt = e.type === 'dict' ? `${this.expr(e.elt, Prec.Lambda)}: ${this.expr(e.value!, Prec.Lambda)}` : this.expr(e.elt, Prec.Lambda)
        const [open, close] = e.type === 'list' ? ['[', ']'] : e.type === 'gen' ? ['(', ')'] : ['{', '}']
        return `${open}${elt} ${gens}${close}`
      }
    }
  }

  /**
   * An f-string: literal parts quoted like the str repr (all with the same quote character, the
   * f-string's own), expressions in braces, parenthesized when they hold `:`, `!` or `=`.
   */
  private fstring(parts: readonly Expr[]): string {
    const quote = this.fstringQuote(parts)
    return `f${quote}${this.fstringBody(parts, quote)}${quote}`
  }

  /** The quote character an f-string can use: one its literal parts allow and its expressions do not contain. */
  private fstringQuote(parts: readonly Expr[]): string {
    const allowed = new Set(["'", '"'])
    const visit = (ps: readonly Expr[]) => {
      for (const p of ps) {
        if (p.kind === 'const' && p.value.type === 'str') {
          const r = reprStr(p.value.value, this.minor)
          if (r.slice(1, -1).includes("'") || r.slice(1, -1).includes('"') || r[0] === '"') allowed.delete(r[0] === "'" ? '"' : "'")
        } else if (p.kind === 'formatted') {
          const inner = this.expr(p.value, Prec.Lambda)
          for (const q of ["'", '"']) if (inner.includes(q)) allowed.delete(q)
          if (p.spec?.kind === 'fstring') visit(p.spec.parts)
          else if (p.spec !== undefined) visit([p.spec])
        }
      }
    }
    visit(parts)
    if (allowed.size === 0) throw new UnprintableError('an f-string that needs both quote characters')
    return allowed.has("'") ? "'" : '"'
  }

  private fstringBody(parts: readonly Expr[], quote: string): string {
    let s = ''
    for (const p of parts) {
      if (p.kind === 'const' && p.value.type === 'str') {
        const r = reprStr(p.value.value, this.minor)
        if (r[0] !== quote && (r.slice(1, -1).includes("'") || r.slice(1, -1).includes('"'))) throw new UnprintableError('an f-string part with the other quote character')
        s += r.slice(1, -1).replace(/\{/g, '{{').replace(/\}/g, '}}')
      } else if (p.kind === 'formatted') {
        let inner = this.expr(p.value, Prec.Lambda)
        if (inner.includes(quote) || /[\\\n#]/.test(inner)) throw new UnprintableError('an f-string expression that needs quoting')
        if (/[:!=]/.test(inner)) inner = `(${inner})`
        let spec = ''
        if (p.spec !== undefined) spec = ':' + (p.spec.kind === 'fstring' ? this.fstringBody(p.spec.parts, quote) : p.spec.kind === 'const' && p.spec.value.type === 'str' ? this.fstringBody([p.spec], quote) : this.fstringBody([{ kind: 'formatted', value: p.spec, conversion: '', spec: undefined }], quote))
        s += `{${inner.startsWith('{') ? ' ' : ''}${inner}${p.conversion === '' ? '' : '!' + p.conversion}${spec}}`
      } else throw new UnprintableError('an f-string part that is not a literal or a formatted value')
    }
    return s
  }

  /** An element of a call, list, tuple or set. */
  arg(e: Expr): string {
    return this.expr(e, e.kind === 'starred' ? Prec.Tuple : Prec.Lambda)
  }

  private index(e: Expr): string {
    // 3.14 folds constant slices: `a[1:2]` loads a slice constant.
    if (e.kind === 'const' && e.value.type === 'slice') {
      const part = (v: PyObject): Expr | undefined => (v.type === 'none' ? undefined : { kind: 'const', value: v })
      return this.sliceText({ kind: 'slice', lo: part(e.value.start), hi: part(e.value.stop), step: part(e.value.step) })
    }
    if (e.kind === 'const' && e.value.type === 'tuple' && e.value.items.some((x) => x.type === 'slice')) {
      return e.value.items.map((x) => this.index({ kind: 'const', value: x })).join(', ')
    }
    if (e.kind === 'tuple' && e.items.length > 0 && e.items.some((x) => x.kind === 'slice')) return e.items.map((x) => (x.kind === 'slice' ? this.sliceText(x) : this.arg(x))).join(', ')
    return e.kind === 'slice' ? this.sliceText(e) : this.expr(e, Prec.Tuple)
  }

  private sliceText(e: Extract<Expr, { kind: 'slice' }>): string {
    const part = (x: Expr | undefined) => (x === undefined ? '' : this.expr(x, Prec.Lambda))
    return `${part(e.lo)}:${part(e.hi)}${e.step === undefined ? '' : ':' + part(e.step)}`
  }
}

/** Shorthands. */
export const name = (id: string): Expr => ({ kind: 'name', id })
export const constant = (value: PyObject): Expr => ({ kind: 'const', value })
export const isNoneConst = (e: Expr): boolean => e.kind === 'const' && e.value.type === 'none'
