/** The bytecode listing: one row per instruction; hover explains the opcode, click links to source. */
import { memo } from 'preact/compat'
import { useEffect, useRef } from 'preact/hooks'
import type { Disassembly, Instruction } from '../../../src/bytecode/index.js'
import { explainOpcode } from '../../../src/bytecode/explain.js'

/** Props of {@link BytecodePane}. */
export interface BytecodePaneProps {
  readonly d: Disassembly
  /** The chosen instruction (index), if any. */
  readonly selected: number | undefined
  /** Instructions whose source the editor selection covers. */
  readonly linked: ReadonlySet<number>
  readonly onSelect?: (index: number) => void
}

/**
 * The keys of a choosable row: Enter or Space choose it, the arrow keys move the focus to the row
 * above or below. (One row is in the tab order: the chosen one, else the first.)
 */
function rowKey(e: KeyboardEvent, k: number, onSelect: (index: number) => void): void {
  const row = e.currentTarget as HTMLTableRowElement
  const to = e.key === 'ArrowDown' ? row.nextElementSibling : e.key === 'ArrowUp' ? row.previousElementSibling : undefined
  if (e.key === 'Enter' || e.key === ' ') onSelect(k)
  else if (to instanceof HTMLElement) to.focus()
  else return
  e.preventDefault()
}

/** Props of one row: what it shows (compared by value, so an edit re-renders only rows that changed). */
interface RowProps {
  readonly ins: Instruction
  readonly k: number
  readonly minor: number
  readonly selected: boolean
  readonly linked: boolean
  readonly focusable: boolean
  readonly pick: { readonly current: ((index: number) => void) | undefined } | undefined
}

const samePosition = (a: Instruction['position'], b: Instruction['position']) => a.line === b.line && a.col === b.col && a.endLine === b.endLine && a.endCol === b.endCol
const sameRow = (a: RowProps, b: RowProps) =>
  a.k === b.k &&
  a.minor === b.minor &&
  a.selected === b.selected &&
  a.linked === b.linked &&
  a.focusable === b.focusable &&
  (a.pick === undefined) === (b.pick === undefined) &&
  a.ins.offset === b.ins.offset &&
  a.ins.opname === b.ins.opname &&
  a.ins.arg === b.ins.arg &&
  a.ins.argrepr === b.ins.argrepr &&
  a.ins.line === b.ins.line &&
  a.ins.startsLine === b.ins.startsLine &&
  a.ins.label === b.ins.label &&
  samePosition(a.ins.position, b.ins.position)

/** One instruction row. */
const Row = memo(function Row({ ins, k, minor, selected, linked, focusable, pick }: RowProps) {
  const p = ins.position
  const where = p.line === undefined ? 'no source position' : `source ${p.line}:${p.col ?? '?'}–${p.endLine ?? '?'}:${p.endCol ?? '?'} (line:UTF-8 byte column)`
  const cls = [selected ? 'selected' : '', linked ? 'linked' : '', ins.startsLine ? 'starts-line' : ''].filter(Boolean).join(' ')
  const choose = (i: number) => pick?.current?.(i)
  return (
    <tr
      class={cls}
      data-offset={ins.offset}
      title={where}
      tabIndex={pick ? (focusable ? 0 : -1) : undefined}
      onClick={pick ? () => choose(k) : undefined}
      onKeyDown={pick ? (e) => rowKey(e, k, choose) : undefined}
    >
      <td class="num">{ins.startsLine ? (ins.line ?? '') : ''}</td>
      <td class="num">
        {ins.label !== undefined ? <span class="label">L{ins.label} </span> : null}
        {ins.offset}
      </td>
      <td class="opname" title={`${ins.opname}: ${explainOpcode(minor, ins.opname) ?? 'no explanation for this opcode'}`}>
        {ins.opname}
      </td>
      <td class="num">{ins.arg ?? ''}</td>
      <td class="argrepr">{ins.argrepr}</td>
    </tr>
  )
}, sameRow)

/**
 * The instruction table of one code object. Memoized: a module of thousands of lines has thousands
 * of rows, and the Explorer re-renders on every status change (compiling…, a tab, a link).
 */
export const BytecodePane = memo(function BytecodePane({ d, selected, linked, onSelect }: BytecodePaneProps) {
  const bodyRef = useRef<HTMLTableSectionElement>(null)
  const minor = d.rules.minor
  /** The current onSelect, read when a row is chosen (rows are memoized across compiles). */
  const pickRef = useRef(onSelect)
  pickRef.current = onSelect
  useEffect(() => {
    const row = selected === undefined ? bodyRef.current?.querySelector('tr.linked') : bodyRef.current?.children[selected]
    ;(row as HTMLElement | null | undefined)?.scrollIntoView?.({ block: 'nearest' })
  }, [selected, linked])
  return (
    <table class="bytecode" data-testid="bytecode">
      <thead>
        <tr>
          <th>line</th>
          <th>offset</th>
          <th>instruction</th>
          <th>arg</th>
          <th />
        </tr>
      </thead>
      <tbody ref={bodyRef}>
        {d.instructions.map((ins, k) => (
          <Row key={ins.offset} ins={ins} k={k} minor={minor} selected={k === selected} linked={linked.has(k)} focusable={k === (selected ?? 0)} pick={onSelect ? pickRef : undefined} />
        ))}
      </tbody>
    </table>
  )
})
