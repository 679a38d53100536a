/**
 * `--format dis`: the text CPython's `dis.dis(code)` prints, for the code object's own version.
 *
 * Two layouts exist: the classic one (3.8–3.12: offsets and `>>` jump markers) and the labelled
 * one (3.13+: `L1:` labels, optional offsets and, 3.14, positions). Each is one function below;
 * what differs inside a layout comes from the version rules.
 */
import { codeAddress } from '../address.js'
import type { CodeObject } from '../code.js'
import { type Disassembly, disassemble, type Instruction } from '../decode.js'
import { pyRepr } from '../pyrepr.js'

/** Options of {@link formatDis}, named after dis.dis's keyword arguments. */
export interface DisOptions {
  /** Show inline CACHE entries (3.11+), like `show_caches=True`. */
  readonly showCaches?: boolean
  /** Show byte offsets (3.13+; always shown before), like `show_offsets=True`. */
  readonly showOffsets?: boolean
  /** Show full positions instead of line numbers (3.14), like `show_positions=True`. */
  readonly showPositions?: boolean
  /** Recurse into nested code objects (default true, as dis.dis). */
  readonly recursive?: boolean
}

const OPNAME_WIDTH = 20
const OPARG_WIDTH = 5
const NO_LINENO = '  --'

/** The repr of a code object, as in "Disassembly of <code object f at 0x…, file "x.py", line 3>:". */
export function codeRepr(code: CodeObject): string {
  return pyRepr(code.raw, { minor: code.pythonVersion[1], codeAddress })
}

/** Formats a code object (and, by default, the code objects nested in it) exactly as dis.dis. */
export function formatDis(code: CodeObject, options: DisOptions = {}): string {
  const lines: string[] = []
  const walk = (c: CodeObject) => {
    formatOne(disassemble(c, { positions: options.showPositions === true }), options, lines)
    if (options.recursive === false) return
    for (const child of c.children) {
      lines.push('')
      lines.push(`Disassembly of ${codeRepr(child)}:`)
      walk(child)
    }
  }
  walk(code)
  return `${lines.join('\n')}\n`
}

function formatOne(d: Disassembly, options: DisOptions, out: string[]): void {
  if (d.rules.labels) formatLabelled(d, options, out)
  else formatClassic(d, options, out)
}

function argFields(instr: { arg: number | undefined; argrepr: string }, fields: string[], opnameExcess = 0): void {
  if (instr.arg === undefined) return
  fields.push(String(instr.arg).padStart(OPARG_WIDTH - opnameExcess))
  if (instr.argrepr) fields.push(`(${instr.argrepr})`)
}

function line(fields: string[]): string {
  return fields.join(' ').trimEnd()
}

/** Cache entries shown by show_caches: (name, size, little-endian value) per cache field. */
function cacheInfo(d: Disassembly, instr: Instruction): [string, number, bigint][] {
  const format = d.rules.table.cacheFormat[d.rules.opname(instr.baseOpcode)] ?? []
  const out: [string, number, bigint][] = []
  let at = instr.offset + 2
  for (const [name, size] of format) {
    let v = 0n
    for (let i = 2 * size - 1; i >= 0; i--) v = (v << 8n) | BigInt(d.code.code[at + i] ?? 0)
    out.push([name, size, v])
    // 3.13 reads every field from the first cache entry; 3.14 steps through them.
    if (d.rules.minor !== 13) at += 2 * size
  }
  return out
}

/** 3.8–3.12: `lineno  >>  offset OPNAME  arg (argrepr)`. */
function formatClassic(d: Disassembly, options: DisOptions, out: string[]): void {
  const { rules, instructions } = d
  const starts = [...d.lineStarts.values()].filter((l): l is number => l !== undefined)
  const showLineno = rules.minor <= 9 || starts.length > 0
  let linenoWidth = 0
  if (showLineno) {
    const max = starts.reduce((a, b) => Math.max(a, b), 0)
    linenoWidth = max >= 1000 ? String(max).length : 3
  }
  const maxOffset = d.code.code.length - 2
  const offsetWidth = maxOffset >= 10000 ? String(maxOffset).length : 4
  const row = (lineno: number | undefined, target: boolean, offset: number, opname: string, arg: { arg: number | undefined; argrepr: string }) => {
    const fields: string[] = []
    if (linenoWidth) fields.push(lineno !== undefined ? String(lineno).padStart(linenoWidth) : ' '.repeat(linenoWidth))
    fields.push('   ', target ? '>>' : '  ', String(offset).padStart(offsetWidth), opname.padEnd(OPNAME_WIDTH))
    argFields(arg, fields)
    return line(fields)
  }
  for (const instr of instructions) {
    const startsLine = instr.startsLine ? instr.line : undefined
    if (showLineno && startsLine !== undefined && instr.offset > 0) out.push('')
    out.push(row(startsLine, instr.isJumpTarget, instr.offset, instr.opname, instr))
    if (options.showCaches && instr.cacheCount) {
      let offset = instr.offset
      for (const [name, size, value] of cacheInfo(d, instr)) {
        for (let i = 0; i < size; i++) {
          offset += 2
          // 3.11 describes a cache only for specialized (quickened) instructions.
          const describe = i === 0 && (rules.minor >= 12 || instr.opcode !== instr.baseOpcode)
          out.push(row(undefined, false, offset, 'CACHE', { arg: 0, argrepr: describe ? `${name}: ${value}` : '' }))
        }
      }
    }
  }
  if (d.exceptionEntries.length) {
    out.push('ExceptionTable:')
    for (const e of d.exceptionEntries) {
      out.push(`  ${e.start} to ${e.end - 2} -> ${e.target} [${e.depth}]${e.lasti ? ' lasti' : ''}`)
    }
  }
}

/** 3.13+: `lineno  L1:  [offset]  OPNAME  arg (argrepr)`. */
function formatLabelled(d: Disassembly, options: DisOptions, out: string[]): void {
  const { instructions } = d
  const showPositions = options.showPositions === true && d.rules.minor >= 14
  const linenoWidth = showPositions ? positionsWidth(d) : linenoWidthOf(d)
  const labelWidth = 4 + String(d.labels.size).length
  const offsetWidth = options.showOffsets ? String(Math.max(d.code.code.length - 2, 9999)).length : 0
  const positionText = (instr: Instruction): string => {
    const p = instr.position
    const ps = [p.line, p.endLine, p.col, p.endCol]
    if (ps.every((x) => x === undefined)) return NO_LINENO
    const q = ps.map((x) => (x === undefined ? '?' : String(x)))
    return `${q[0]}:${q[2]}-${q[1]}:${q[3]}`
  }
  const row = (instr: Instruction, startsLine: boolean, label: number | undefined, offset: number, opname: string, arg: { arg: number | undefined; argrepr: string }) => {
    if (linenoWidth > 0 && startsLine && offset > 0) out.push('')
    const fields: string[] = []
    if (linenoWidth) {
      if (showPositions) fields.push(positionText(instr).padEnd(linenoWidth))
      else if (startsLine) fields.push((instr.line === undefined ? NO_LINENO : String(instr.line)).padStart(linenoWidth))
      else fields.push(' '.repeat(linenoWidth))
    }
    fields.push(label !== undefined ? `L${label}:`.padStart(labelWidth) : ' '.repeat(labelWidth))
    if (offsetWidth > 0) fields.push(`${String(offset).padStart(offsetWidth)}  `)
    fields.push('   ', opname.padEnd(OPNAME_WIDTH))
    argFields(arg, fields, Math.max(0, opname.length - OPNAME_WIDTH))
    out.push(line(fields))
  }
  for (const instr of instructions) {
    row(instr, instr.startsLine, instr.label, instr.offset, instr.opname, instr)
    if (options.showCaches && instr.cacheCount) {
      let offset = instr.offset
      for (const [name, size, value] of cacheInfo(d, instr)) {
        for (let i = 0; i < size; i++) {
          offset += 2
          row(instr, false, undefined, offset, 'CACHE', { arg: 0, argrepr: i === 0 ? `${name}: ${value}` : '' })
        }
      }
    }
  }
  if (d.exceptionEntries.length) {
    out.push('ExceptionTable:')
    for (const e of d.exceptionEntries) {
      const l = (off: number) => `L${d.labels.get(off)}`
      out.push(`  ${l(e.start)} to ${l(e.end)} -> ${l(e.target)} [${e.depth}]${e.lasti ? ' lasti' : ''}`)
    }
  }
}

/** dis._get_lineno_width (3.13+). */
function linenoWidthOf(d: Disassembly): number {
  const values = [...d.lineStarts.values()]
  // filter(None, …) drops None and 0.
  const real = values.filter((l): l is number => l !== undefined && l !== 0)
  if (real.length === 0) return 0
  let width = Math.max(3, String(real.reduce((a, b) => Math.max(a, b), 0)).length)
  if (width < NO_LINENO.length && values.includes(undefined)) width = NO_LINENO.length
  return width
}

/** dis._get_positions_width (3.14). */
function positionsWidth(d: Disassembly): number {
  let hasValue = false
  let width = 0
  for (const p of d.positions) {
    const ps = [p.line, p.endLine, p.col, p.endCol]
    if (ps.some((x) => x !== undefined)) hasValue = true
    width = Math.max(width, ps.reduce((n: number, x) => n + (x === undefined ? 1 : String(x).length), 0))
  }
  return hasValue ? 1 + Math.max(NO_LINENO.length, 3 + width) : 0
}
