/**
 * pprof (profile.proto, gzipped or not) as a pyxray profile document, decoded with npm
 * `pprof-format`. Any producer: Go's runtime/pprof and `go tool pprof -proto`, Pyroscope's and
 * Parca's downloads, Node's pprof, pyxray's own export (./export.ts).
 *
 * - One node per distinct stack (per thread: the `thread` label, else one thread "main"); a
 *   location with inlined lines gives one frame per line, the caller last (as profile.proto says).
 * - Values: `sampleType` picks the sample type by name (default: the file's default_sample_type,
 *   else the first). Times come from the chosen type when its unit is nanoseconds, else from the
 *   file's first nanoseconds type, else the chosen counts × the period (nanoseconds) or × 1 ms with
 *   a warning; samples from the chosen type when it is a count, else from `samples/count`.
 * - Files pyxray wrote from a trace profile (comment `pyxray.mode=trace`, sample types
 *   `calls/count` and `CLOCK/nanoseconds`) come back in trace mode with their calls: the round
 *   trip keeps every frame, call count and self/total time.
 * - Functions: (name, file, start line) as in the file; builtins pyxray wrote (`<built-in>`) come
 *   back as builtins with their module.
 * - Budget: work (stack frames walked, nodes) is bounded by 16 MiB + 64 × the decoded size, and
 *   a gzipped file may expand to at most {@link PPROF_MAX_BYTES}.
 */
import { gunzipSync } from 'node:zlib'
import { Profile } from 'pprof-format'
import { outputBudget } from '../marshal/limits.js'
import type { ProfileDocument, ProfileFrame, ProfileMetadata, ProfileNode, ProfileThread } from '../profile/document.js'
import { PROFILE_VERSION } from '../profile/document.js'
import { ImportError } from '../profile/import/index.js'

/** The most a gzipped pprof may expand to. */
export const PPROF_MAX_BYTES = 1 << 30

/** Options of {@link importPprof}. */
export interface PprofImportOptions {
  /** The sample type to read, by name (`cpu`, `samples`, `alloc_space`…). */
  readonly sampleType?: string
  /** metadata.startTime when the file has no time_nanos (ISO 8601). */
  readonly startTime?: string
}

const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b

/** A number of the decoder (it gives bigints past 28 bits), as a JS number; int64 negatives kept. */
function num(x: number | bigint | undefined): number {
  if (x === undefined) return 0
  if (typeof x === 'number') return x
  return Number(BigInt.asIntN(64, x))
}

/** The decoded profile, or undefined when the bytes are not pprof. */
function decode(bytes: Uint8Array): Profile | undefined {
  let raw = bytes
  if (isGzip(bytes)) {
    try {
      raw = gunzipSync(bytes, { maxOutputLength: PPROF_MAX_BYTES })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new ImportError('IMPORT_LIMIT', `the gzipped data expands past ${PPROF_MAX_BYTES} bytes: not a profile pyxray reads`)
      return undefined
    }
  }
  if (!startsLikeProfile(raw)) return undefined
  let p: Profile
  try {
    p = Profile.decode(raw)
  } catch {
    return undefined
  }
  if (p.stringTable.strings[0] !== '' || p.sampleType.length === 0) return undefined
  return p
}

/** Whether the first byte is a field of profile.proto (1–15) as a varint or length-delimited value. */
function startsLikeProfile(raw: Uint8Array): boolean {
  if (raw.length === 0) return false
  const field = raw[0]! >> 3
  const wire = raw[0]! & 7
  return field >= 1 && field <= 15 && (wire === 0 || wire === 2)
}

/** Whether `bytes` are a pprof profile (gzipped or not). */
export function looksPprof(bytes: Uint8Array): boolean {
  if (!isGzip(bytes) && !startsLikeProfile(bytes)) return false
  try {
    return decode(bytes) !== undefined
  } catch {
    return false
  }
}

/** The time span and sample types of a pprof file (for pushing it as it is), or undefined when it is not pprof. */
export function pprofSpan(bytes: Uint8Array): { readonly startNs: number; readonly durationNs: number; readonly periodNs: number; readonly sampleTypes: [string, string][] } | undefined {
  const p = decode(bytes)
  if (!p) return undefined
  const str = p.stringTable.strings
  const periodNs = p.periodType && str[num(p.periodType.unit)] === 'nanoseconds' ? num(p.period) : 0
  return { startNs: num(p.timeNanos), durationNs: Math.max(0, num(p.durationNanos)), periodNs, sampleTypes: p.sampleType.map((t) => [str[num(t.type)] ?? '', str[num(t.unit)] ?? ''] as [string, string]) }
}

/** Reads a pprof profile as a document (see the module comment); every problem is an {@link ImportError}. */
export function importPprof(bytes: Uint8Array, options: PprofImportOptions = {}): ProfileDocument {
  const p = decode(bytes)
  if (!p) throw new ImportError('IMPORT_UNKNOWN_FORMAT', isGzip(bytes) ? 'gzip data that is not a pprof profile (profile.proto)' : 'not a pprof profile (profile.proto)')
  const str = p.stringTable.strings
  const text = (i: number | bigint | undefined) => {
    const v = str[num(i)]
    if (v === undefined) throw new ImportError('IMPORT_CORRUPT', `pprof: a string index ${num(i)} past the string table (${str.length} strings): the file is damaged`)
    return v
  }
  const types = p.sampleType.map((t) => ({ type: text(t.type), unit: text(t.unit) }))
  const comments = p.comment.map(text)
  const meta = new Map<string, string>()
  for (const c of comments) {
    const m = /^pyxray\.(\w+)=(.*)$/.exec(c)
    if (m) meta.set(m[1]!, m[2]!)
  }
  const names = types.map((t) => t.type)
  let chosen: number
  if (options.sampleType !== undefined) {
    chosen = names.indexOf(options.sampleType)
    if (chosen < 0) throw new ImportError('IMPORT_UNSUPPORTED', `no sample type "${options.sampleType}" in the file: it has ${types.map((t) => `${t.type} (${t.unit})`).join(', ')}`)
  } else {
    const def = num(p.defaultSampleType) !== 0 ? names.indexOf(text(p.defaultSampleType)) : -1
    chosen = def >= 0 ? def : 0
  }
  const fromPyxray = meta.has('mode')
  const trace = fromPyxray && meta.get('mode') === 'trace' && names[0] === 'calls' && types[1]?.unit === 'nanoseconds'
  const warnings: string[] = []
  const periodNs = p.periodType && text(p.periodType.unit) === 'nanoseconds' ? num(p.period) : 0
  const nsIndex = trace ? 1 : types[chosen]!.unit === 'nanoseconds' ? chosen : types.findIndex((t) => t.unit === 'nanoseconds')
  const countIndex = trace ? -1 : types[chosen]!.unit === 'count' ? chosen : types.findIndex((t) => t.type === 'samples' && t.unit === 'count')
  const memIndex = trace ? types.findIndex((t) => t.type === 'alloc_space' && t.unit === 'bytes') : -1
  let weightNs = 0
  if (nsIndex < 0) {
    weightNs = periodNs > 0 ? periodNs : 1_000_000
    if (periodNs <= 0) warnings.push(`the file has no time (no nanoseconds sample type, no period in nanoseconds): times are ${types[chosen]!.type} × 1 ms; counts are exact`)
    else if (types[chosen]!.unit !== 'count') warnings.push(`times are ${types[chosen]!.type} (${types[chosen]!.unit}) × the period, ${periodNs} ns`)
  }

  // Frames: one per (name, file, start line); function and location tables by id.
  const frames: ProfileFrame[] = []
  const frameIds = new Map<string, number>()
  const funcFrame = new Map<number, number>()
  for (const f of p.function) {
    const name = text(f.name)
    const file = text(f.filename)
    const start = Math.max(0, num(f.startLine))
    const builtin = file === '<built-in>'
    const key = `${name}\0${file}\0${start}`
    let id = frameIds.get(key)
    if (id === undefined) {
      id = frames.length
      frames.push(builtin ? { file, firstlineno: 0, qualname: name, kind: 'builtin', module: text(f.systemName) || 'native', library: true } : { file, firstlineno: start, qualname: name, kind: 'python', ...(LIBRARY.test(file) ? { library: true } : {}) })
      frameIds.set(key, id)
    }
    funcFrame.set(num(f.id), id)
  }
  /** Per location id: its frames, caller first. */
  const locFrames = new Map<number, number[]>()
  for (const l of p.location) {
    const out: number[] = []
    for (let i = l.line.length - 1; i >= 0; i--) {
      const fr = funcFrame.get(num(l.line[i]!.functionId))
      if (fr === undefined) throw new ImportError('IMPORT_CORRUPT', `pprof: location ${num(l.id)} names function ${num(l.line[i]!.functionId)}, which the file does not have`)
      out.push(fr)
    }
    if (out.length === 0) {
      // An address without symbols: one frame named by its address.
      const name = `0x${num(l.address).toString(16)}`
      const key = `${name}\0<unknown>\0${0}`
      let id = frameIds.get(key)
      if (id === undefined) {
        id = frames.length
        frames.push({ file: '<unknown>', firstlineno: 0, qualname: name, kind: 'builtin', module: 'native', library: true })
        frameIds.set(key, id)
      }
      out.push(id)
    }
    locFrames.set(num(l.id), out)
  }

  // Trees per thread.
  const budget = outputBudget(bytes.length * (isGzip(bytes) ? 8 : 1))
  let work = 0
  const spend = (n: number) => {
    work += n
    if (work > budget) throw new ImportError('IMPORT_LIMIT', `the input would take more than ${budget} units of work: its stacks are deeper or more numerous than its size allows`)
  }
  interface Tree {
    readonly id: number
    readonly name: string
    readonly order: number
    readonly frame: number[]
    readonly parent: number[]
    readonly calls: number[]
    readonly ns: number[]
    readonly samples: number[]
    readonly net: number[]
    readonly kids: Map<number, number>[]
  }
  const trees = new Map<string, Tree>()
  const keyThread = str.indexOf('thread')
  const keyThreadId = str.indexOf('thread_id')
  let any = false
  for (const sample of p.sample) {
    let name = 'main'
    let tid: number | undefined
    for (const l of sample.label) {
      const k = num(l.key)
      if (k === keyThread && keyThread > 0) name = text(l.str)
      else if (k === keyThreadId && keyThreadId > 0) tid = num(l.num)
    }
    const tkey = `${name}\0${tid ?? ''}`
    let t = trees.get(tkey)
    if (!t) {
      const order = trees.size
      t = { id: tid !== undefined && Number.isSafeInteger(tid) && tid >= 0 ? tid : order, name, order, frame: [-1], parent: [-1], calls: [0], ns: [0], samples: [0], net: [0], kids: [new Map()] }
      trees.set(tkey, t)
    }
    const v = sample.value.map(num)
    if (v.length !== types.length) throw new ImportError('IMPORT_CORRUPT', `pprof: a sample has ${v.length} values for ${types.length} sample types: the file is damaged`)
    let node = 0
    spend(sample.locationId.length + 1)
    for (let i = sample.locationId.length - 1; i >= 0; i--) {
      const fs = locFrames.get(num(sample.locationId[i]))
      if (fs === undefined) throw new ImportError('IMPORT_CORRUPT', `pprof: a sample names location ${num(sample.locationId[i])}, which the file does not have`)
      for (const f of fs) {
        let c = t.kids[node]!.get(f)
        if (c === undefined) {
          spend(1)
          c = t.frame.length
          t.frame.push(f)
          t.parent.push(node)
          t.calls.push(0)
          t.ns.push(0)
          t.samples.push(0)
          t.net.push(0)
          t.kids.push(new Map())
          t.kids[node]!.set(f, c)
        }
        node = c
      }
    }
    if (trace) t.calls[node] = t.calls[node]! + v[0]!
    const ns = nsIndex >= 0 ? v[nsIndex]! : v[chosen]! * weightNs
    t.ns[node] = t.ns[node]! + ns
    if (countIndex >= 0) t.samples[node] = t.samples[node]! + v[countIndex]!
    if (memIndex >= 0) t.net[node] = t.net[node]! + v[memIndex]!
    if (v.some((x) => x !== 0)) any = true
  }
  if (!any) throw new ImportError('IMPORT_EMPTY', 'the pprof profile holds no samples with values: nothing to import')

  let allSamples = 0
  let allNs = 0
  const ordered = [...trees.values()].sort((a, b) => a.order - b.order)
  const threads: ProfileThread[] = ordered.map((t, ti) => {
    const n = t.frame.length
    const totalNs = t.ns.slice()
    const totalSamples = t.samples.slice()
    const totalNet = t.net.slice()
    for (let i = n - 1; i > 0; i--) {
      const up = t.parent[i]!
      totalNs[up] = totalNs[up]! + totalNs[i]!
      totalSamples[up] = totalSamples[up]! + totalSamples[i]!
      totalNet[up] = totalNet[up]! + totalNet[i]!
    }
    allSamples += totalSamples[0]!
    allNs += totalNs[0]!
    const built: (ProfileNode & { children: ProfileNode[] })[] = new Array(n)
    for (let i = n - 1; i >= 0; i--) {
      const kids = [...t.kids[i]!.values()].map((c) => built[c]!).sort((a, b) => b.totalNs - a.totalNs)
      built[i] = {
        frame: i === 0 ? null : t.frame[i]!,
        calls: trace ? t.calls[i]! : 0,
        totalNs: Math.round(totalNs[i]!),
        selfNs: Math.round(t.ns[i]!),
        ...(memIndex >= 0 ? { memory: { netBytes: totalNet[i]!, peakBytes: 0 } } : {}),
        ...(!trace && countIndex >= 0 ? { samples: totalSamples[i]! } : {}),
        children: kids,
      }
    }
    return { id: t.id, name: t.name, main: ti === 0, root: built[0]! }
  })

  const go = p.function.some((f) => text(f.filename).endsWith('.go'))
  const tool = fromPyxray ? 'pyxray' : go ? 'go' : 'unknown'
  const clockName = types[nsIndex >= 0 ? nsIndex : chosen]!.type
  const clock = meta.get('clock') ?? (clockName === 'cpu' ? 'cpu' : 'wall')
  const startNs = num(p.timeNanos)
  const intervalNs = meta.has('intervalNs') ? Number(meta.get('intervalNs')) : periodNs > 0 ? periodNs : nsIndex >= 0 && allSamples > 0 ? Math.max(1, Math.round(allNs / allSamples)) : weightNs || 1_000_000
  let argv: string[] = []
  try {
    const a: unknown = JSON.parse(meta.get('argv') ?? '[]')
    if (Array.isArray(a) && a.every((x) => typeof x === 'string')) argv = a
  } catch {
    // not ours: no argv
  }
  if (!trace && types.length > 1 && options.sampleType === undefined && !fromPyxray) warnings.push(`read sample type ${types[chosen]!.type} (${types[chosen]!.unit}) of ${names.join(', ')}: pass --sample-type NAME for another`)
  const metadata: ProfileMetadata = {
    python: { implementation: 'CPython', version: meta.get('python') ?? '0.0.0' },
    argv,
    cwd: meta.get('cwd') ?? '',
    startTime: startNs > 0 ? new Date(Math.floor(startNs / 1e6)).toISOString() : (options.startTime ?? '1970-01-01T00:00:00.000Z'),
    durationNs: Math.max(0, num(p.durationNanos)) || Math.round(allNs),
    mode: trace ? 'trace' : 'sample',
    clock: clock === 'cpu' || clock === 'gil' ? clock : 'wall',
    overheadNsPerEvent: 0,
    partial: false,
    exitStatus: null,
    warnings,
    ...(memIndex >= 0 ? { memory: true } : {}),
    ...(!trace ? { intervalNs: Math.max(1, Math.round(intervalNs)) } : {}),
    ...(!trace && countIndex >= 0 ? { samples: meta.has('samples') ? Number(meta.get('samples')) : allSamples } : {}),
    source: { format: 'pprof', tool },
  }
  return { pyxray: 'profile', version: PROFILE_VERSION, metadata, frames, threads }
}

const LIBRARY = /(^<frozen )|([\\/]site-packages[\\/])|([\\/]dist-packages[\\/])|([\\/]lib[\\/]python\d+\.\d+t?[\\/])/
