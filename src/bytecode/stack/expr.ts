/**
 * Formulas of the oparg: how the stack-effect tables write a count that depends on an
 * instruction's argument, e.g. `'1 - oparg'`, `'(oparg & 0xff) + (oparg >> 8) + 1'`,
 * `'2 + (oparg == 3)'`.
 *
 * The syntax is the subset C, Python and this module read alike, so a formula can be pasted into
 * either language and means the same there:
 *
 *   formula := sum [ ('&' | '>>' | '==') sum ]      one bitwise/compare operator, no chains
 *   sum     := product { ('+' | '-') product }
 *   product := unary { '*' unary }
 *   unary   := '-' unary | atom
 *   atom    := integer (decimal or 0x hex) | 'oparg' | '(' formula ')'
 *
 * `&`, `>>` and `==` have different precedences in C and Python, so they may only appear alone
 * at the top of a formula or of a parenthesized group: `(oparg >> 1) & 1`, never `oparg >> 1 & 1`.
 * `a == b` is 1 when equal, else 0 (as C, and as Python's `True`/`False` in arithmetic).
 *
 * No Node or DOM API is used: this module runs in browsers too.
 */
import type { Formula } from './types.js'

/** A compiled formula: the count for a given oparg (a non-negative integer below 2**32). */
export type OpargFunction = (oparg: number) => number

/** A formula that does not parse. */
export class FormulaError extends Error {
  override readonly name = 'FormulaError'
  constructor(
    message: string,
    /** The formula text. */
    readonly formula: string,
    /** 0-based character index of the problem in the formula. */
    readonly column: number,
  ) {
    super(`${message} at column ${column} of formula '${formula}'`)
  }
}

const TOKEN = /0x[0-9a-fA-F]+|\d+|oparg|>>|==|[-+*&()]/y

/** Splits a formula into tokens with their columns. */
function tokenize(text: string): { token: string; column: number }[] {
  const out: { token: string; column: number }[] = []
  let at = 0
  for (;;) {
    while (at < text.length && /\s/.test(text[at]!)) at++
    if (at === text.length) return out
    TOKEN.lastIndex = at
    const m = TOKEN.exec(text)
    if (!m) throw new FormulaError('unexpected character', text, at)
    out.push({ token: m[0], column: at })
    at = TOKEN.lastIndex
  }
}

/** Parses `text` into a function of the oparg; throws {@link FormulaError} when malformed. */
export function parseFormula(text: string): OpargFunction {
  const tokens = tokenize(text)
  let i = 0
  const peek = () => tokens[i]?.token
  const column = () => tokens[i]?.column ?? text.length
  const fail = (message: string): never => {
    throw new FormulaError(message, text, column())
  }

  const atom = (): OpargFunction => {
    const t = peek()
    if (t === undefined) return fail('formula ends early')
    i++
    if (t === 'oparg') return (oparg) => oparg
    if (t === '(') {
      const inner = formula()
      if (peek() !== ')') fail("expected ')'")
      i++
      return inner
    }
    if (/^(0x[0-9a-fA-F]+|\d+)$/.test(t)) {
      const value = Number(t)
      return () => value
    }
    i--
    return fail(`unexpected '${t}'`)
  }
  const unary = (): OpargFunction => {
    if (peek() === '-') {
      i++
      const f = unary()
      return (oparg) => -f(oparg)
    }
    return atom()
  }
  const product = (): OpargFunction => {
    let f = unary()
    while (peek() === '*') {
      i++
      const a = f
      const b = unary()
      f = (oparg) => a(oparg) * b(oparg)
    }
    return f
  }
  const sum = (): OpargFunction => {
    let f = product()
    for (let t = peek(); t === '+' || t === '-'; t = peek()) {
      i++
      const a = f
      const b = product()
      f = t === '+' ? (oparg) => a(oparg) + b(oparg) : (oparg) => a(oparg) - b(oparg)
    }
    return f
  }
  const formula = (): OpargFunction => {
    const a = sum()
    const t = peek()
    if (t !== '&' && t !== '>>' && t !== '==') return a
    i++
    const b = sum()
    if (peek() === '&' || peek() === '>>' || peek() === '==') fail('parenthesize each &, >> or ==')
    // Unsigned 32-bit & and a division for >>: opargs go up to 2**32 - 1, past JS's int32.
    if (t === '&') return (oparg) => and32(a(oparg), b(oparg))
    if (t === '>>') return (oparg) => Math.floor(a(oparg) / 2 ** b(oparg))
    return (oparg) => (a(oparg) === b(oparg) ? 1 : 0)
  }

  const f = formula()
  if (i < tokens.length) fail(`unexpected '${peek()}'`)
  return f
}

/** C's `&` on values that fit 32 bits, unsigned when both are non-negative. */
function and32(a: number, b: number): number {
  return a >= 0 && b >= 0 ? (a & b) >>> 0 : a & b
}

const compiled = new Map<string, OpargFunction>()

/** A {@link Formula} as a function of the oparg (compiled once per distinct text). */
export function formulaFunction(f: Formula): OpargFunction {
  if (typeof f === 'number') return () => f
  let fn = compiled.get(f)
  if (fn === undefined) {
    fn = parseFormula(f)
    compiled.set(f, fn)
  }
  return fn
}
