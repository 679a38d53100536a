/**
 * Choosing a code object inside a module: by qualified name (`User.save`, `outer.<locals>.inner`)
 * or by source line (the innermost code object covering it).
 */
import type { CodeObject } from './code.js'
import { BytecodeError } from './errors.js'
import { lineRanges } from './lines.js'
import { has } from '../versions/index.js'

/** co_flags bit set on function code (not on module or class bodies). */
const CO_OPTIMIZED = 0x1

/** A code object with its qualified name and depth in the module's tree. */
export interface CodeEntry {
  readonly code: CodeObject
  /** co_qualname on 3.11+; computed the same way for older versions (which lack it). */
  readonly qualname: string
  /** 0 for the module. */
  readonly depth: number
}

/** Every code object of a module, depth first, with qualified names. */
export function codeTree(module: CodeObject): CodeEntry[] {
  const out: CodeEntry[] = []
  const walk = (code: CodeObject, qualname: string, depth: number) => {
    out.push({ code, qualname, depth })
    for (const child of code.children) {
      let q: string
      if (has(child.pythonVersion[1], 'localsPlus')) q = child.qualname
      else if (depth === 0) q = child.name
      else q = code.flags & CO_OPTIMIZED ? `${qualname}.<locals>.${child.name}` : `${qualname}.${child.name}`
      walk(child, q, depth + 1)
    }
  }
  walk(module, module.qualname, 0)
  return out
}

/** The first and last source line a code object's instructions map to (undefined if none). */
export function lineSpan(code: CodeObject): [number, number] | undefined {
  let lo = Number.POSITIVE_INFINITY
  let hi = Number.NEGATIVE_INFINITY
  for (const r of lineRanges(code.pythonVersion[1], code.linetable, code.firstlineno, code.code.length)) {
    if (r.line === undefined || r.line <= 0) continue
    lo = Math.min(lo, r.line)
    hi = Math.max(hi, r.line)
  }
  if (lo === Number.POSITIVE_INFINITY) return undefined
  return [Math.min(lo, code.firstlineno || lo), hi]
}

/** The code object named `qualname`; throws BytecodeError listing the names that exist. */
export function selectByQualname(module: CodeObject, qualname: string): CodeObject {
  const tree = codeTree(module)
  const hit = tree.find((e) => e.qualname === qualname)
  if (hit) return hit.code
  // Shorthand: "outer.inner" for "outer.<locals>.inner", when it names exactly one code object.
  const loose = tree.filter((e) => e.qualname.replace(/\.<locals>/g, '') === qualname)
  if (loose.length === 1) return loose[0]!.code
  const names = tree.slice(1).map((e) => e.qualname)
  const near = names.filter((n) => n.endsWith(`.${qualname}`) || n.split('.').pop() === qualname)
  throw new BytecodeError(
    'NO_SUCH_CODE',
    `no code object named ${qualname}${near.length ? `; did you mean ${near.slice(0, 5).join(', ')}?` : names.length ? `; the module has ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', …' : ''}` : ''}`,
  )
}

/** The innermost code object whose lines cover `line`; throws BytecodeError when none does. */
export function selectByLine(module: CodeObject, line: number): CodeObject {
  let best: CodeEntry | undefined
  for (const e of codeTree(module)) {
    if (e.depth === 0) continue
    const span = lineSpan(e.code)
    if (span && span[0] <= line && line <= span[1] && (!best || e.depth >= best.depth)) best = e
  }
  if (best) return best.code
  const span = lineSpan(module)
  if (span && span[0] <= line && line <= span[1]) return module
  throw new BytecodeError('NO_SUCH_CODE', `no code covers line ${line}`)
}
