/**
 * Tachyon's `--jsonl`: one JSON record per line — `meta` (sample_interval_usec, mode), then
 * `string_table` and `frame_table` chunks, `agg` chunks of per-location `self` and `cumulative`
 * sample counts, and `end` (samples_total). Unknown record types and fields are ignored, as its
 * documentation asks. The file has no stacks and no callers: every function is put at the top
 * level of one tree with its self samples (exact per function); cumulative counts are not kept.
 */
import { decodeUtf8 } from '../../marshal/utf8.js'
import type { ProfileDocument } from '../document.js'
import { type ImportedFrame, type ImportOptions, ProfileBuilder } from './build.js'
import { ImportError } from './errors.js'

/** Whether the text's first line is a Tachyon jsonl meta record. */
export function looksTachyonJsonl(text: string): boolean {
  return /^\{"type":\s*"meta"/.test(text.slice(0, 200)) && /"sample_interval_usec"/.test(text.slice(0, text.indexOf('\n') >>> 0 || 4096))
}

type Rec = Record<string, unknown>

const count = (v: unknown, what: string, line: number): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ImportError('IMPORT_CORRUPT', `jsonl line ${line}: ${what} is not a count`, { line })
  return v
}

/** Reads Tachyon's jsonl (see the module comment). */
export function importTachyonJsonl(bytes: Uint8Array, options: ImportOptions = {}): ProfileDocument {
  const text = decodeUtf8(bytes, 0, bytes.length)
  if (text === undefined) throw new ImportError('IMPORT_CORRUPT', 'jsonl must be UTF-8 text; this file is not')
  const b = new ProfileBuilder(bytes.length)
  const strings = new Map<number, string>()
  const frames = new Map<number, { path: number; func: number }>()
  const self = new Map<number, number>()
  let intervalUs: number | undefined
  let mode: string | undefined
  let total: number | undefined
  let ended = false
  text.split('\n').forEach((raw, i) => {
    const line = i + 1
    if (raw.trim() === '') return
    let rec: Rec
    try {
      rec = JSON.parse(raw) as Rec
    } catch {
      throw new ImportError('IMPORT_CORRUPT', `jsonl line ${line} is not JSON`, { line })
    }
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) throw new ImportError('IMPORT_CORRUPT', `jsonl line ${line} is not a record`, { line })
    const list = (field: string): Rec[] => {
      const v = rec[field]
      if (!Array.isArray(v) || v.some((x) => x === null || typeof x !== 'object')) throw new ImportError('IMPORT_CORRUPT', `jsonl line ${line}: ${field} is not a list of records`, { line })
      return v as Rec[]
    }
    b.spend(1)
    switch (rec.type) {
      case 'meta':
        intervalUs = count(rec.sample_interval_usec, 'sample_interval_usec', line)
        if (typeof rec.mode === 'string') mode = rec.mode
        break
      case 'string_table':
        for (const s of list('strings')) {
          if (typeof s.value !== 'string') throw new ImportError('IMPORT_CORRUPT', `jsonl line ${line}: a string without a value`, { line })
          strings.set(count(s.str_id, 'str_id', line), s.value)
        }
        break
      case 'frame_table':
        for (const f of list('frames')) frames.set(count(f.frame_id, 'frame_id', line), { path: count(f.path_str_id, 'path_str_id', line), func: count(f.func_str_id, 'func_str_id', line) })
        break
      case 'agg':
        if (rec.kind !== 'frame') break
        for (const e of list('entries')) {
          const id = count(e.frame_id, 'frame_id', line)
          self.set(id, (self.get(id) ?? 0) + count(e.self, 'self', line))
        }
        break
      case 'end':
        total = count(rec.samples_total, 'samples_total', line)
        ended = true
        break
      default:
    }
  })
  if (intervalUs === undefined) throw new ImportError('IMPORT_CORRUPT', 'jsonl without a meta record (sample_interval_usec): not a Tachyon jsonl file')
  const thread = b.thread('all', undefined, 'all threads', true)
  for (const [id, n] of self) {
    if (n === 0) continue
    const f = frames.get(id)
    const file = f && strings.get(f.path)
    const func = f && strings.get(f.func)
    if (file === undefined || func === undefined) throw new ImportError('IMPORT_CORRUPT', `jsonl: frame ${id} is not in the frame table, or names a string that is not in the string table`)
    const frame: ImportedFrame = file === '~' || file === '' ? { file: '<built-in>', qualname: func, kind: 'builtin', module: func === '<GC>' ? 'gc' : 'native' } : { file, qualname: func }
    b.add(thread, [b.frame(frame)], n)
  }
  const warnings = ["Tachyon's jsonl holds per-line counts, not stacks: every function is at the top level with its self samples (exact); its cumulative samples are not in the tree — import --binary, --collapsed or --pstats output for call paths"]
  if (!ended) warnings.push('the file has no end record: it may be cut short')
  if (total !== undefined && total !== b.weight) warnings.push(`the end record counts ${total} samples, the self counts add up to ${b.weight}`)
  if (mode !== undefined && mode !== 'wall' && mode !== 'cpu') warnings.push(`sampled in Tachyon's ${mode} mode`)
  const interval = intervalUs > 0 ? intervalUs : (options.intervalUs ?? 1000)
  return b.finish({
    source: { format: 'tachyon-jsonl', tool: 'tachyon' },
    weightNs: interval * 1000,
    samplesAreCounts: true,
    intervalNs: interval * 1000,
    ...(options.startTime !== undefined ? { startTime: options.startTime } : {}),
    clock: mode === 'cpu' || mode === 'all' ? 'cpu' : 'wall',
    ...(total !== undefined ? { samples: total } : {}),
    warnings,
  })
}
