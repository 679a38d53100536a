/**
 * `pyxray stack`: per code object, every instruction with the value stack after it (top on the
 * right) and the depth, then `max depth N (co_stacksize N)`.
 *
 * The text view shows only the top of each stack that fits its column, so it costs the width per
 * instruction whatever the depth; the JSON document lists every slot of every stack, which is the
 * sum of the depths: that sum is checked against the budget before a slot is written. A code
 * object deeper than MAX_SYMBOLIC_DEPTH has its depths without slots, and a notice.
 */
import { DEFAULT_MAX_OUTPUT_BYTES, LimitError, OUTPUT_BYTES_PER_SLOT } from '../../marshal/limits.js'
import type { CodeObject } from '../code.js'
import { escapeControls } from '../../text/escape.js'
import { OutputLines } from './output.js'
import { disassemble } from '../decode.js'
import { simulateStack, type SlotStack } from '../stack/symbolic.js'
import { codeTree } from '../select.js'
import { PLAIN, type TextStyle } from './text.js'

/** Options of {@link formatStack}. */
export interface StackFormatOptions {
  readonly style?: TextStyle
  /** Recurse into nested code objects (default true). */
  readonly recursive?: boolean
  /** Line width in columns (default 100): long instructions and stacks are cut to fit, keeping the top of the stack. */
  readonly width?: number
  /** A one-line explanation per opcode of a Python minor version, printed after the table (`--explain`). */
  readonly explain?: (minor: number, opname: string) => string | undefined
  /** The output budget in characters (see marshal/limits.ts). Default {@link DEFAULT_MAX_OUTPUT_BYTES}. */
  readonly maxOutputBytes?: number
}

/**
 * The JSON document of `pyxray stack --format json` for one code object tree. Every stack is
 * written out in full: the sum of the depths of all code objects is at most
 * maxOutputBytes / {@link OUTPUT_BYTES_PER_SLOT} slots, else a LimitError (LIMIT_STACK) before any
 * slot is written. `slotsOmitted`: the notice of a code object whose slots were not named (its
 * `stackAfter` are null).
 */
export function stackToJson(root: CodeObject, recursive = true, maxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES): Record<string, unknown>[] {
  const entries = recursive ? codeTree(root) : codeTree(root).slice(0, 1)
  const maxSlots = maxOutputBytes / OUTPUT_BYTES_PER_SLOT
  let slots = 0
  return entries.map(({ code, qualname }) => {
    const d = disassemble(code, { positions: false })
    const sim = simulateStack(d)
    slots += sim.slots
    if (slots > maxSlots) {
      throw new LimitError(
        'LIMIT_STACK',
        slots * OUTPUT_BYTES_PER_SLOT,
        maxOutputBytes,
        `the value stacks of ${code.qualname} (${sim.slots} slots over ${d.instructions.length} instructions, max depth ${sim.depth.maxDepth}, co_stacksize ${code.stacksize})`,
      )
    }
    return {
      qualname,
      firstlineno: code.firstlineno,
      stacksize: code.stacksize,
      maxDepth: sim.depth.maxDepth,
      slotsOmitted: sim.omitted ?? null,
      findings: sim.depth.findings,
      instructions: d.instructions.map((i, k) => ({
        offset: i.offset,
        opname: i.opname,
        arg: i.arg ?? null,
        argrepr: i.argrepr,
        line: i.line ?? null,
        depthBefore: sim.depth.before[k] ?? null,
        depthAfter: sim.depth.after[k] ?? null,
        stackAfter: sim.after[k]?.slots() ?? null,
      })),
    }
  })
}

/**
 * A stack as the table shows it, top on the right, cut on the left to `width` columns. Only the
 * top `width` slots are read: each takes at least one column with its separator, so more never
 * shows.
 */
function stackText(stack: SlotStack | undefined, width: number, omitted: boolean): string {
  if (omitted) return ''
  if (stack === undefined) return '(unreachable)'
  if (stack.length === 0) return '·'
  const text = escapeControls(stack.top(Math.max(1, width)).map((s) => s.expr).join(' │ '))
  const cut = text.length > width || stack.length > width
  return cut ? `…${text.slice(text.length - width + 1)}` : text
}

/** The stack table of a code object tree. */
export function formatStack(root: CodeObject, options: StackFormatOptions = {}): string {
  const s = options.style ?? PLAIN
  const budget = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES
  const out = new OutputLines(budget, 'the stack table')
  const entries = options.recursive === false ? codeTree(root).slice(0, 1) : codeTree(root)
  const seen = new Set<string>()
  const minor = root.pythonVersion[1]
  for (const { code, qualname } of entries) {
    const d = disassemble(code, { positions: false })
    const sim = simulateStack(d)
    if (out.length) out.push('')
    out.push(s.header(escapeControls(qualname)) + s.dim(`  ${escapeControls(code.filename)}:${code.firstlineno}  Python 3.${code.pythonVersion[1]}`))
    const targets = new Set(d.instructions.map((i) => i.jumpTarget).filter((t): t is number => t !== undefined))
    for (const e of d.exceptionEntries) targets.add(e.target)
    const labelOf = new Map([...targets].sort((a, b) => a - b).map((off, n) => [off, `L${n + 1}`]))
    const rows = d.instructions.map((i, k) => {
      seen.add(i.opname)
      const label = labelOf.get(i.offset)
      return {
        where: `${label ? `${label}:` : ''}${i.offset}`,
        line: i.startsLine && i.line !== undefined ? String(i.line) : '',
        instr: `${i.opname}${i.arg !== undefined ? ` ${i.arg}` : ''}${i.argrepr ? ` (${escapeControls(i.argrepr)})` : ''}`,
        stack: sim.after[k],
        depth: sim.depth.after[k] === undefined ? '' : String(sim.depth.after[k]),
      }
    })
    const width = Math.max(60, options.width ?? 100)
    const w = {
      where: Math.max(6, ...rows.map((r) => r.where.length)),
      line: Math.max(4, ...rows.map((r) => r.line.length)),
      instr: Math.min(Math.floor(width * 0.34), Math.max(11, ...rows.map((r) => r.instr.length))),
    }
    // What is left for the stack after the fixed columns and their separators.
    const stackWidth = width - (w.where + 2 + w.line + 2 + w.instr + 2 + 5 + 2)
    out.push(s.dim(`${'offset'.padStart(w.where)}  ${'line'.padStart(w.line)}  ${'instruction'.padEnd(w.instr)}  depth  stack after (top on the right)`.slice(0, width)))
    for (const r of rows) {
      const instr = r.instr.length > w.instr ? `${r.instr.slice(0, w.instr - 1)}…` : r.instr.padEnd(w.instr)
      const stack = stackText(r.stack, stackWidth, sim.omitted !== undefined)
      out.push(`${s.label(r.where.padStart(w.where))}  ${s.lineNo(r.line.padStart(w.line))}  ${s.opname(instr)}  ${r.depth.padStart(5)}  ${stack}`.trimEnd())
    }
    const ok = sim.depth.maxDepth === code.stacksize
    out.push(`max depth ${sim.depth.maxDepth} (co_stacksize ${code.stacksize})${ok ? '' : '  ← differs'}`)
    if (sim.omitted !== undefined) out.push(s.dim(`  ${sim.omitted}`))
    for (const f of sim.depth.findings) if (f.kind !== 'unreachable') out.push(s.dim(`  finding at ${f.offset}: ${f.kind}: ${escapeControls(f.message)}`))
  }
  if (options.explain) {
    out.push('', 'opcodes:')
    for (const name of [...seen].sort()) out.push(`  ${name.padEnd(28)} ${options.explain(minor, name) ?? '(no explanation)'}`)
  }
  return out.text()
}
