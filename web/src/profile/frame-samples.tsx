/**
 * A sampled function's heatmap: where inside it the samples were (profile documents version 3),
 * by source line and by bytecode instruction (opname, argument, specialised form, source span).
 * Needs no source file: the agent described every sampled instruction.
 */
import type { ProfileDocument } from '../../../src/profile/document.js'
import { type FrameSamples as Samples, frameSamples } from '../../../src/profile/report-lines.js'

/** The background of a row or line holding `share` (0–1) of the function's samples. */
export function heat(share: number): string | undefined {
  return share > 0 ? `rgba(255, 96, 0, ${(0.08 + 0.5 * share).toFixed(3)})` : undefined
}

const pct = (n: number, total: number) => `${((100 * n) / total).toFixed(1)}%`

/** The samples of `frameIndex`, or undefined when it has none (trace mode, older documents). */
export function samplesOf(doc: ProfileDocument, frameIndex: number): Samples | undefined {
  if (frameIndex < 0 || doc.metadata.mode !== 'sample') return undefined
  const s = frameSamples(doc, frameIndex)
  return s.total > 0 ? s : undefined
}

/** The panel: lines, then instructions, each with its share of the function's samples. */
export function FrameSamples({ samples }: { samples: Samples }) {
  const lines = [...samples.lines].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 10)
  const total = samples.total
  return (
    <div class="frame-samples" data-testid="frame-samples">
      <div class="muted">{total} samples with this function innermost</div>
      {lines.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>line</th>
              <th>share</th>
            </tr>
          </thead>
          <tbody>
            {lines.map(([line, n]) => (
              <tr key={line} data-testid="sample-line" style={{ background: heat(n / total) }}>
                <td>{line}</td>
                <td>{pct(n, total)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {samples.instructions.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>offset</th>
              <th>instruction</th>
              <th>where</th>
              <th>share</th>
            </tr>
          </thead>
          <tbody>
            {samples.instructions.slice(0, 10).map(({ offset, samples: n, info }) => (
              <tr key={offset} data-testid="sample-instruction" style={{ background: heat(n / total) }}>
                <td>{offset}</td>
                <td>
                  {info ? `${info.opname}${info.argrepr ? ` ${info.argrepr}` : ''}` : '?'}
                  {info?.specialized ? <span class="muted"> → {info.specialized}</span> : null}
                </td>
                <td>{info?.line !== undefined ? `${info.line}${info.col !== undefined && info.endCol !== undefined ? `:${info.col}-${info.endCol}` : ''}` : ''}</td>
                <td>{pct(n, total)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  )
}
