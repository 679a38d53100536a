/**
 * Aligning the bytecode of two or more sides for a side-by-side view: instructions are grouped
 * into one block per source line, blocks are aligned across sides (by line number when the sides
 * compile the same source, by the line's text when they are two implementations), and within a
 * row of two sides the instructions are aligned by a longest common subsequence over a normalized
 * (opname, argrepr) key, so that equal parts line up and differences stand out.
 */

/** What alignment needs of an instruction. */
export interface AlignInstruction {
  readonly opname: string
  readonly argrepr: string
  /** 1-based source line; undefined when the instruction has none. */
  readonly line: number | undefined
  /** Whether the instruction jumps (its argrepr names a target that differs between sides). */
  readonly isJump: boolean
}

/** The instructions of one source line on one side (indexes into the side's instruction list). */
export interface LineBlock {
  /** 1-based source line; undefined for instructions without a line (cleanup code, 3.12+). */
  readonly line: number | undefined
  /** Indexes of the instructions, in the side's order. */
  readonly instructions: readonly number[]
}

/** How two instructions in one aligned row relate. */
export type PairKind =
  /** Same normalized opname and argrepr. */
  | 'same'
  /** Both sides have an instruction here, and they differ. */
  | 'changed'
  /** Only the first side has one. */
  | 'a'
  /** Only the second side has one. */
  | 'b'

/** Two instructions facing each other (indexes into each side's list). */
export interface AlignedPair {
  readonly kind: PairKind
  readonly a?: number
  readonly b?: number
}

/** One row of the aligned view: one source line's block on each side (absent where a side has none). */
export interface AlignedRow {
  /** Per side, the block of this row, or undefined. */
  readonly blocks: readonly (LineBlock | undefined)[]
  /** Two sides only: the instructions of both blocks, paired. */
  readonly pairs?: readonly AlignedPair[]
}

/**
 * The key instructions are matched on: the base opname, and the argrepr with what always differs
 * between two compilations removed — jump targets (offsets and labels; the opname keeps the
 * direction), the NULL / self markers of LOAD_GLOBAL and LOAD_ATTR (before or after the name
 * depending on the version), and the address and file of code-object constants.
 */
export function alignKey(i: AlignInstruction): string {
  let arg = i.argrepr
  if (i.isJump || /^(to|from) L?\d+$/.test(arg)) arg = ''
  else {
    arg = arg
      .replace(/^NULL(\|self)? \+ /, '')
      .replace(/ \+ NULL(\|self)?$/, '')
      .replace(/^<code object (\S+) at 0x[0-9a-f]+, file .*>$/, '<code object $1>')
  }
  return `${i.opname}\u0000${arg}`
}

/**
 * The longest common subsequence of `a` and `b` under `equal`, as index pairs in increasing order
 * (dynamic programming, O(|a|·|b|) time and memory; callers keep the inputs to one code
 * object's lines or one line's instructions).
 */
export function lcs<T>(a: readonly T[], b: readonly T[], equal: (x: T, y: T) => boolean): [number, number][] {
  const n = a.length
  const m = b.length
  if ((n + 1) * (m + 1) > MAX_LCS_CELLS) return prefixSuffixMatches(a, b, equal)
  const width = m + 1
  const table = new Uint32Array((n + 1) * width)
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * width + j] = equal(a[i]!, b[j]!)
        ? table[(i + 1) * width + j + 1]! + 1
        : Math.max(table[(i + 1) * width + j]!, table[i * width + j + 1]!)
    }
  }
  const out: [number, number][] = []
  for (let i = 0, j = 0; i < n && j < m; ) {
    if (equal(a[i]!, b[j]!)) {
      out.push([i, j])
      i++
      j++
    } else if (table[(i + 1) * width + j]! >= table[i * width + j + 1]!) i++
    else j++
  }
  return out
}

/**
 * The LCS table's largest size (cells of 4 bytes). Real line blocks hold a few dozen
 * instructions; a hostile line table can put 100k on one line (a 40 GB table). Past this, equal
 * runs are matched at both ends only.
 */
const MAX_LCS_CELLS = 1 << 22

/** Matches of the common prefix and suffix of `a` and `b`: a linear stand-in for {@link lcs}. */
function prefixSuffixMatches<T>(a: readonly T[], b: readonly T[], equal: (x: T, y: T) => boolean): [number, number][] {
  let head = 0
  while (head < a.length && head < b.length && equal(a[head]!, b[head]!)) head++
  let tail = 0
  while (tail < a.length - head && tail < b.length - head && equal(a[a.length - 1 - tail]!, b[b.length - 1 - tail]!)) tail++
  const out: [number, number][] = []
  for (let k = 0; k < head; k++) out.push([k, k])
  for (let k = tail; k > 0; k--) out.push([a.length - k, b.length - k])
  return out
}

/**
 * Pairs two instruction lists: LCS matches are `same`; between two matches, the unmatched
 * instructions of both sides face each other in order (`changed`), and the longer side's rest is
 * `a` or `b`.
 */
export function pairInstructions(a: readonly AlignInstruction[], b: readonly AlignInstruction[], aIndex: readonly number[], bIndex: readonly number[]): AlignedPair[] {
  const ka = aIndex.map((i) => alignKey(a[i]!))
  const kb = bIndex.map((i) => alignKey(b[i]!))
  const matches = lcs(ka, kb, (x, y) => x === y)
  const out: AlignedPair[] = []
  let i = 0
  let j = 0
  const gap = (iEnd: number, jEnd: number) => {
    while (i < iEnd && j < jEnd) out.push({ kind: 'changed', a: aIndex[i++]!, b: bIndex[j++]! })
    while (i < iEnd) out.push({ kind: 'a', a: aIndex[i++]! })
    while (j < jEnd) out.push({ kind: 'b', b: bIndex[j++]! })
  }
  for (const [mi, mj] of matches) {
    gap(mi, mj)
    out.push({ kind: 'same', a: aIndex[i++]!, b: bIndex[j++]! })
  }
  gap(ka.length, kb.length)
  return out
}

/**
 * One block per source line, in line order (instructions without a line last), each holding its
 * instructions in list order. Lines are what a reader scans the source by, so a line's code is in
 * one place even when the compiler scattered it (a loop's test at the bottom, 3.8–3.11
 * comprehensions in their own code object).
 */
export function lineBlocks(instructions: readonly AlignInstruction[]): LineBlock[] {
  const byLine = new Map<number | undefined, number[]>()
  instructions.forEach((ins, k) => {
    const list = byLine.get(ins.line)
    if (list) list.push(k)
    else byLine.set(ins.line, [k])
  })
  return [...byLine.entries()]
    .sort(([x], [y]) => (x === undefined ? 1 : y === undefined ? -1 : x - y))
    .map(([line, list]) => ({ line, instructions: list }))
}

/** Sorts line numbers with "no line" last. */
const lineOrder = (x: number | undefined, y: number | undefined) => (x === y ? 0 : x === undefined ? 1 : y === undefined ? -1 : x - y)

/**
 * Aligns sides that compiled the same source (one target across Python versions): one row per
 * source line any side has code for, in line order, each side's block for that line beside the
 * others. With two sides, rows also pair their instructions ({@link pairInstructions}).
 */
export function alignByLine(sides: readonly (readonly AlignInstruction[])[]): AlignedRow[] {
  const blocks = sides.map(lineBlocks)
  const lines = [...new Set(blocks.flatMap((bs) => bs.map((b) => b.line)))].sort(lineOrder)
  return lines.map((line) => finish(sides, blocks.map((bs) => bs.find((b) => b.line === line))))
}

/**
 * Aligns two implementations (two sources): blocks whose source lines read the same (whitespace
 * trimmed) are matched by a longest common subsequence; between two matched lines, the unmatched
 * lines of both sides share rows in order, so `for x in data: r.append(x)` sits beside `r = [x
 * for x in data]`. `lineText` gives a side's source line (1-based), when the source is known.
 */
export function alignByText(
  a: readonly AlignInstruction[],
  b: readonly AlignInstruction[],
  lineText: (side: 0 | 1, line: number) => string | undefined,
): AlignedRow[] {
  const ba = lineBlocks(a)
  const bb = lineBlocks(b)
  const key = (side: 0 | 1, blk: LineBlock) => (blk.line === undefined ? '\u0000no line' : (lineText(side, blk.line)?.trim() ?? `\u0000line ${blk.line}`))
  const ka = ba.map((blk) => key(0, blk))
  const kb = bb.map((blk) => key(1, blk))
  const rows: (LineBlock | undefined)[][] = []
  let i = 0
  let j = 0
  const gap = (iEnd: number, jEnd: number) => {
    while (i < iEnd && j < jEnd) rows.push([ba[i++], bb[j++]])
    while (i < iEnd) rows.push([ba[i++], undefined])
    while (j < jEnd) rows.push([undefined, bb[j++]])
  }
  for (const [mi, mj] of lcs(ka, kb, (x, y) => x === y)) {
    gap(mi, mj)
    rows.push([ba[i++], bb[j++]])
  }
  gap(ba.length, bb.length)
  return rows.map((r) => finish([a, b], r))
}

function finish(sides: readonly (readonly AlignInstruction[])[], blocks: (LineBlock | undefined)[]): AlignedRow {
  if (sides.length !== 2) return { blocks }
  const [x, y] = blocks
  return { blocks, pairs: pairInstructions(sides[0]!, sides[1]!, x?.instructions ?? [], y?.instructions ?? []) }
}
