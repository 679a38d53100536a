/**
 * The compare document (`pyxray compare --format json`, schema/compare.schema.json): each side's
 * instructions with executed counts and specializations, its static summary, executed totals and
 * timing statistics; the aligned rows; and how each side compares with the first.
 */
import type { CodeObject } from '../code.js'
import { disassemble } from '../decode.js'
import { codeTree } from '../select.js'
import { type AlignedRow, type AlignInstruction, alignByLine, alignByText } from './align.js'
import { describeRatio, type TimingRatio, type TimingStats, timingRatio, timingStats } from './stats.js'
import { type StaticSummary, staticSummary, sumSummaries } from './summary.js'

/** Version of the compare document format. */
export const COMPARE_JSON_VERSION = 1

/** What the agent's `measure` method answers for one subject (python/pyxray/_measure.py). */
export interface MeasureResult {
  readonly timing: { readonly loops: number; readonly secondsPerLoop: readonly number[] } | null
  readonly counts: {
    readonly mechanism: string
    readonly codes: readonly { readonly index: number; readonly offsets: readonly (readonly [number, number])[] }[]
  } | null
  /** Live adaptive bytecode per code-tree index, already decoded from base64. */
  readonly adaptive?: readonly { readonly index: number; readonly code: Uint8Array }[] | null
}

/** The runtime a side ran in. */
export interface SideRuntime {
  readonly kind: string
  /** Full version, "3.12.1". */
  readonly version: string
  readonly executable: string
}

/** Everything known about one side before the document is built. */
export interface SideInput {
  /** "A", "B", or the Python version ("3.12"). */
  readonly label: string
  /** The target as given: "file.py:f", "-c #1". */
  readonly target: string
  readonly runtime: SideRuntime | null
  /** The whole compiled module (the agent numbers code objects by a walk of its tree). */
  readonly module: CodeObject
  /** The code object the target selects (the module for -c). */
  readonly selected: CodeObject
  readonly sourceLines?: readonly string[]
  readonly setup: string | null
  readonly call: string | null
  readonly measured?: MeasureResult
}

/** One instruction of a side. */
export interface CompareInstruction extends AlignInstruction {
  /** Index of its code object in the module's code tree (depth first, module = 0). */
  readonly code: number
  /** Byte offset in co_code. */
  readonly offset: number
  /** Times it ran in the counting run; undefined when nothing was run. */
  readonly count?: number
  /** The specialized instruction CPython put here after warm-up (3.11+), when it differs. */
  readonly specialized?: string
}

/** One code object shown for a side. */
export interface CompareCode {
  readonly index: number
  readonly qualname: string
  readonly firstlineno: number
  readonly static: StaticSummary
  /** Instructions executed in the counting run; undefined when nothing was run. */
  readonly executed?: number
}

/** A specialization seen after warm-up. */
export interface Specialization {
  readonly code: number
  readonly offset: number
  readonly line: number | null
  readonly opname: string
  readonly specialized: string
}

/** One side of the document. */
export interface CompareSide {
  readonly label: string
  readonly target: string
  readonly runtime: SideRuntime | null
  readonly pythonVersion: string
  readonly qualname: string
  readonly filename: string
  readonly setup: string | null
  readonly call: string | null
  readonly static: { readonly target: StaticSummary; readonly total: StaticSummary }
  readonly codes: readonly CompareCode[]
  readonly instructions: readonly CompareInstruction[]
  readonly executed: { readonly mechanism: string; readonly total: number; readonly byOpcode: Readonly<Record<string, number>> } | null
  readonly timing: TimingStats | null
  /** null when not measured (nothing run, or before 3.11). */
  readonly specializations: readonly Specialization[] | null
  readonly sourceLines: readonly string[] | null
}

/** A row of the aligned view, by instruction indexes of each side. */
export interface CompareRow {
  /** Per side, the source line of its block (null: the side has no code for it, or no line). */
  readonly lines: readonly (number | null)[]
  /** Per side, the instruction indexes of its block. */
  readonly instructions: readonly (readonly number[])[]
  readonly pairs?: readonly { readonly kind: 'same' | 'changed' | 'a' | 'b'; readonly a?: number; readonly b?: number }[]
}

/** How a side compares with the first one. */
export interface Comparison {
  /** Index of the side compared with side 0. */
  readonly side: number
  readonly timing: (TimingRatio & { readonly text: string }) | null
  /** Executed instructions of side 0 divided by this side's. */
  readonly executedRatio: number | null
}

/** The whole compare document. */
export interface CompareDocument {
  readonly pyxray: 'compare'
  readonly version: typeof COMPARE_JSON_VERSION
  /** `pair`: two implementations; `versions`: one target across Python versions. */
  readonly mode: 'pair' | 'versions'
  readonly sides: readonly CompareSide[]
  readonly rows: readonly CompareRow[]
  readonly comparisons: readonly Comparison[]
}

/** Replaces a code object's bytecode (and its children's, by tree index) with live adaptive bytes. */
export function withAdaptiveCode(code: CodeObject, byIndex: ReadonlyMap<number, Uint8Array>, start = 0): CodeObject {
  let index = start
  const walk = (c: CodeObject): CodeObject => {
    const bytes = byIndex.get(index++)
    const children = c.children.map(walk)
    return withCode(c, bytes && bytes.length === c.code.length ? bytes : c.code, children)
  }
  return walk(code)
}

/**
 * A view of `code` with other bytecode (and children): every other field, the lazily derived
 * ones included, is read from `code` through the prototype chain.
 */
function withCode(code: CodeObject, bytes: Uint8Array, children: readonly CodeObject[]): CodeObject {
  return Object.create(code, { code: { value: bytes, enumerable: true }, children: { value: children, enumerable: true } }) as CodeObject
}

function buildSide(input: SideInput): CompareSide {
  const tree = codeTree(input.module)
  const selectedIndex = tree.findIndex((e) => e.code === input.selected)
  const subtree = new Set<number>()
  if (selectedIndex >= 0) {
    const depth = tree[selectedIndex]!.depth
    subtree.add(selectedIndex)
    for (let k = selectedIndex + 1; k < tree.length && tree[k]!.depth > depth; k++) subtree.add(k)
  }
  const m = input.measured
  const counts = new Map<number, Map<number, number>>()
  for (const c of m?.counts?.codes ?? []) counts.set(c.index, new Map(c.offsets.map(([o, n]) => [o, n])))
  // Shown: the target's code objects, and any other code of the same module that ran (the
  // functions the target called).
  const shown = tree.map((_, k) => k).filter((k) => subtree.has(k) || ((counts.get(k)?.size ?? 0) > 0 && k !== 0))
  const adaptive = new Map((m?.adaptive ?? []).map((x) => [x.index, x.code]))
  const instructions: CompareInstruction[] = []
  const codes: CompareCode[] = []
  const specializations: Specialization[] = []
  const byOpcode: Record<string, number> = {}
  let total = 0
  for (const k of shown) {
    const entry = tree[k]!
    const d = disassemble(entry.code, { positions: false })
    const live = adaptive.get(k)
    const liveByOffset = new Map<number, string>()
    if (live && live.length === entry.code.code.length) {
      for (const i of disassemble(withCode(entry.code, live, []), { positions: false }).instructions) liveByOffset.set(i.offset, i.opname)
    }
    const perOffset = counts.get(k)
    let executed = 0
    for (const ins of d.instructions) {
      // sys.settrace reports an EXTENDED_ARG's offset for the instruction it prefixes.
      const count = m?.counts ? (perOffset?.get(ins.offset) ?? 0) + (ins.startOffset < ins.offset ? (perOffset?.get(ins.startOffset) ?? 0) : 0) : undefined
      const liveName = liveByOffset.get(ins.offset)
      const specialized = liveName !== undefined && liveName !== ins.opname && !liveName.endsWith('_ADAPTIVE') ? liveName : undefined
      if (count !== undefined) {
        executed += count
        byOpcode[ins.opname] = (byOpcode[ins.opname] ?? 0) + count
      }
      if (specialized) specializations.push({ code: k, offset: ins.offset, line: ins.line ?? null, opname: ins.opname, specialized })
      instructions.push({
        code: k,
        offset: ins.offset,
        opname: ins.opname,
        argrepr: ins.argrepr,
        line: ins.line,
        isJump: ins.jumpTarget !== undefined,
        ...(count !== undefined ? { count } : {}),
        ...(specialized ? { specialized } : {}),
      })
    }
    total += executed
    codes.push({ index: k, qualname: entry.qualname, firstlineno: entry.code.firstlineno, static: staticSummary(d), ...(m?.counts ? { executed } : {}) })
  }
  const targetCodes = codes.filter((c) => subtree.has(c.index))
  const minor = input.module.pythonVersion[1]
  return {
    label: input.label,
    target: input.target,
    runtime: input.runtime,
    pythonVersion: input.runtime?.version ?? `3.${minor}`,
    qualname: input.selected.qualname,
    filename: input.selected.filename,
    setup: input.setup,
    call: input.call,
    static: {
      target: targetCodes.find((c) => c.index === selectedIndex)?.static ?? sumSummaries([]),
      total: sumSummaries(targetCodes.map((c) => c.static)),
    },
    codes,
    instructions,
    executed: m?.counts ? { mechanism: m.counts.mechanism, total, byOpcode } : null,
    timing: m?.timing ? timingStats(m.timing.loops, m.timing.secondsPerLoop) : null,
    specializations: m?.adaptive ? specializations : null,
    sourceLines: input.sourceLines ?? null,
  }
}

/** Builds the document: sides, aligned rows (by line for `versions`, by line text for `pair`), comparisons with side 0. */
export function buildCompare(mode: 'pair' | 'versions', inputs: readonly SideInput[]): CompareDocument {
  const sides = inputs.map(buildSide)
  let rows: AlignedRow[]
  if (mode === 'pair' && sides.length === 2) {
    rows = alignByText(sides[0]!.instructions, sides[1]!.instructions, (side, line) => sides[side]!.sourceLines?.[line - 1])
  } else {
    rows = alignByLine(sides.map((s) => s.instructions))
  }
  const comparisons: Comparison[] = sides.slice(1).map((s, k) => {
    const first = sides[0]!
    const timing = first.timing && s.timing ? timingRatio(first.timing.secondsPerLoop, s.timing.secondsPerLoop) : null
    return {
      side: k + 1,
      timing: timing ? { ...timing, text: describeRatio(timing, first.label, s.label) } : null,
      executedRatio: first.executed && s.executed && s.executed.total > 0 ? first.executed.total / s.executed.total : null,
    }
  })
  return {
    pyxray: 'compare',
    version: COMPARE_JSON_VERSION,
    mode,
    sides,
    rows: rows.map((r) => ({
      lines: r.blocks.map((b) => b?.line ?? null),
      instructions: r.blocks.map((b) => b?.instructions ?? []),
      ...(r.pairs ? { pairs: r.pairs } : {}),
    })),
    comparisons,
  }
}
