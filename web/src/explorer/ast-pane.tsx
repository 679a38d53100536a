/**
 * The AST as a tree (ARIA `tree`): clicking a node, or Enter on it, selects its source range. The
 * tree is virtualized — only the rows in view are rendered, and a row's fields are read only when
 * the row is shown — so a module of thousands of lines opens without a long main-thread task.
 * Keys: ↑/↓ move, → opens or goes to the first child, ← closes or goes to the parent, Home/End,
 * PageUp/PageDown, Enter/Space pick.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks'
import { BIG_BODY, BIG_OPEN_DEPTH, childCount, OPEN_DEPTH } from '../../../src/runtime/ast-slice.js'
import type { AstNode } from '../../../src/runtime/types.js'
import type { Span } from '../compiled.js'

const POSITION = new Set(['lineno', 'col_offset', 'end_lineno', 'end_col_offset', '_type', '_more'])
const isNode = (v: unknown): v is AstNode => typeof v === 'object' && v !== null && '_type' in v
/** Height of a row, px (CSS .ast-row). */
const ROW = 20
/** Rows rendered above and below the ones in view. */
const OVERSCAN = 20

/** The span of a node, when it has positions. */
export function nodeSpan(n: AstNode): Span | undefined {
  if (typeof n.lineno !== 'number') return undefined
  return { line: n.lineno, col: n.col_offset as number, endLine: (n.end_lineno as number) ?? n.lineno, endCol: n.end_col_offset as number | undefined }
}

function scalar(v: unknown): string | undefined {
  if (v === null) return 'None'
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (typeof v === 'object' && v !== null && '_const' in v) {
    const c = v as Record<string, unknown>
    return String(c.repr ?? c.value ?? c._const)
  }
  return undefined
}

/** A node's child nodes with their field labels ("body[0]", "value"); Load/Store/Del contexts have none shown. */
function childrenOf(node: AstNode): [string, AstNode][] {
  if (['Load', 'Store', 'Del'].includes(node._type)) return []
  const out: [string, AstNode][] = []
  for (const [k, v] of Object.entries(node)) {
    if (POSITION.has(k)) continue
    if (isNode(v)) out.push([k, v])
    else if (Array.isArray(v)) v.forEach((c, i) => isNode(c) && out.push([`${k}[${i}]`, c]))
  }
  return out
}

/** One visible row: a node, its field label, depth, path key and whether it has children. */
interface Row {
  readonly node: AstNode
  readonly field: string | undefined
  readonly depth: number
  readonly key: string
  readonly parent: number
  readonly kids: number
}

/**
 * The rows of the open part of the tree, in document order (iterative: deep trees do not overflow
 * the stack). A trimmed node (`_more`, see src/runtime/ast-slice.ts) takes its children from the
 * subtree fetched for its path; an open one not fetched yet goes into `missing`.
 */
function visibleRows(root: AstNode, isOpen: (key: string, depth: number) => boolean, fetched: ReadonlyMap<string, AstNode>, missing: string[]): Row[] {
  const rows: Row[] = []
  const todo: { node: AstNode; field: string | undefined; depth: number; key: string; parent: number }[] = [{ node: root, field: undefined, depth: 0, key: '', parent: -1 }]
  while (todo.length) {
    const it = todo.pop()!
    const trimmed = typeof it.node._more === 'number'
    const whole = trimmed ? fetched.get(it.key) : it.node
    const kids = whole ? childrenOf(whole) : []
    const ix = rows.length
    rows.push({ ...it, kids: whole ? kids.length : childCount(it.node) })
    if (trimmed && !whole && isOpen(it.key, it.depth)) missing.push(it.key)
    if (!kids.length || !isOpen(it.key, it.depth)) continue
    for (let i = kids.length - 1; i >= 0; i--) {
      const [field, node] = kids[i]!
      todo.push({ node, field, depth: it.depth + 1, key: `${it.key}/${field}`, parent: ix })
    }
  }
  return rows
}

const EMPTY: ReadonlyMap<string, AstNode> = new Map()
const EMPTY_FAILED: ReadonlyMap<string, string> = new Map()

/** A row's label: the field, the node type, its scalar fields and its span. */
function Label({ row }: { row: Row }) {
  const span = nodeSpan(row.node)
  const scalars: [string, string][] = []
  for (const [k, v] of Object.entries(row.node)) {
    if (POSITION.has(k)) continue
    const s = scalar(v)
    if (s !== undefined) scalars.push([k, s])
  }
  return (
    <>
      {row.field ? <span class="muted">{row.field}: </span> : null}
      <b>{row.node._type}</b>
      {scalars.map(([k, s]) => (
        <span key={k} class="ast-scalar">
          {' '}
          {k}={s}
        </span>
      ))}
      {span ? (
        <span class="muted">
          {' '}
          {span.line}:{span.col}–{span.endLine}:{span.endCol}
        </span>
      ) : null}
    </>
  )
}

/**
 * The whole tree. `ast` holds the tree's top levels; a node below them (`_more`) is fetched with
 * `fetchNode` when it is opened.
 */
export function AstPane({ ast, onPick, fetchNode }: { ast: AstNode; onPick: (s: Span) => void; fetchNode?: ((path: string) => Promise<AstNode>) | undefined }) {
  /** Nodes opened or closed by the user (by path), against the default (open above a depth: {@link OPEN_DEPTH}). */
  const [toggled, setToggled] = useState<ReadonlySet<string>>(new Set())
  /** Subtrees fetched for trimmed nodes (by path), and why a fetch failed; for this `ast` only. */
  const [fetched, setFetched] = useState<{ ast: AstNode; nodes: ReadonlyMap<string, AstNode>; failed: ReadonlyMap<string, string> }>({ ast, nodes: new Map(), failed: new Map() })
  const nodes = fetched.ast === ast ? fetched.nodes : EMPTY
  const failed = fetched.ast === ast ? fetched.failed : EMPTY_FAILED
  const askedRef = useRef(new Set<string>())
  const [focus, setFocus] = useState(0)
  const [view, setView] = useState({ top: 0, height: 600 })
  const boxRef = useRef<HTMLDivElement>(null)
  const focusNextRef = useRef(false)
  const openDepth = Array.isArray(ast.body) && ast.body.length > BIG_BODY ? BIG_OPEN_DEPTH : OPEN_DEPTH
  const [rows, missing] = useMemo(() => {
    const m: string[] = []
    return [visibleRows(ast, (key, depth) => (depth < openDepth) !== toggled.has(key), nodes, m), m] as const
  }, [ast, toggled, openDepth, nodes])

  // Open nodes whose subtree is not here yet: fetched (once per tree), then grafted in.
  useEffect(() => {
    if (fetched.ast !== ast) {
      askedRef.current = new Set()
      setFetched({ ast, nodes: new Map(), failed: new Map() })
      return
    }
    if (!fetchNode) return
    for (const path of missing) {
      if (askedRef.current.has(path)) continue
      askedRef.current.add(path)
      fetchNode(path).then(
        (node) => setFetched((f) => (f.ast === ast ? { ...f, nodes: new Map(f.nodes).set(path, node) } : f)),
        (e: Error) => setFetched((f) => (f.ast === ast ? { ...f, failed: new Map(f.failed).set(path, e.message) } : f)),
      )
    }
  }, [ast, fetched.ast, missing, fetchNode])
  const at = Math.min(focus, rows.length - 1)

  // The scroll container is the tab body around the tree: follow its scrolling and size.
  useEffect(() => {
    const scroller = boxRef.current?.closest('.tab-body') as HTMLElement | null
    if (!scroller) return undefined
    const update = () => setView({ top: Math.max(0, scroller.scrollTop - (boxRef.current?.offsetTop ?? 0)), height: scroller.clientHeight })
    update()
    scroller.addEventListener('scroll', update, { passive: true })
    const ro = typeof ResizeObserver === 'function' ? new ResizeObserver(update) : undefined
    ro?.observe(scroller)
    return () => {
      scroller.removeEventListener('scroll', update)
      ro?.disconnect()
    }
  }, [])

  // A key moved the focus: bring the row into view, then focus it once rendered.
  useLayoutEffect(() => {
    if (!focusNextRef.current) return
    const el = boxRef.current?.querySelector<HTMLElement>(`[data-row="${at}"]`)
    if (el) {
      focusNextRef.current = false
      el.focus({ preventScroll: true })
      el.scrollIntoView({ block: 'nearest' })
    } else {
      const scroller = boxRef.current?.closest('.tab-body') as HTMLElement | null
      if (scroller && boxRef.current) scroller.scrollTop = boxRef.current.offsetTop + at * ROW - scroller.clientHeight / 2
    }
  })

  const toggle = (row: Row) =>
    setToggled((t) => {
      const next = new Set(t)
      if (next.has(row.key)) next.delete(row.key)
      else next.add(row.key)
      return next
    })
  const isOpen = (row: Row) => row.kids > 0 && (row.depth < openDepth) !== toggled.has(row.key)
  const pick = (row: Row) => {
    const span = nodeSpan(row.node)
    if (span) onPick(span)
  }
  const move = (k: number) => {
    focusNextRef.current = true
    setFocus(Math.max(0, Math.min(rows.length - 1, k)))
  }
  const onKey = (e: KeyboardEvent) => {
    const row = rows[at]
    if (!row) return
    const page = Math.max(1, Math.floor(view.height / ROW) - 1)
    if (e.key === 'ArrowDown') move(at + 1)
    else if (e.key === 'ArrowUp') move(at - 1)
    else if (e.key === 'PageDown') move(at + page)
    else if (e.key === 'PageUp') move(at - page)
    else if (e.key === 'Home') move(0)
    else if (e.key === 'End') move(rows.length - 1)
    else if (e.key === 'ArrowRight') {
      if (row.kids && !isOpen(row)) toggle(row)
      else if (row.kids) move(at + 1)
    } else if (e.key === 'ArrowLeft') {
      if (isOpen(row)) toggle(row)
      else if (row.parent >= 0) move(row.parent)
    } else if (e.key === 'Enter' || e.key === ' ') pick(row)
    else return
    e.preventDefault()
  }

  const first = Math.max(0, Math.floor(view.top / ROW) - OVERSCAN)
  const last = Math.min(rows.length, Math.ceil((view.top + view.height) / ROW) + OVERSCAN)
  const shown = rows.slice(first, last)
  return (
    <div class="ast" data-testid="ast" data-rows={rows.length}>
      <div ref={boxRef} class="ast-list" role="tree" aria-label="abstract syntax tree: arrows move, → opens, ← closes, Enter selects the source" style={{ height: `${rows.length * ROW}px` }}>
        {shown.map((row, i) => {
          const k = first + i
          const open = isOpen(row)
          const span = nodeSpan(row.node)
          return (
            <div
              key={row.key}
              role="treeitem"
              aria-level={row.depth + 1}
              aria-expanded={row.kids ? open : undefined}
              aria-selected={k === at}
              tabIndex={k === at ? 0 : -1}
              data-row={k}
              class={`ast-row${span ? ' pickable' : ''}`}
              style={{ position: 'absolute', top: `${k * ROW}px`, left: 0, right: 0, paddingLeft: `${Math.min(row.depth, 60) * 14}px` }}
              onFocus={() => setFocus(k)}
              onKeyDown={onKey}
              onClick={(e) => {
                setFocus(k)
                if ((e.target as HTMLElement).closest('.twisty')) toggle(row)
                else pick(row)
              }}
            >
              <span class={`twisty${row.kids ? '' : ' leaf'}`} aria-hidden="true">
                {row.kids ? (open ? '▾' : '▸') : ''}
              </span>
              <span class={`ast-label${span ? ' pickable' : ''}`} data-testid="ast-node">
                <Label row={row} />
                {open && typeof row.node._more === 'number' && !nodes.has(row.key) ? <span class="muted"> {failed.get(row.key) ? `(not loaded: ${failed.get(row.key)})` : '(loading…)'}</span> : null}
              </span>
            </div>
          )
        })}
      </div>
    </div>
  )
}
