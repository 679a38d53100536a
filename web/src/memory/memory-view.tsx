/**
 * The Memory tab: memory documents (`pyxray mem leaks|size|path|lines|growth … --format json`),
 * opened from files or offered by `pyxray serve`, one card per document — a leak check's verdict,
 * growth curve and top growth lines; a deep size's breakdown by type; retention paths drawn as
 * chains from their root; line-level memory next to the source; type growth.
 */
import { Fragment } from 'preact'
import { useCallback, useEffect, useState } from 'preact/hooks'
import { type GrowthResult, type LeaksResult, type LinesResult, type MemoryDocument, MemoryDocumentError, parseMemoryDocument, type PathResult, type SizeResult } from '../../../src/profile/memory-document.js'
import { formatBytes } from '../../../src/profile/units.js'
import type { Backend } from '../backend.js'
import { FileButton } from '../ui.js'

/** An opened document. */
interface Opened {
  readonly name: string
  readonly doc: MemoryDocument
}

const perIteration = (b: number) => `${b > 0 ? '+' : ''}${formatBytes(b)}/iteration`

/** A bar of `share` (0–1) of the cell. */
function Bar({ share }: { share: number }) {
  return <span class="bar" style={{ width: `${Math.max(0, Math.min(1, share)) * 100}%` }} />
}

/** Round tick values from lo to hi (about `n` of them): 1, 2 or 5 × a power of ten apart. */
export function ticks(lo: number, hi: number, n: number): number[] {
  const span = hi - lo
  if (!(span > 0) || !Number.isFinite(span)) return [lo]
  const raw = span / Math.max(1, n)
  const p = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p
  const out: number[] = []
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v)
  return out
}

/**
 * Traced bytes after each iteration, as a line chart with axes: bytes (binary units) up the left,
 * the iteration along the bottom.
 */
function GrowthCurve({ totals }: { totals: readonly number[] }) {
  if (totals.length < 2) return null
  const w = 360
  const h = 150
  const left = 64
  const right = 8
  const top = 8
  const bottom = 30
  const pw = w - left - right
  const ph = h - top - bottom
  const lo = Math.min(...totals)
  const hi = Math.max(...totals)
  const pad = hi > lo ? 0 : Math.max(1, Math.abs(hi) * 0.05)
  const y0 = lo - pad
  const y1 = hi + pad
  const x = (i: number) => left + (i / (totals.length - 1)) * pw
  const y = (v: number) => top + ph - ((v - y0) / (y1 - y0)) * ph
  const pts = totals.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')
  const yTicks = ticks(y0, y1, 4)
  const xTicks = ticks(1, totals.length, Math.min(5, totals.length - 1)).filter((t) => Number.isInteger(t))
  return (
    <svg class="curve" width={w} height={h} viewBox={`0 0 ${w} ${h}`} data-testid="leak-curve" role="img" aria-label={`traced bytes after each of ${totals.length} iterations: from ${formatBytes(totals[0]!)} to ${formatBytes(totals[totals.length - 1]!)}`}>
      {yTicks.map((t) => (
        <g key={`y${t}`}>
          <line class="grid-line" x1={left} x2={w - right} y1={y(t)} y2={y(t)} />
          <text x={left - 4} y={y(t) + 3} text-anchor="end" data-testid="curve-y-tick">
            {formatBytes(t)}
          </text>
        </g>
      ))}
      {xTicks.map((t) => (
        <text key={`x${t}`} x={x(t - 1)} y={top + ph + 13} text-anchor="middle" data-testid="curve-x-tick">
          {t}
        </text>
      ))}
      <line class="axis" x1={left} x2={left} y1={top} y2={top + ph} />
      <line class="axis" x1={left} x2={w - right} y1={top + ph} y2={top + ph} />
      <text x={left + pw / 2} y={h - 3} text-anchor="middle">
        iteration
      </text>
      <polyline class="line" points={pts} />
    </svg>
  )
}

function Leaks({ r }: { r: LeaksResult }) {
  const top = r.sites.slice(0, 15)
  const most = Math.max(1, ...top.map((s) => Math.abs(s.bytesPerIteration)))
  return (
    <>
      <div class={`verdict ${r.leak ? 'leak' : 'clean'}`} data-testid="leak-verdict">
        {r.verdict}
      </div>
      <div class="muted">
        {r.iterations} iterations after {r.warmup} warm-up · net {perIteration(r.bytesPerIteration)} · slope {perIteration(r.slopeBytesPerIteration)} (late {perIteration(r.lateSlopeBytesPerIteration)}) · fit r² {r.r2.toFixed(3)} · a leak is ≥ {formatBytes(r.minGrowthBytes)}/iteration
      </div>
      <GrowthCurve totals={r.totals} />
      <table class="grid" data-testid="leak-sites">
        <thead>
          <tr>
            <th class="wide">line</th>
            <th>source</th>
            <th class="num wide">per iteration</th>
            <th class="bar"><span class="visually-hidden">share</span></th>
            <th class="num">blocks/iteration</th>
            <th class="num">total</th>
          </tr>
        </thead>
        <tbody>
          {top.map((s, k) => (
            <tr key={k}>
              <td title={`${s.file ?? ''}:${s.line}`}>
                {s.file?.split('/').pop()}:{s.line}
              </td>
              <td class="code">{s.source}</td>
              <td class="num">{`${s.bytesPerIteration > 0 ? '+' : ''}${formatBytes(s.bytesPerIteration)}`}</td>
              <td class="barcell">
                <Bar share={Math.abs(s.bytesPerIteration) / most} />
              </td>
              <td class="num">{s.countPerIteration.toFixed(1)}</td>
              <td class="num">{formatBytes(s.totalBytes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  )
}

function Size({ r }: { r: SizeResult }) {
  return (
    <>
      <div class="verdict" data-testid="size-total">
        {r.expression ? <code>{r.expression}</code> : null} → {r.type}: deep {formatBytes(r.totalBytes)} ({r.objects} objects), shallow {formatBytes(r.shallowBytes)}
      </div>
      <table class="grid" data-testid="size-types">
        <thead>
          <tr>
            <th>type</th>
            <th class="num">objects</th>
            <th class="num wide">bytes</th>
            <th class="bar"><span class="visually-hidden">share</span></th>
          </tr>
        </thead>
        <tbody>
          {r.byType.map((t) => (
            <tr key={t.type}>
              <td>{t.type}</td>
              <td class="num">{t.count}</td>
              <td class="num">
                {formatBytes(t.bytes)} <span class="muted">{r.totalBytes ? `${((t.bytes / r.totalBytes) * 100).toFixed(1)}%` : ''}</span>
              </td>
              <td class="barcell">
                <Bar share={r.totalBytes ? t.bytes / r.totalBytes : 0} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {r.skipped.length ? <div class="muted">not followed: {r.skipped.map((s) => `${s.type} ×${s.count}`).join(', ')}</div> : null}
    </>
  )
}

function Paths({ r }: { r: PathResult }) {
  return (
    <>
      <div class="verdict">
        {r.instances} live {r.type} instance{r.instances === 1 ? '' : 's'}
      </div>
      {r.paths.map((p, k) => (
        <div key={k} class="chain" data-testid="retention-chain">
          {p.found && p.root ? (
            <>
              <span class="link root" title={[p.root.file, p.root.line].filter(Boolean).join(':')}>
                <small>{p.root.kind}</small>
                <b>{[p.root.module, p.root.class, p.root.function].filter(Boolean).join('.')}{p.root.module || p.root.class || p.root.function ? '.' : ''}{p.root.name}</b>
              </span>
              {(p.steps ?? []).map((s, i) => (
                <Fragment key={i}>
                  <span class="edge">
                    {s.edge} →
                  </span>
                  <span class={`link${i === (p.steps?.length ?? 0) - 1 ? ' target' : ''}`} title={s.repr}>
                    <small>{s.type}</small>
                    <span class="repr">{s.repr.length > 48 ? `${s.repr.slice(0, 47)}…` : s.repr}</span>
                  </span>
                </Fragment>
              ))}
            </>
          ) : (
            <span class="muted">
              {p.target.type} #{p.target.id}: no path from a root found
            </span>
          )}
        </div>
      ))}
    </>
  )
}

function Lines({ r }: { r: LinesResult }) {
  const most = Math.max(1, ...r.lines.map((l) => Math.abs(l.netBytes)))
  return (
    <>
      <div class="verdict" data-testid="lines-verdict">
        {r.function} ({r.file.split('/').pop()}:{r.firstLine}) · {r.calls} call{r.calls === 1 ? '' : 's'} · net {formatBytes(r.totalNetBytes)} · peak {formatBytes(r.peakBytes)}
      </div>
      <table class="grid" data-testid="lines-table">
        <thead>
          <tr>
            <th class="num narrow">line</th>
            <th>source</th>
            <th class="num">hits</th>
            <th class="num">net</th>
            <th class="bar"><span class="visually-hidden">share</span></th>
            <th class="num">peak</th>
          </tr>
        </thead>
        <tbody>
          {r.lines.map((l) => (
            <tr key={l.line} data-line={l.line}>
              <td class="num">{l.line}</td>
              <td class="code">{l.source}</td>
              <td class="num">{l.hits}</td>
              <td class="num">{formatBytes(l.netBytes)}</td>
              <td class="barcell">
                <Bar share={Math.abs(l.netBytes) / most} />
              </td>
              <td class="num">{formatBytes(l.peakBytes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  )
}

function Growth({ r }: { r: GrowthResult }) {
  return (
    <>
      <div class="verdict" data-testid="growth-verdict">
        objects by type that grew over {r.iterations} iteration(s): {r.totalDelta >= 0 ? '+' : ''}
        {r.totalDelta}
      </div>
      <table class="grid" data-testid="growth-table">
        <thead>
          <tr>
            <th>type</th>
            <th class="num">count</th>
            <th class="num">Δ</th>
          </tr>
        </thead>
        <tbody>
          {r.rows.map((g) => (
            <tr key={g.type}>
              <td>{g.type}</td>
              <td class="num">{g.count}</td>
              <td class="num">+{g.delta}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  )
}

/** One document's card. */
export function MemoryCard({ name, doc }: Opened) {
  const body = (() => {
    switch (doc.kind) {
      case 'leaks':
        return <Leaks r={doc.leaks} />
      case 'size':
        return <Size r={doc.size} />
      case 'path':
        return <Paths r={doc.path} />
      case 'lines':
        return <Lines r={doc.lines} />
      case 'growth':
        return <Growth r={doc.growth} />
      case 'error':
        return (
          <>
            <div class="error" data-testid="memory-error-message">{`${doc.error.code}: ${doc.error.message}`}</div>
            {doc.error.command ? <div class="muted">pyxray mem {doc.error.command} stopped with this error; nothing was measured.</div> : null}
          </>
        )
    }
  })()
  return (
    <section class="card" data-testid={`memory-${doc.kind}`}>
      <h3>
        {doc.kind === 'leaks' ? 'leak check' : doc.kind === 'size' ? 'deep size' : doc.kind === 'path' ? 'retention paths' : doc.kind === 'lines' ? 'line memory' : doc.kind === 'growth' ? 'type growth' : 'error'}{' '}
        <span class="muted">
          {name} · {doc.metadata.implementation} {doc.metadata.python}
        </span>
      </h3>
      {body}
    </section>
  )
}

/** The tab. */
export function MemoryView({ backend }: { backend: Backend }) {
  const [opened, setOpened] = useState<Opened[]>([])
  const [error, setError] = useState<string>()
  /** Opens one document, in place of one of the same name. */
  const openText = useCallback((text: string, name: string) => {
    try {
      const o: Opened = { name, doc: parseMemoryDocument(text) }
      setOpened((list) => [...list.filter((x) => x.name !== o.name), o])
      setError(undefined)
    } catch (e) {
      setError(`${name}: ${e instanceof MemoryDocumentError ? e.message : String(e)} (write one with pyxray mem leaks|size|path|lines|growth … --format json -o FILE)`)
    }
  }, [])
  const openFiles = (files: FileList | readonly File[] | null | undefined) => {
    for (const f of Array.from(files ?? [])) f.text().then((t) => openText(t, f.name), (e: Error) => setError(`${f.name}: ${e.message}`))
  }
  useEffect(() => {
    backend.profiles().then(
      (ps) => {
        for (const p of ps.filter((x) => x.kind === 'memory')) {
          backend.loadMemoryText?.(p.id).then((t) => openText(t, p.name), (e: Error) => setError(e.message))
        }
      },
      (e: Error) => setError(e.message),
    )
  }, [backend, openText])
  return (
    <div
      class="viewer memory-view"
      data-testid="memory-view"
      onDragOver={(e) => e.preventDefault()}
      onDrop={(e) => {
        e.preventDefault()
        openFiles(e.dataTransfer?.files)
      }}
    >
      <div class="toolbar">
        <FileButton label="open memory documents…" accept=".json,application/json" multiple testId="memory-file" onFiles={openFiles} />
        {opened.length ? (
          <button type="button" onClick={() => setOpened([])}>
            close all
          </button>
        ) : null}
      </div>
      {error ? (
        <div class="error" role="alert" data-testid="memory-load-error">
          {error}
        </div>
      ) : null}
      {opened.length === 0 ? (
        <div class="drop-hint">Open or drop memory documents: pyxray mem leaks script.py --call 'f()' --format json -o leaks.json (also size, path, lines, growth).</div>
      ) : (
        // A scrolling region: focusable, so the keyboard can scroll it.
        // eslint-disable-next-line jsx-a11y/no-noninteractive-tabindex
        <div class="cards" tabIndex={0} role="region" aria-label="memory documents">
          {opened.map((o) => (
            <MemoryCard key={o.name} {...o} />
          ))}
        </div>
      )}
    </div>
  )
}
