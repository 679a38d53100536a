/**
 * `pyxray diff --metric instructions`: two profiles recorded with `pyxray profile --count
 * instructions` compared by executed bytecode instructions, function by function.
 *
 * The counts are exact and, for pure-Python code, the same on every run of the same program with
 * the same inputs (no clock, no scheduler in them), so the comparison needs no repeats and no
 * statistics: a function is a regression when its own instructions (summed over its call paths
 * and threads) grew by more than the threshold and by at least `minInstructions`, and the total
 * is gated like a function. The floor is there for the little that does vary between runs: the
 * first `isinstance` against an ABC walks its registry, a set of weak references ordered by memory
 * address, and fills caches as it goes, so it runs a few dozen instructions more or fewer
 * depending on the layout of memory (seen: 117 or 128 instructions for a `Counter(list)` on 3.9,
 * one run in 16); Python code run by the garbage collector (finalizers, weakref callbacks) counts
 * wherever it happens to run. What
 * the counts do not see — time in C code (builtins, extension modules), I/O, waiting, the cost of
 * an instruction (a dict lookup that misses the cache costs more than one that hits) — is the time
 * gate's (`--metric self`).
 *
 * Functions are identified as in the time diff: file relative to the profile's cwd (library files
 * from their import root) and qualname, so moved lines and another checkout folder do not matter.
 */
import type { ProfileDocument, ProfileNode } from './document.js'
import { shortFile } from './model.js'
import { escapeControls, formatChange, mdCell, mdCode } from './units.js'

/** Options of the instruction diff. */
export interface InstructionDiffOptions {
  /** Relative growth that counts, as a fraction (0.01 = 1 %); growth must exceed it. */
  readonly threshold: number
  /** A change smaller than this many instructions is no regression or improvement (see the module comment). */
  readonly minInstructions: number
}

/** The defaults: 1 %, and at least 50 instructions (a 2 % change shows in any function of 2,500 or more). */
export const DEFAULT_INSTRUCTION_DIFF_OPTIONS: InstructionDiffOptions = { threshold: 0.01, minInstructions: 50 }

/** How a function compares. */
export type InstructionStatus = 'regression' | 'improvement' | 'unchanged' | 'new' | 'vanished'

/** One function of the instruction diff. */
export interface InstructionFunctionDiff {
  /** FILE:QUALNAME (file relative to the profile's cwd), or `(root)` for instructions run with no profiled frame on top. */
  readonly function: string
  readonly qualname: string
  readonly file: string
  /** Executed instructions in the function's own frames (self), summed over its call paths; null when absent. */
  readonly base: number | null
  readonly head: number | null
  /** head − base (absent sides count 0). */
  readonly delta: number
  /** delta / base; null when base is 0 or absent. */
  readonly change: number | null
  readonly status: InstructionStatus
}

/** The comparison. */
export interface InstructionDiff {
  readonly metric: 'instructions'
  readonly base: { readonly name: string; readonly total: number }
  readonly head: { readonly name: string; readonly total: number }
  readonly options: InstructionDiffOptions
  /** The total's verdict: a regression when it grew by more than the threshold. */
  readonly total: { readonly delta: number; readonly change: number | null; readonly status: InstructionStatus }
  /** Changed functions first (largest |delta| first), then the unchanged ones. */
  readonly functions: readonly InstructionFunctionDiff[]
  /** Regressions (functions, plus the total when it is one). */
  readonly regressions: number
  readonly improvements: number
  readonly warnings: readonly string[]
}

/** Why a document cannot be compared by instructions. */
export class InstructionDiffError extends Error {
  constructor(
    readonly code: 'DIFF_NO_INSTRUCTIONS',
    message: string,
  ) {
    super(message)
  }
}

interface Side {
  readonly total: number
  readonly byFunction: Map<string, { qualname: string; file: string; count: number }>
}

/** Instructions per function of one document (its own threads; processes and runs are not part). */
function countSide(doc: ProfileDocument, name: string): Side {
  if (doc.metadata.count !== 'instructions') {
    throw new InstructionDiffError(
      'DIFF_NO_INSTRUCTIONS',
      `${name} has no instruction counts (metadata.count is not "instructions"): record it with pyxray profile --count instructions -o FILE script.py`,
    )
  }
  const byFunction = new Map<string, { qualname: string; file: string; count: number }>()
  const cwd = doc.metadata.cwd
  let total = 0
  for (const thread of doc.threads) {
    const todo: ProfileNode[] = [thread.root]
    while (todo.length > 0) {
      const n = todo.pop()!
      for (const c of n.children) todo.push(c)
      const count = n.executedInstructions ?? 0
      total += count
      const frame = n.frame === null ? null : doc.frames[n.frame]
      if (frame !== undefined && frame !== null && frame.kind === 'builtin') continue // builtins run no bytecode
      const file = frame ? shortFile(frame.file, cwd) : ''
      const key = frame ? `${file}:${frame.qualname}` : '(root)'
      const entry = byFunction.get(key)
      if (entry) entry.count += count
      else byFunction.set(key, { qualname: frame ? frame.qualname : '(root)', file, count })
    }
  }
  return { total, byFunction }
}

function verdict(base: number | null, head: number | null, o: InstructionDiffOptions, baseTotal: number): InstructionStatus {
  const b = base ?? 0
  const h = head ?? 0
  if (Math.abs(h - b) < o.minInstructions) return 'unchanged'
  if (base === null) return h > o.threshold * baseTotal ? 'new' : 'unchanged'
  if (head === null) return 'vanished'
  if (h > b * (1 + o.threshold)) return 'regression'
  if (h < b * (1 - o.threshold)) return 'improvement'
  return 'unchanged'
}

/** Compares two documents recorded with `--count instructions` (see the module comment). */
export function diffInstructions(base: ProfileDocument, head: ProfileDocument, o: InstructionDiffOptions, names: { base: string; head: string } = { base: 'base', head: 'head' }): InstructionDiff {
  const b = countSide(base, names.base)
  const h = countSide(head, names.head)
  const warnings: string[] = []
  const bv = base.metadata.python.version.split('.').slice(0, 2).join('.')
  const hv = head.metadata.python.version.split('.').slice(0, 2).join('.')
  if (bv !== hv) warnings.push(`the profiles ran different Python versions (${bv} and ${hv}): their compilers emit different bytecode, so counts differ without a code change`)
  if (base.metadata.argv.join('\u0000') !== head.metadata.argv.join('\u0000')) warnings.push('the profiles ran different command lines (argv)')
  const functions: InstructionFunctionDiff[] = []
  for (const key of new Set([...b.byFunction.keys(), ...h.byFunction.keys()])) {
    const x = b.byFunction.get(key)
    const y = h.byFunction.get(key)
    const bc = x ? x.count : null
    const hc = y ? y.count : null
    const delta = (hc ?? 0) - (bc ?? 0)
    let status = verdict(bc, hc, o, b.total)
    // A new function that adds more than the threshold of the base total is a regression.
    if (status === 'new') status = 'regression'
    functions.push({ function: key, qualname: (x ?? y)!.qualname, file: (x ?? y)!.file, base: bc, head: hc, delta, change: bc ? delta / bc : null, status })
  }
  functions.sort((p, q) => Number(q.delta !== 0) - Number(p.delta !== 0) || Math.abs(q.delta) - Math.abs(p.delta) || (p.function < q.function ? -1 : p.function > q.function ? 1 : 0))
  const totalDelta = h.total - b.total
  const totalStatus = verdict(b.total, h.total, { ...o, minInstructions: 0 }, b.total)
  const regressions = functions.filter((f) => f.status === 'regression').length + (totalStatus === 'regression' ? 1 : 0)
  const improvements = functions.filter((f) => f.status === 'improvement').length + (totalStatus === 'improvement' ? 1 : 0)
  return {
    metric: 'instructions',
    base: { name: names.base, total: b.total },
    head: { name: names.head, total: h.total },
    options: o,
    total: { delta: totalDelta, change: b.total ? totalDelta / b.total : null, status: totalStatus },
    functions,
    regressions,
    improvements,
    warnings,
  }
}

/** 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}
const pct = (fraction: number) => `${+(fraction * 100).toFixed(3)}%`
const signed = (n: number) => (n > 0 ? `+${formatCount(n)}` : n < 0 ? `-${formatCount(-n)}` : '0')
const changeOf = (base: number | null, head: number | null) => formatChange(base ?? 0, head ?? 0)

/** One line per regression, for the gate's message: `name (file): 1,000 → 1,020 instructions (+2.0 %)`. */
export function instructionFindings(d: InstructionDiff): string[] {
  const out: string[] = []
  if (d.total.status === 'regression') out.push(`total: ${formatCount(d.base.total)} → ${formatCount(d.head.total)} instructions (${changeOf(d.base.total, d.head.total)})`)
  for (const f of d.functions) {
    if (f.status !== 'regression') continue
    out.push(`${escapeControls(f.qualname)}${f.file ? ` (${escapeControls(f.file)})` : ''}: ${formatCount(f.base ?? 0)} → ${formatCount(f.head ?? 0)} instructions (${changeOf(f.base, f.head)})`)
  }
  return out
}

/** The text report: totals, then the changed functions (at most `top`); names from the documents escaped. */
export function formatInstructionDiffText(d: InstructionDiff, top: number): string {
  const esc = escapeControls
  const lines: string[] = []
  lines.push(`executed bytecode instructions: ${esc(d.base.name)} → ${esc(d.head.name)} (exact counts; threshold ${pct(d.options.threshold)})`)
  for (const w of d.warnings) lines.push(`warning: ${esc(w)}`)
  lines.push(`total: ${formatCount(d.base.total)} → ${formatCount(d.head.total)} (${signed(d.total.delta)}, ${changeOf(d.base.total, d.head.total)}) ${d.total.status}`)
  const changed = d.functions.filter((f) => f.delta !== 0)
  lines.push(changed.length === 0 ? 'no function executed a different number of instructions' : `functions that changed (${changed.length}):`)
  for (const f of changed.slice(0, top)) {
    lines.push(`  ${f.status.padEnd(11)} ${esc(f.function)}  ${f.base === null ? '–' : formatCount(f.base)} → ${f.head === null ? '–' : formatCount(f.head)} (${signed(f.delta)}, ${changeOf(f.base, f.head)})`)
  }
  if (changed.length > top) lines.push(`  … ${changed.length - top} more (-n N shows more)`)
  lines.push(`verdict: ${d.regressions === 0 ? 'pass' : `${d.regressions} regression${d.regressions === 1 ? '' : 's'}`}`)
  return `${lines.join('\n')}\n`
}

/** The Markdown report (a table of the changed functions). */
export function formatInstructionDiffMarkdown(d: InstructionDiff, top: number): string {
  const code = (s: string) => mdCode(s, true)
  const cell = mdCell
  const out: string[] = []
  out.push(`### pyxray diff: executed instructions — ${d.regressions === 0 ? 'pass' : `${d.regressions} regression${d.regressions === 1 ? '' : 's'}`}`)
  out.push('')
  for (const w of d.warnings) out.push(`> warning: ${cell(w)}`, '')
  out.push(`Total: ${formatCount(d.base.total)} → ${formatCount(d.head.total)} (${signed(d.total.delta)}, ${changeOf(d.base.total, d.head.total)}); threshold ${pct(d.options.threshold)}, exact counts.`)
  const changed = d.functions.filter((f) => f.delta !== 0)
  if (changed.length > 0) {
    out.push('', '| | function | base | head | Δ | change |', '|---|---|---:|---:|---:|---:|')
    for (const f of changed.slice(0, top)) {
      const icon = f.status === 'regression' ? '🔴' : f.status === 'improvement' ? '🟢' : '⚪'
      out.push(`| ${icon} | ${code(f.function)} | ${f.base === null ? '–' : formatCount(f.base)} | ${f.head === null ? '–' : formatCount(f.head)} | ${signed(f.delta)} | ${changeOf(f.base, f.head)} |`)
    }
  }
  return `${out.join('\n')}\n`
}
