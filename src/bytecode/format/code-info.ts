/**
 * The code-object inspector (`pyxray code`): every co_* attribute with a one-line explanation, the
 * locals and their kinds, the closure map, constants, line table, positions and exception table.
 */
import type { CodeObject } from '../code.js'
import { escapeControls } from '../../text/escape.js'
import { OutputLines } from './output.js'
import { CODE_FLAG_NAMES, LocalKind } from '../code.js'
import { disassemble } from '../decode.js'
import { lineRanges } from '../lines.js'
import { pyRepr } from '../pyrepr.js'
import { codeAddress } from '../address.js'
import { codeTree } from '../select.js'
import { has } from '../../versions/index.js'

/** One link of a closure: a free variable of `inner` and where its cell comes from. */
export interface ClosureLink {
  readonly variable: string
  /** Qualified name of the code object that uses the variable as a free variable. */
  readonly inner: string
  /** Qualified name of the code object whose cell it is (the defining scope). */
  readonly owner: string | undefined
  /** Code objects in between that pass the cell through as a free variable of their own. */
  readonly through: readonly string[]
}

/** Which cell of which outer function feeds which free variable of which inner one. */
export function closureMap(module: CodeObject): ClosureLink[] {
  const tree = codeTree(module)
  const parent = new Map<CodeObject, CodeObject>()
  for (const e of tree) for (const c of e.code.children) parent.set(c, e.code)
  const qual = new Map(tree.map((e) => [e.code, e.qualname]))
  const links: ClosureLink[] = []
  for (const e of tree) {
    for (const v of e.code.freevars) {
      const through: string[] = []
      let p = parent.get(e.code)
      while (p && !p.cellvars.includes(v)) {
        if (p.freevars.includes(v)) through.push(qual.get(p) ?? p.qualname)
        p = parent.get(p)
      }
      links.push({ variable: v, inner: e.qualname, owner: p ? (qual.get(p) ?? p.qualname) : undefined, through })
    }
  }
  return links
}

/** Names of the set bits of co_flags, e.g. "OPTIMIZED | NEWLOCALS | 0x1000000". */
export function flagNames(flags: number): string {
  const names: string[] = []
  let rest = flags
  for (const [bit, name] of CODE_FLAG_NAMES) {
    if (flags & bit) {
      names.push(name)
      rest &= ~bit
    }
  }
  if (rest) names.push(`0x${rest.toString(16)}`)
  return names.join(' | ') || '(none)'
}

function kindNames(k: number): string {
  const out: string[] = []
  if (k & LocalKind.Arg) out.push('arg')
  if (k & LocalKind.Local) out.push('local')
  if (k & LocalKind.Cell) out.push('cell')
  if (k & LocalKind.Free) out.push('free')
  if (k & LocalKind.Hidden) out.push('hidden')
  return out.join('+') || `0x${k.toString(16)}`
}

const EXPLAIN: Record<string, string> = {
  co_name: 'name of the function, class body or module',
  co_qualname: 'dotted path from the module (3.11+; computed for older versions)',
  co_filename: 'file name given to the compiler',
  co_firstlineno: 'first source line (1-based)',
  co_argcount: 'positional parameters, positional-only included',
  co_posonlyargcount: 'positional-only parameters (before /)',
  co_kwonlyargcount: 'keyword-only parameters (after * or *args)',
  co_nlocals: 'local variables, parameters included',
  co_stacksize: 'deepest the value stack gets while this code runs',
  co_flags: 'compiler flags',
  co_code: 'the bytecode: 2-byte code units',
}

/** Options of {@link formatCodeInfo}. */
export interface CodeInfoOptions {
  /** Recurse into nested code objects (default true). */
  readonly recursive?: boolean
  /** The output budget in characters (see marshal/limits.ts); default {@link DEFAULT_MAX_OUTPUT_BYTES}. */
  readonly maxOutputBytes?: number
}

/** The inspector text for a code object (and, by default, the code objects nested in it). */
export function formatCodeInfo(module: CodeObject, options: CodeInfoOptions = {}): string {
  // Names, file names and reprs come from the file: every line has its controls escaped.
  const out = new OutputLines(options.maxOutputBytes, 'the code-object text', escapeControls)
  const tree = codeTree(module)
  const entries = options.recursive === false ? tree.slice(0, 1) : tree
  for (const { code, qualname, depth } of entries) {
    if (out.length) out.push('')
    out.push(`${'#'.repeat(Math.min(depth + 1, 6))} ${qualname}  (${code.filename}:${code.firstlineno}, CPython 3.${code.pythonVersion[1]})`)
    one(code, qualname, out, options.maxOutputBytes)
  }
  const links = closureMap(module)
  if (links.length) {
    out.push('', 'closure map (cell → free variable):')
    for (const l of links) {
      const via = l.through.length ? ` via ${l.through.join(' → ')}` : ''
      out.push(`  ${l.variable}: cell of ${l.owner ?? '(not found: the outer scope is not in this module)'} → free in ${l.inner}${via}`)
    }
  }
  return out.text()
}

function one(code: CodeObject, qualname: string, out: OutputLines, maxLength: number | undefined): void {
  const minor = code.pythonVersion[1]
  const d = disassemble(code)
  const caches = d.instructions.reduce((n, i) => n + i.cacheCount, 0)
  const row = (name: string, value: string, why = EXPLAIN[name] ?? '') => out.push(`  ${name.padEnd(20)}${value.padEnd(28)}${why ? `  ${why}` : ''}`.trimEnd())
  row('co_name', code.name)
  row('co_qualname', qualname)
  row('co_filename', code.filename)
  row('co_firstlineno', String(code.firstlineno))
  row('co_argcount', String(code.argcount))
  row('co_posonlyargcount', String(code.posonlyargcount))
  row('co_kwonlyargcount', String(code.kwonlyargcount))
  row('co_nlocals', String(code.nlocals))
  row('co_stacksize', String(code.stacksize))
  row('co_flags', `0x${code.flags.toString(16)}`, flagNames(code.flags))
  row('co_code', `${code.code.length} bytes`, `${d.instructions.length} instructions${caches ? ` + ${caches} inline cache units` : ''}`)
  const list = (name: string, items: readonly string[], why: string) => {
    out.push(`  ${name} (${items.length})  ${why}`)
    for (const [i, x] of items.entries()) out.push(`    ${String(i).padStart(3)}  ${x}`)
  }
  list('co_consts', code.consts.map((c) => pyRepr(c, { minor, codeAddress, ...(maxLength !== undefined ? { maxLength } : {}) })), 'constants, indexed by LOAD_CONST and friends')
  list('co_names', code.names, 'global, attribute and imported names')
  list('co_varnames', code.varnames, 'parameters first, then locals')
  list('co_cellvars', code.cellvars, 'locals captured by inner functions (cells)')
  list('co_freevars', code.freevars, 'variables captured from enclosing functions')
  if (has(minor, 'localsPlus')) {
    list(
      'localsplus',
      code.localsplusnames.map((n, i) => `${n.padEnd(20)} ${kindNames(code.localspluskinds[i] ?? 0)}`),
      'frame slots (co_localsplusnames with their kinds, 3.11+)',
    )
  }
  const ranges = lineRanges(minor, code.linetable, code.firstlineno, code.code.length)
  out.push(`  ${has(minor, 'coLines') ? 'co_lines()' : 'line starts (co_lnotab)'} (${ranges.length})  byte ranges → source line`)
  for (const r of ranges) out.push(`    ${`${r.start}–${r.end}`.padEnd(12)} ${r.line ?? 'None'}`)
  if (has(minor, 'locationTable')) {
    out.push(`  co_positions()  per instruction: line:col-endline:endcol (columns are 0-based UTF-8 bytes)`)
    for (const i of d.instructions) {
      const p = i.position
      const text = p.line === undefined ? 'None' : `${p.line}:${p.col ?? '?'}-${p.endLine ?? '?'}:${p.endCol ?? '?'}`
      out.push(`    ${String(i.offset).padStart(5)}  ${i.opname.padEnd(24)} ${text}`)
    }
    out.push(`  co_exceptiontable (${d.exceptionEntries.length})  protected ranges → handler`)
    for (const e of d.exceptionEntries) out.push(`    ${e.start}–${e.end - 2} → ${e.target}  depth ${e.depth}${e.lasti ? '  lasti' : ''}`)
  }
  if (code.children.length) out.push(`  nested code objects (${code.children.length}): ${code.children.map((c) => c.name).join(', ')}`)
}
