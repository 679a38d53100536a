/**
 * The bytecode listing: one row per instruction; hover explains the opcode, click links to source.
 *
 * Virtualized: only the rows in view (and {@link OVERSCAN} either side) are in the DOM, between two
 * spacer rows that keep the table as tall as all its rows, so a module of thousands of lines costs
 * an edit no layout or paint of rows nobody sees. The table keeps `aria-rowcount` (all rows) and
 * each row its `aria-rowindex`; the keyboard moves by index (so ↓ past the last rendered row scrolls
 * and renders it), and a find box searches every instruction, rendered or not.
 */
import type { JSX } from 'preact'
import { memo } from 'preact/compat'
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks'
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

/** A row's height (px) until one is measured (CSS: 12px code font, 1px padding). */
const ROW_GUESS = 18
/** Rows rendered beyond the ones in view, above and below. */
const OVERSCAN = 40
/** The render window moves in steps of this many rows (scrolling re-renders less often). */
const STEP = 20
/** Rows rendered before the scroll container has been measured. */
const FIRST_WINDOW = 120

/** What a row calls back: choose an instruction, or move the focus by a key (both read when used, not at render). */
interface RowActions {
  choose(index: number): void
  key(e: KeyboardEvent, index: number): void
  focused(index: number): void
}

/** Props of one row: what it shows (compared by value, so an edit re-renders only rows that changed). */
interface RowProps {
  readonly ins: Instruction
  readonly k: number
  readonly minor: number
  readonly selected: boolean
  readonly linked: boolean
  readonly found: boolean
  readonly focusable: boolean
  readonly actions: { readonly current: RowActions } | undefined
}

const samePosition = (a: Instruction['position'], b: Instruction['position']) => a.line === b.line && a.col === b.col && a.endLine === b.endLine && a.endCol === b.endCol
const sameRow = (a: RowProps, b: RowProps) =>
  a.k === b.k &&
  a.minor === b.minor &&
  a.selected === b.selected &&
  a.linked === b.linked &&
  a.found === b.found &&
  a.focusable === b.focusable &&
  (a.actions === undefined) === (b.actions === undefined) &&
  a.ins.offset === b.ins.offset &&
  a.ins.opname === b.ins.opname &&
  a.ins.arg === b.ins.arg &&
  a.ins.argrepr === b.ins.argrepr &&
  a.ins.line === b.ins.line &&
  a.ins.startsLine === b.ins.startsLine &&
  a.ins.label === b.ins.label &&
  samePosition(a.ins.position, b.ins.position)

/** One instruction row. */
const Row = memo(function Row({ ins, k, minor, selected, linked, found, focusable, actions }: RowProps) {
  const p = ins.position
  const where = p.line === undefined ? 'no source position' : `source ${p.line}:${p.col ?? '?'}–${p.endLine ?? '?'}:${p.endCol ?? '?'} (line:UTF-8 byte column)`
  const cls = [selected ? 'selected' : '', linked ? 'linked' : '', found ? 'found' : '', ins.startsLine ? 'starts-line' : ''].filter(Boolean).join(' ')
  return (
    <tr
      class={cls}
      data-offset={ins.offset}
      data-index={k}
      aria-rowindex={k + 2}
      title={where}
      tabIndex={actions ? (focusable ? 0 : -1) : undefined}
      onClick={actions ? () => actions.current.choose(k) : undefined}
      onKeyDown={actions ? (e) => actions.current.key(e, k) : undefined}
      onFocus={actions ? () => actions.current.focused(k) : undefined}
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

/** The nearest ancestor that scrolls vertically (undefined: the page itself scrolls). */
function scrollerOf(el: HTMLElement): HTMLElement | undefined {
  for (let p = el.parentElement; p; p = p.parentElement) {
    const o = getComputedStyle(p).overflowY
    if (o === 'auto' || o === 'scroll') return p
  }
  return undefined
}

/** The text a find matches in a row: offset, label, opname, arg and argrepr (lower case). */
const rowText = (ins: Instruction) => `${ins.label !== undefined ? `L${ins.label} ` : ''}${ins.offset} ${ins.opname} ${ins.arg ?? ''} ${ins.argrepr}`.toLowerCase()

/** Widths (ch) of the number and opname columns over all rows, so they do not change as the window scrolls. */
function columnWidths(d: Disassembly): [number, number, number, number] {
  let line = 4
  let offset = 6
  let op = 11
  let arg = 3
  for (const ins of d.instructions) {
    if (ins.startsLine && ins.line !== undefined) line = Math.max(line, String(ins.line).length)
    offset = Math.max(offset, String(ins.offset).length + (ins.label !== undefined ? String(ins.label).length + 2 : 0))
    op = Math.max(op, ins.opname.length)
    if (ins.arg !== undefined) arg = Math.max(arg, String(ins.arg).length)
  }
  return [line, offset, op, arg]
}

/**
 * The instruction table of one code object. Memoized: a module of thousands of lines has thousands
 * of rows, and the Explorer re-renders on every status change (compiling…, a tab, a link).
 */
export const BytecodePane = memo(function BytecodePane({ d, selected, linked, onSelect }: BytecodePaneProps) {
  const bodyRef = useRef<HTMLTableSectionElement>(null)
  const headRef = useRef<HTMLTableSectionElement>(null)
  const barRef = useRef<HTMLDivElement>(null)
  const minor = d.rules.minor
  const n = d.instructions.length
  const [win, setWin] = useState({ first: 0, last: FIRST_WINDOW })
  /** The row with the keyboard focus (roving tabindex); undefined: the chosen row, else the first. */
  const [focus, setFocus] = useState<number>()
  const [query, setQuery] = useState('')
  /** Which match of the find is shown (an index into `matches`). */
  const [hit, setHit] = useState(0)
  const rowHRef = useRef(ROW_GUESS)
  const focusNextRef = useRef<number | undefined>(undefined)

  /** The scroll container's geometry: [container or page, rows' top in its content, its view height, sticky header height]. */
  const geometry = useCallback(() => {
    const body = bodyRef.current
    if (!body) return undefined
    const row = body.querySelector('tr[aria-rowindex]')
    const h = row?.getBoundingClientRect().height
    if (h) rowHRef.current = h
    const sc = scrollerOf(body)
    // What stays on top of the rows: the find bar and the sticky header.
    const head = (headRef.current?.getBoundingClientRect().height ?? 0) + (barRef.current?.getBoundingClientRect().height ?? 0)
    const b = body.getBoundingClientRect()
    if (sc) {
      const s = sc.getBoundingClientRect()
      return { sc, rowsTop: b.top - s.top - sc.clientTop + sc.scrollTop, view: sc.clientHeight, scrollTop: sc.scrollTop, head }
    }
    return { sc: undefined, rowsTop: b.top + window.scrollY, view: window.innerHeight, scrollTop: window.scrollY, head }
  }, [])

  /** Recomputes the render window from the scroll position. */
  const update = useCallback(() => {
    const g = geometry()
    if (!g) return
    const h = rowHRef.current
    const from = Math.floor((g.scrollTop - g.rowsTop) / h)
    const to = Math.ceil((g.scrollTop - g.rowsTop + g.view) / h)
    const first = Math.max(0, Math.floor((from - OVERSCAN) / STEP) * STEP)
    const last = Math.max(first, Math.ceil((to + OVERSCAN) / STEP) * STEP)
    setWin((w) => (w.first === first && w.last === last ? w : { first, last }))
  }, [geometry])

  /** Scrolls the least that brings row `k` into view (below the sticky header), then renders it. */
  const scrollToRow = useCallback(
    (k: number) => {
      const g = geometry()
      if (!g) return
      const h = rowHRef.current
      const y = g.rowsTop + k * h
      let to = g.scrollTop
      if (y - g.head < g.scrollTop) to = y - g.head
      else if (y + h > g.scrollTop + g.view) to = y + h - g.view
      if (to === g.scrollTop) return
      if (g.sc) g.sc.scrollTop = to
      else window.scrollTo({ top: to })
      update()
    },
    [geometry, update],
  )

  // Follow the scroll container's scrolling and size.
  useLayoutEffect(() => {
    const body = bodyRef.current
    if (!body) return undefined
    const sc = scrollerOf(body)
    const target: HTMLElement | Window = sc ?? window
    let frame = 0
    const onScroll = () => {
      if (frame) return
      frame = requestAnimationFrame(() => {
        frame = 0
        update()
      })
    }
    target.addEventListener('scroll', onScroll, { passive: true })
    const ro = typeof ResizeObserver === 'function' && sc ? new ResizeObserver(onScroll) : undefined
    ro?.observe(sc!)
    update()
    return () => {
      target.removeEventListener('scroll', onScroll)
      ro?.disconnect()
      cancelAnimationFrame(frame)
    }
  }, [update])
  // Another code object (or a recompile that changed the length): the window is measured again.
  useLayoutEffect(update, [d, update])

  // A new choice or a new disassembly: the roving focus goes back to the chosen row.
  useEffect(() => setFocus(undefined), [selected, d])

  // The chosen instruction, else the first linked one, is scrolled into view.
  useLayoutEffect(() => {
    let k = selected
    if (k === undefined) for (const i of linked) k = k === undefined ? i : Math.min(k, i)
    if (k !== undefined) scrollToRow(k)
  }, [selected, linked, scrollToRow])

  const matches = useMemo(() => {
    const q = query.trim().toLowerCase()
    if (!q) return []
    const out: number[] = []
    d.instructions.forEach((ins, k) => rowText(ins).includes(q) && out.push(k))
    return out
  }, [d, query])
  const found = matches.length ? matches[Math.min(hit, matches.length - 1)] : undefined
  useLayoutEffect(() => {
    if (found !== undefined) scrollToRow(found)
  }, [found, scrollToRow])

  // A key moved the focus: focus the row once it is rendered.
  useLayoutEffect(() => {
    const k = focusNextRef.current
    if (k === undefined) return
    const el = bodyRef.current?.querySelector<HTMLElement>(`tr[data-index="${k}"]`)
    if (!el) return
    focusNextRef.current = undefined
    el.focus({ preventScroll: true })
  })

  const move = (k: number) => {
    const to = Math.max(0, Math.min(n - 1, k))
    focusNextRef.current = to
    setFocus(to)
    scrollToRow(to)
  }
  const actionsRef = useRef<RowActions>({ choose: () => {}, key: () => {}, focused: () => {} })
  actionsRef.current = {
    choose: (k) => onSelect?.(k),
    focused: (k) => setFocus(k),
    key: (e, k) => {
      const g = geometry()
      const page = Math.max(1, Math.floor(((g?.view ?? 400) - (g?.head ?? 0)) / rowHRef.current) - 1)
      if (e.key === 'Enter' || e.key === ' ') onSelect?.(k)
      else if (e.key === 'ArrowDown') move(k + 1)
      else if (e.key === 'ArrowUp') move(k - 1)
      else if (e.key === 'PageDown') move(k + page)
      else if (e.key === 'PageUp') move(k - page)
      else if (e.key === 'Home') move(0)
      else if (e.key === 'End') move(n - 1)
      else return
      e.preventDefault()
    },
  }

  const first = Math.min(win.first, Math.max(0, n - 1))
  const last = Math.min(win.last, n)
  const h = rowHRef.current
  // One row is in the tab order: the focused one, else the chosen one, else the first; when that is
  // scrolled out of the render window, the first rendered row (so Tab still reaches the table).
  const rove = focus ?? selected ?? 0
  const tabbable = rove >= first && rove < last ? rove : first
  const [wLine, wOffset, wOp, wArg] = useMemo(() => columnWidths(d), [d])
  const shown: JSX.Element[] = []
  for (let k = first; k < last; k++) {
    const ins = d.instructions[k]!
    shown.push(
      <Row key={ins.offset} ins={ins} k={k} minor={minor} selected={k === selected} linked={linked.has(k)} found={k === found} focusable={k === tabbable} actions={onSelect ? actionsRef : undefined} />,
    )
  }
  return (
    <div class="bytecode-list">
      <div class="bytecode-find" role="search" ref={barRef}>
        <input
          type="search"
          data-testid="bytecode-find"
          aria-label="find an instruction: Enter for the next, Shift+Enter for the previous"
          placeholder="find instruction…"
          value={query}
          onInput={(e) => {
            setQuery((e.target as HTMLInputElement).value)
            setHit(0)
          }}
          onKeyDown={(e) => {
            if (e.key !== 'Enter' || !matches.length) return
            e.preventDefault()
            setHit((x) => (Math.min(x, matches.length - 1) + (e.shiftKey ? matches.length - 1 : 1)) % matches.length)
          }}
        />
        <button type="button" aria-label="previous match" disabled={!matches.length} onClick={() => setHit((x) => (Math.min(x, matches.length - 1) + matches.length - 1) % matches.length)}>
          ↑
        </button>
        <button type="button" aria-label="next match" disabled={!matches.length} onClick={() => setHit((x) => (Math.min(x, matches.length - 1) + 1) % matches.length)}>
          ↓
        </button>
        <span class="muted" data-testid="bytecode-find-count" aria-live="polite">
          {query.trim() ? (matches.length ? `${Math.min(hit, matches.length - 1) + 1} of ${matches.length}` : 'no match') : `${n} instructions`}
        </span>
      </div>
      <table class="bytecode" data-testid="bytecode" aria-rowcount={n + 1} data-rows={n} data-first={first} data-last={last}>
        <colgroup>
          <col style={{ width: `calc(${wLine}ch + 12px)` }} />
          <col style={{ width: `calc(${wOffset}ch + 12px)` }} />
          <col style={{ width: `calc(${wOp}ch + 12px)` }} />
          <col style={{ width: `calc(${wArg}ch + 12px)` }} />
          <col />
        </colgroup>
        <thead ref={headRef}>
          <tr aria-rowindex={1}>
            <th>line</th>
            <th>offset</th>
            <th>instruction</th>
            <th>arg</th>
            <th>
              <span class="visually-hidden">argument</span>
            </th>
          </tr>
        </thead>
        <tbody ref={bodyRef}>
          {first > 0 ? (
            <tr class="spacer" aria-hidden="true">
              <td colSpan={5} style={{ height: `${first * h}px` }} />
            </tr>
          ) : null}
          {shown}
          {last < n ? (
            <tr class="spacer" aria-hidden="true">
              <td colSpan={5} style={{ height: `${(n - last) * h}px` }} />
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  )
})
