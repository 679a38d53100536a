/**
 * The agent's `measure` request (python/pyxray/_measure.py): timings, executed instruction counts
 * and the adaptive (specialized) code of snippets run in a runtime. Used by `pyxray compare` and
 * `pyxray dis --adaptive`.
 */
import type { MeasureResult } from '../bytecode/compare/index.js'
import { fromBase64, type PythonRuntime } from './types.js'

/** One subject of the agent's `measure` request. */
export interface MeasureSubject {
  readonly source: string
  readonly filename: string
  readonly setup: string | null
  readonly call: string | null
  readonly optimize: number
}

/** Options of {@link measure}. */
export interface MeasureOptions {
  readonly timing: boolean
  readonly counts: boolean
  readonly adaptive: boolean
  readonly repeat?: number
  readonly minTime?: number
  readonly warmup?: number
}

interface RawMeasure {
  readonly subjects: readonly {
    readonly timing: MeasureResult['timing']
    readonly counts: MeasureResult['counts']
    readonly adaptive?: readonly { readonly index: number; readonly code: string }[] | null
  }[]
}

/** Runs the agent's `measure` in a runtime; adaptive code comes back decoded from base64. */
export async function measure(runtime: PythonRuntime, subjects: readonly MeasureSubject[], o: MeasureOptions): Promise<MeasureResult[]> {
  const raw = await runtime.request<RawMeasure>(
    'measure',
    {
      subjects,
      timing: o.timing,
      counts: o.counts,
      adaptive: o.adaptive,
      ...(o.repeat !== undefined ? { repeat: o.repeat } : {}),
      ...(o.minTime !== undefined ? { minTime: o.minTime } : {}),
      ...(o.warmup !== undefined ? { warmup: o.warmup } : {}),
    },
    { timeoutMs: 600_000 },
  )
  return raw.subjects.map((s) => ({
    timing: s.timing,
    counts: s.counts,
    adaptive: s.adaptive ? s.adaptive.map((x) => ({ index: x.index, code: fromBase64(x.code) })) : null,
  }))
}

