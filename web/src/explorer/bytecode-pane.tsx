/** The bytecode listing: one row per instruction; hover explains the opcode, click links to source. */
import { memo } from 'preact/compat'
import { useEffect, useRef } from 'preact/hooks'
import type { Disassembly } from '../../../src/bytecode/index.js'
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

/**
 * The instruction table of one code object. Memoized: a module of thousands of lines has thousands
 * of rows, and the Explorer re-renders on every status change (compiling…, a tab, a link).
 */
export const BytecodePane = memo(function BytecodePane({ d, selected, linked, onSelect }: BytecodePaneProps) {
  const bodyRef = useRef<HTMLTableSectionElement>(null)
  const minor = d.rules.minor
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
        {d.instructions.map((ins, k) => {
          const p = ins.position
          const where = p.line === undefined ? 'no source position' : `source ${p.line}:${p.col ?? '?'}–${p.endLine ?? '?'}:${p.endCol ?? '?'} (line:UTF-8 byte column)`
          const cls = [k === selected ? 'selected' : '', linked.has(k) ? 'linked' : '', ins.startsLine ? 'starts-line' : ''].filter(Boolean).join(' ')
          return (
            <tr
              key={ins.offset}
              class={cls}
              data-offset={ins.offset}
              title={where}
              tabIndex={onSelect ? (k === (selected ?? 0) ? 0 : -1) : undefined}
              onClick={onSelect ? () => onSelect(k) : undefined}
              onKeyDown={onSelect ? (e) => rowKey(e, k, onSelect) : undefined}
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
        })}
      </tbody>
    </table>
  )
})
