/**
 * The flame graph (root at the bottom) or icicle (root at the top), drawn on a canvas: only rows
 * and nodes inside the viewport, only rectangles at least 1 px wide, so 200k nodes stay smooth.
 * Wheel zooms around the pointer, drag pans, click selects, double-click zooms to a node.
 *
 * Depth is windowed: at most {@link DEPTH_WINDOW} rows are drawn (a canvas of a 100,000-deep call
 * tree could not be allocated), from a first depth the bar above the graph moves (shallower /
 * deeper, or to the selected node); selecting or double-clicking a node outside the window moves
 * the window to it. The bar says which depths are shown of how many.
 *
 * The graph draws from a {@link FlameDataSource} — a layout, and each node's label, colour,
 * tooltip and spoken description — so one renderer serves the profile's thread, the sandwich's
 * callers and callees, and the diff. A minimap above it shows the whole graph and the part in
 * view (click or drag it to move there); a live region says which frame is selected.
 */
import type { ComponentChildren } from 'preact'
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks'
import { type FlameLayout, firstVisible } from './layout.js'
import { type FlameTheme, flameTheme, useThemeVersion } from './palette.js'

const ROW = 18

/** Rows drawn at most: the depth window. */
export const DEPTH_WINDOW = 200

/** The first depth of a window that shows `depth` with some of its callers above it. */
function windowFor(depth: number, rows: number): number {
  return Math.max(0, Math.min(depth - 8, rows - DEPTH_WINDOW))
}

/** What the flame graph draws: a layout, and how each of its nodes looks, reads and sounds. */
export interface FlameDataSource {
  readonly layout: FlameLayout
  /** The name drawn on a node. */
  label(node: number): string
  /** A node's fill in the given theme. */
  colour(node: number, theme: FlameTheme): string | CanvasPattern
  /** The tooltip's body for a node. */
  tooltip(node: number): ComponentChildren
  /** One line about a node for screen readers (the live region), e.g. its name, place and share. */
  describe(node: number): string
}

/** Props of {@link FlameGraph}. */
export interface FlameGraphProps {
  readonly source: FlameDataSource
  /** Functions (the layout's `frame` values) to highlight (search); undefined = no search. */
  readonly matches: ReadonlySet<number> | undefined
  readonly icicle: boolean
  readonly selected: number | undefined
  readonly onSelect: (node: number) => void
  /** The canvas's data-testid; its test hook is window.pyxrayFlames[testId] (and window.pyxrayFlame for the default). */
  readonly testId?: string
  /** What the graph shows, for its accessible name (default "flame graph"). */
  readonly title?: string
  /** Draw the minimap (default true). */
  readonly minimap?: boolean
}

const MINIMAP_H = 36

/** The canvas flame graph. */
export function FlameGraph({ source, matches, icicle, selected, onSelect, testId = 'flamegraph', title = 'flame graph', minimap = true }: FlameGraphProps) {
  const layout = source.layout
  // A theme switch re-renders the graph, and every render draws.
  const themeVersion = useThemeVersion()
  const canvasRef = useRef<HTMLCanvasElement>(null)
  const boxRef = useRef<HTMLDivElement>(null)
  /** The visible span of the x axis, in layout units (a ref: only drawing and pointer handlers read it). */
  const viewRef = useRef({ x0: 0, x1: layout.total || 1 })
  /** The tooltip: its node and where the pointer is (viewport coordinates). */
  const [tip, setTip] = useState<{ x: number; y: number; node: number }>()
  /** The span in view as last drawn (a copy of viewRef for rendering: the minimap's rectangle); setting it redraws. */
  const [shownView, setShownView] = useState({ x0: 0, x1: layout.total || 1 })
  const redraw = () => setShownView({ ...viewRef.current })
  const rows = layout.rows.length
  /** The first depth drawn, for the layout it was chosen in (another layout starts at depth 0). */
  const [depthWindow, setDepthWindow] = useState({ layout, first: 0 })
  const base = depthWindow.layout === layout ? depthWindow.first : 0
  const shown = Math.min(rows, DEPTH_WINDOW)
  const height = shown * ROW
  /** The y of a depth's row on the canvas, with the window starting at depth `first`. */
  const rowY = (depth: number, first = base) => (icicle ? (depth - first) * ROW : height - (depth - first + 1) * ROW)
  /** Moves the window to start at (about) `first`; returns the first depth it then draws. */
  const moveWindow = (first: number): number => {
    const b = Math.max(0, Math.min(first, rows - shown))
    if (b !== base) setDepthWindow({ layout, first: b })
    return b
  }
  /** Moves the window so that `depth` is drawn, and scrolls its row into view; returns the window's first depth. */
  const reveal = (depth: number): number => {
    const b = depth < base || depth >= base + shown ? moveWindow(windowFor(depth, rows)) : base
    const scroller = boxRef.current?.parentElement
    const c = canvasRef.current
    if (!scroller || !c) return b
    const y = c.offsetTop + rowY(depth, b)
    if (y < scroller.scrollTop || y + ROW > scroller.scrollTop + scroller.clientHeight) scroller.scrollTo({ top: Math.max(0, y - scroller.clientHeight / 2) })
    return b
  }

  // Another layout: the whole width again (the depth window restarts with it, above).
  useEffect(() => {
    viewRef.current = { x0: 0, x1: layout.total || 1 }
    setShownView(viewRef.current)
  }, [layout])
  /**
   * Brings node `id` into view: the depth window moved to it, its row scrolled to, and when it
   * would be drawn under 8 px wide, the view zoomed to its caller at the window's first depth.
   * Returns the window's first depth.
   */
  const show = (id: number): number => {
    const b = reveal(layout.depth[id]!)
    const cssW = boxRef.current?.clientWidth ?? 1
    const { x0, x1 } = viewRef.current
    if ((layout.width[id]! / (x1 - x0)) * cssW >= 8) return b
    let a = id
    while (layout.parent[a]! >= 0 && layout.depth[a]! > b) a = layout.parent[a]!
    viewRef.current = { x0: layout.start[a]!, x1: layout.start[a]! + Math.max(layout.width[a]!, 1) }
    redraw()
    return b
  }
  // The effect below runs when the selection or the layout changes, not when the window moves
  // (which would pull it back to the selection): it calls the newest show through a ref.
  const showRef = useRef(show)
  useLayoutEffect(() => {
    showRef.current = show
  })
  // A node selected elsewhere (a table row) is brought into view.
  useEffect(() => {
    if (selected !== undefined && layout.depth[selected] !== undefined) showRef.current(selected)
  }, [selected, layout])
  // A flame graph grows upwards from its root: start scrolled to the bottom, where the root is.
  useEffect(() => {
    const scroller = boxRef.current?.parentElement
    scroller?.scrollTo({ top: icicle ? 0 : scroller.scrollHeight })
  }, [layout, icicle])

  const draw = () => {
    const c = canvasRef.current
    if (!c || !boxRef.current) return
    const cssW = boxRef.current.clientWidth
    const dpr = window.devicePixelRatio || 1
    if (c.width !== Math.round(cssW * dpr) || c.height !== Math.round(height * dpr)) {
      c.width = Math.round(cssW * dpr)
      c.height = Math.round(height * dpr)
      c.style.width = `${cssW}px`
      c.style.height = `${height}px`
    }
    const g = c.getContext('2d')
    if (!g) return
    const theme = flameTheme(boxRef.current)
    g.setTransform(dpr, 0, 0, dpr, 0, 0)
    g.clearRect(0, 0, cssW, height)
    g.font = '11px ui-monospace, monospace'
    g.textBaseline = 'middle'
    const { x0, x1 } = viewRef.current
    const scale = cssW / (x1 - x0)
    // Only the rows inside the scrolled box are drawn.
    const scroller = boxRef.current.parentElement
    const top = scroller ? scroller.getBoundingClientRect().top - c.getBoundingClientRect().top : 0
    const visH = scroller ? scroller.clientHeight : height
    for (let d = base; d < base + shown; d++) {
      const y = rowY(d)
      if (y + ROW < top || y > top + visH + ROW) continue
      const row = layout.rows[d]!
      for (let k = firstVisible(layout, row, x0); k < row.length; k++) {
        const id = row[k]!
        const s = layout.start[id]!
        if (s >= x1) break
        const w = layout.width[id]! * scale
        if (w < 1) continue
        const x = (s - x0) * scale
        const f = layout.frame[id]!
        const dim = matches !== undefined && (f < 0 || !matches.has(f))
        g.fillStyle = dim ? theme.dim : source.colour(id, theme)
        g.fillRect(Math.max(x, -1), y, Math.min(w, cssW + 2) - 0.5, ROW - 1)
        if (id === selected) {
          g.strokeStyle = theme.selected
          g.lineWidth = 2
          g.strokeRect(Math.max(x, 0) + 1, y + 1, Math.min(w, cssW) - 2, ROW - 3)
        }
        if (w > 28) {
          g.fillStyle = dim ? theme.dimText : theme.text
          const vx = Math.max(x, 0) + 3
          const room = Math.min(x + w, cssW) - vx - 3
          let text = source.label(id)
          const cw = 6.7
          if (text.length * cw > room) text = room > 2 * cw ? `${text.slice(0, Math.floor(room / cw) - 1)}…` : ''
          if (text) g.fillText(text, vx, y + ROW / 2)
        }
      }
    }
  }

  useEffect(() => {
    const id = requestAnimationFrame(draw)
    return () => cancelAnimationFrame(id)
  })
  useEffect(() => {
    const scroller = boxRef.current?.parentElement
    const onScroll = () => requestAnimationFrame(draw)
    scroller?.addEventListener('scroll', onScroll)
    window.addEventListener('resize', onScroll)
    return () => {
      scroller?.removeEventListener('scroll', onScroll)
      window.removeEventListener('resize', onScroll)
    }
  })

  /** The node under a point of the canvas (CSS pixels), if any. */
  const hit = (px: number, py: number): number | undefined => {
    const cssW = boxRef.current?.clientWidth ?? 1
    const { x0, x1 } = viewRef.current
    const k0 = icicle ? Math.floor(py / ROW) : Math.floor((height - py) / ROW)
    if (k0 < 0 || k0 >= shown) return undefined
    const row = layout.rows[base + k0]
    if (!row) return undefined
    const x = x0 + (px / cssW) * (x1 - x0)
    const k = firstVisible(layout, row, x)
    const id = row[k]
    return id !== undefined && layout.start[id]! <= x ? id : undefined
  }

  // A hook for tests and scripts: where a frame is drawn (its widest node), in page coordinates;
  // the visible span; the labels of a row. Set as the DOM is (a layout effect): never a render behind.
  useLayoutEffect(() => {
    const hooks = window as unknown as { pyxrayFlame?: unknown; pyxrayFlames?: Record<string, unknown> }
    hooks.pyxrayFlames ??= {}
    hooks.pyxrayFlames[testId] = {
      view: () => ({ ...viewRef.current, total: layout.total }),
      selected: () => (selected === undefined ? undefined : source.label(selected)),
      rowLabels: (depth: number) => Array.from(layout.rows[depth] ?? [], (id) => source.label(id)),
      pointOf(qualname: string): { x: number; y: number } | undefined {
        const c = canvasRef.current
        if (!c) return undefined
        let best = -1
        for (let id = 0; id < layout.frame.length; id++) {
          if (source.label(id) === qualname && (best < 0 || layout.width[id]! > layout.width[best]!)) best = id
        }
        if (best < 0) return undefined
        // Outside the depth window or too narrow: bring it into view (drawn on the next frame).
        const first = show(best)
        const r = c.getBoundingClientRect()
        const cssW = r.width
        const { x0, x1 } = viewRef.current
        const a = Math.max(0, ((layout.start[best]! - x0) / (x1 - x0)) * cssW)
        const b = Math.min(cssW, ((layout.start[best]! + layout.width[best]! - x0) / (x1 - x0)) * cssW)
        return { x: r.left + (a + b) / 2, y: r.top + rowY(layout.depth[best]!, first) + ROW / 2 }
      },
    }
    if (testId === 'flamegraph') hooks.pyxrayFlame = hooks.pyxrayFlames[testId]
  })

  const dragRef = useRef<{ x: number; x0: number; x1: number; moved: boolean } | undefined>(undefined)
  const local = (e: MouseEvent) => {
    const r = canvasRef.current!.getBoundingClientRect()
    return { px: e.clientX - r.left, py: e.clientY - r.top }
  }
  const zoomTo = (a: number, b: number) => {
    const min = Math.max(1, layout.total / 1e9)
    if (b - a < min) b = a + min
    viewRef.current = { x0: Math.max(0, a), x1: Math.min(layout.total || 1, b) }
    redraw()
  }
  /** Zooms to a node (a double click, or Enter on the selected node), moving the depth window to it. */
  const zoomToNode = (id: number) => {
    zoomTo(layout.start[id]!, layout.start[id]! + layout.width[id]!)
    if (rows > DEPTH_WINDOW) moveWindow(windowFor(layout.depth[id]!, rows))
  }
  /**
   * The keyboard on the focused graph: the arrows move the selection to the caller (towards the
   * root), to the first callee (away from it), or to the node before or after in its row; Enter
   * zooms to the selected node. Without a selection an arrow selects the root.
   */
  const onKey = (e: KeyboardEvent) => {
    const id = selected !== undefined && layout.depth[selected] !== undefined ? selected : undefined
    if (e.key === 'Escape') {
      zoomTo(0, layout.total || 1)
      e.preventDefault()
      return
    }
    if (e.key === 'Enter') {
      if (id === undefined) return
      zoomToNode(id)
      e.preventDefault()
      return
    }
    const towardsRoot = icicle ? 'ArrowUp' : 'ArrowDown'
    const awayFromRoot = icicle ? 'ArrowDown' : 'ArrowUp'
    if (![towardsRoot, awayFromRoot, 'ArrowLeft', 'ArrowRight'].includes(e.key)) return
    e.preventDefault()
    if (id === undefined) {
      if (layout.frame.length > 0) onSelect(0)
      return
    }
    let next: number | undefined
    if (e.key === towardsRoot) next = layout.parent[id]! >= 0 ? layout.parent[id] : undefined
    else if (e.key === awayFromRoot) next = layout.parent[id + 1] === id ? id + 1 : undefined
    else {
      const row = layout.rows[layout.depth[id]!]!
      next = row[row.indexOf(id) + (e.key === 'ArrowLeft' ? -1 : 1)]
    }
    if (next !== undefined) onSelect(next)
  }
  const step = Math.floor(DEPTH_WINDOW / 2)
  const depthBar =
    rows > DEPTH_WINDOW ? (
      <div class="depth-window" data-testid="flame-depth">
        <span>
          depths {base}–{base + shown - 1} of {rows - 1} ({(rows - shown).toLocaleString('en-US')} levels not drawn)
        </span>{' '}
        <button data-testid="flame-shallower" disabled={base === 0} onClick={() => moveWindow(base - step)}>
          ▲ shallower
        </button>{' '}
        <button data-testid="flame-deeper" disabled={base + shown >= rows} onClick={() => moveWindow(base + step)}>
          ▼ deeper
        </button>{' '}
        <button onClick={() => moveWindow(0)}>top</button>{' '}
        <button onClick={() => moveWindow(rows - shown)}>bottom</button>
      </div>
    ) : null
  return (
    <div class="flame-box" ref={boxRef} style={{ background: 'inherit' }}>
      <div style={{ position: 'sticky', top: 0, zIndex: 1, background: 'inherit' }}>
        <div style={{ display: 'flex', alignItems: 'flex-start', gap: '6px' }}>
          <div style={{ flex: '1 1 auto', minWidth: 0 }}>{minimap ? <Minimap source={source} view={shownView} icicle={icicle} themeVersion={themeVersion} testId={`${testId}-minimap`} onMove={(a, b) => zoomTo(a, b)} /> : null}</div>
          <button type="button" class="reset" style={{ position: 'static', flex: '0 0 auto', margin: '2px 4px' }} onClick={() => zoomTo(0, layout.total || 1)}>
            reset zoom
          </button>
        </div>
        {depthBar}
      </div>
      <canvas
        ref={canvasRef}
        style={{ height: `${height}px` }}
        data-testid={testId}
        tabIndex={0}
        aria-label={`${title}: the arrow keys move the selection between callers, callees and neighbours, Enter zooms to it, Escape shows all`}
        onWheel={(e) => {
          e.preventDefault()
          const { px } = local(e)
          const cssW = boxRef.current!.clientWidth
          const { x0, x1 } = viewRef.current
          const at = x0 + (px / cssW) * (x1 - x0)
          const f = Math.exp(e.deltaY * 0.002)
          zoomTo(at - (at - x0) * f, at + (x1 - at) * f)
        }}
        onMouseDown={(e) => {
          dragRef.current = { x: e.clientX, ...viewRef.current, moved: false }
        }}
        onMouseMove={(e) => {
          const { px, py } = local(e)
          const g = dragRef.current
          if (g && e.buttons === 1) {
            const dx = e.clientX - g.x
            if (Math.abs(dx) > 3) g.moved = true
            if (g.moved) {
              const span = g.x1 - g.x0
              const shift = (-dx / boxRef.current!.clientWidth) * span
              const a = Math.min(Math.max(0, g.x0 + shift), Math.max(0, (layout.total || 1) - span))
              viewRef.current = { x0: a, x1: a + span }
              redraw()
            }
          }
          const id = hit(px, py)
          setTip(id === undefined ? undefined : { x: e.clientX, y: e.clientY, node: id })
        }}
        onMouseLeave={() => setTip(undefined)}
        onMouseUp={(e) => {
          const g = dragRef.current
          dragRef.current = undefined
          if (g?.moved) return
          const { px, py } = local(e)
          const id = hit(px, py)
          if (id !== undefined) onSelect(id)
        }}
        onDblClick={(e) => {
          const { px, py } = local(e)
          const id = hit(px, py)
          if (id !== undefined) zoomToNode(id)
        }}
        onKeyDown={onKey}
      />
      {tip && layout.depth[tip.node] !== undefined ? (
        <div class="tooltip" data-testid="flame-tooltip" style={{ left: `${Math.min(tip.x + 12, window.innerWidth - 300)}px`, top: `${Math.min(tip.y + 14, window.innerHeight - 130)}px` }}>
          {source.tooltip(tip.node)}
        </div>
      ) : null}
      <div data-testid={`${testId}-focus`} aria-live="polite" style={SR_ONLY}>
        {selected !== undefined && layout.depth[selected] !== undefined ? source.describe(selected) : ''}
      </div>
    </div>
  )
}

/** Visually hidden, read by screen readers. */
const SR_ONLY = { position: 'absolute', width: '1px', height: '1px', overflow: 'hidden', clip: 'rect(0 0 0 0)', whiteSpace: 'nowrap' } as const

/**
 * The whole graph in a strip (the first depths that fit, one or more pixels a row) with the span
 * in view outlined; a click or drag centres the view there, the arrow keys move it.
 */
function Minimap({ source, view, icicle, themeVersion, testId, onMove }: { source: FlameDataSource; view: { readonly x0: number; readonly x1: number }; icicle: boolean; themeVersion: number; testId: string; onMove: (x0: number, x1: number) => void }) {
  const ref = useRef<HTMLCanvasElement>(null)
  const layout = source.layout
  const total = layout.total || 1
  const [width, setWidth] = useState(0)
  useEffect(() => {
    const c = ref.current
    if (!c) return
    const measure = () => setWidth(c.clientWidth)
    measure()
    // The strip's width follows its box (a pane resized, a layout that settles after mounting).
    if (typeof ResizeObserver === 'function') {
      const observer = new ResizeObserver(measure)
      observer.observe(c)
      return () => observer.disconnect()
    }
    window.addEventListener('resize', measure)
    return () => window.removeEventListener('resize', measure)
  }, [])
  // The strip is drawn when the graph or the size changes, not on every pan.
  useEffect(() => {
    const c = ref.current
    const g = c?.getContext('2d')
    if (!c || !g || !width) return
    const theme = flameTheme(c)
    const dpr = window.devicePixelRatio || 1
    c.width = Math.round(width * dpr)
    c.height = Math.round(MINIMAP_H * dpr)
    g.setTransform(dpr, 0, 0, dpr, 0, 0)
    g.clearRect(0, 0, width, MINIMAP_H)
    const rows = Math.min(layout.rows.length, MINIMAP_H)
    const rh = MINIMAP_H / Math.max(rows, 1)
    const scale = width / total
    for (let d = 0; d < rows; d++) {
      const y = icicle ? d * rh : MINIMAP_H - (d + 1) * rh
      for (const id of layout.rows[d]!) {
        const w = layout.width[id]! * scale
        if (w < 0.5) continue
        g.fillStyle = source.colour(id, theme)
        g.fillRect(layout.start[id]! * scale, y, Math.max(w - 0.3, 0.5), Math.max(rh - 0.2, 0.8))
      }
    }
  }, [source, width, icicle, layout, total, themeVersion])
  const { x0, x1 } = view
  const centreAt = (clientX: number) => {
    const c = ref.current
    if (!c) return
    const r = c.getBoundingClientRect()
    const span = x1 - x0
    const at = ((clientX - r.left) / r.width) * total
    const a = Math.min(Math.max(0, at - span / 2), Math.max(0, total - span))
    onMove(a, a + span)
  }
  const full = x0 <= 0 && x1 >= total
  return (
    <div style={{ position: 'relative', height: `${MINIMAP_H}px`, background: 'inherit' }}>
      <canvas
        ref={ref}
        data-testid={testId}
        tabIndex={0}
        role="slider"
        aria-label="minimap: the whole graph; the outlined part is in view. Click or drag to move there, or use the arrow keys"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(((x0 + x1) / 2 / total) * 100)}
        style={{ display: 'block', width: '100%', height: `${MINIMAP_H}px`, cursor: 'pointer' }}
        onMouseDown={(e) => centreAt(e.clientX)}
        onMouseMove={(e) => {
          if (e.buttons === 1) centreAt(e.clientX)
        }}
        onKeyDown={(e) => {
          if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return
          e.preventDefault()
          const span = x1 - x0
          const step = (e.key === 'ArrowLeft' ? -1 : 1) * span * 0.25
          const a = Math.min(Math.max(0, x0 + step), Math.max(0, total - span))
          onMove(a, a + span)
        }}
      />
      {full ? null : (
        <div
          data-testid={`${testId}-view`}
          style={{ position: 'absolute', top: 0, height: `${MINIMAP_H - 2}px`, left: `${(x0 / total) * 100}%`, width: `${((x1 - x0) / total) * 100}%`, border: '1px solid currentColor', background: 'rgba(127,127,127,0.25)', pointerEvents: 'none', boxSizing: 'border-box' }}
        />
      )}
    </div>
  )
}
