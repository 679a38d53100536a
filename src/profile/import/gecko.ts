/**
 * The Firefox Profiler's processed ("gecko") format, as Tachyon `--gecko` writes it
 * (meta.importedFrom "Tachyon Sampling Profiler"): JSON with `meta.interval` (ms), strings in
 * `shared.stringArray` (older files: per thread `stringArray`), and per thread column tables —
 * `samples` (stack, weight), `stackTable` (frame, prefix: the caller's stack or null),
 * `frameTable` (func), `funcTable` (name, fileName: string indices; fileName null for non-Python
 * functions, named by their `resourceTable` entry). Tachyon writes files by base name. Each
 * distinct stack is resolved once through its prefix (a cycle is corrupt), so the work is the
 * number of stacks, not of samples × depth.
 */
import { decodeUtf8 } from '../../marshal/utf8.js'
import type { ProfileDocument } from '../document.js'
import { type ImportedFrame, type ImportOptions, ProfileBuilder } from './build.js'
import { ImportError } from './errors.js'

/** Whether the text starts like a processed gecko profile (a JSON object with meta and threads). */
export function looksGecko(head: string): boolean {
  return /^\s*\{/.test(head) && /"meta"\s*:/.test(head) && (/"preprocessedProfileVersion"/.test(head) || /"importedFrom"/.test(head) || /"threads"\s*:/.test(head))
}

type Json = Record<string, unknown>
const bad = (what: string): ImportError => new ImportError('IMPORT_CORRUPT', `gecko profile: ${what}`)

function column(table: unknown, name: string, where: string): unknown[] {
  const c = (table as Json | null)?.[name]
  if (!Array.isArray(c)) throw bad(`${where}.${name} is not a list`)
  return c
}

/** An index into a table of `length` entries, or null when `nullable`. */
function index(v: unknown, length: number, what: string, nullable = false): number | null {
  if (v === null && nullable) return null
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= length) throw bad(`${what} ${JSON.stringify(v)?.slice(0, 30)} is not an index below ${length}`)
  return v
}

/** Reads a processed gecko profile (see the module comment). */
export function importGecko(bytes: Uint8Array, options: ImportOptions = {}): ProfileDocument {
  const text = decodeUtf8(bytes, 0, bytes.length)
  if (text === undefined) throw bad('not UTF-8 text')
  let doc: Json
  try {
    doc = JSON.parse(text) as Json
  } catch {
    throw bad('not JSON')
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw bad('not a JSON object')
  const meta = doc.meta as Json | undefined
  const threadsIn = doc.threads
  if (!meta || typeof meta !== 'object' || !Array.isArray(threadsIn)) throw bad('no meta and threads')
  const tachyon = typeof meta.importedFrom === 'string' && /Tachyon/.test(meta.importedFrom)
  const intervalMs = meta.interval
  const intervalUs = typeof intervalMs === 'number' && intervalMs > 0 && intervalMs < 3.6e6 ? Math.max(1, Math.round(intervalMs * 1000)) : (options.intervalUs ?? 1000)
  const shared = (doc.shared as Json | undefined)?.stringArray
  const b = new ProfileBuilder(bytes.length)
  threadsIn.forEach((thread: unknown, ti) => {
    const th = thread as Json
    if (th === null || typeof th !== 'object') throw bad(`thread ${ti} is not an object`)
    const strings = (Array.isArray(shared) ? shared : th.stringArray) as unknown[]
    if (!Array.isArray(strings)) throw bad('no string table (shared.stringArray)')
    const str = (i: unknown, what: string): string => {
      const v = strings[index(i, strings.length, what)!]
      if (typeof v !== 'string') throw bad(`${what} is not a string`)
      return v
    }
    const where = `threads[${ti}]`
    const funcName = column(th.funcTable, 'name', `${where}.funcTable`)
    const funcFile = column(th.funcTable, 'fileName', `${where}.funcTable`)
    const funcResource = (th.funcTable as Json).resource
    const resourceName = (th.resourceTable as Json | undefined)?.name
    const frameFunc = column(th.frameTable, 'func', `${where}.frameTable`)
    const stackFrame = column(th.stackTable, 'frame', `${where}.stackTable`)
    const stackPrefix = column(th.stackTable, 'prefix', `${where}.stackTable`)
    const sampleStack = column(th.samples, 'stack', `${where}.samples`)
    const weightColumn = (th.samples as Json).weight
    const weights = Array.isArray(weightColumn) ? weightColumn : undefined
    b.spend(funcName.length + frameFunc.length + stackFrame.length + sampleStack.length)
    // functions → document frames
    const funcs = funcName.map((n, i) => {
      const name = str(n, `${where}.funcTable.name[${i}]`)
      let file: string | undefined
      if (funcFile[i] !== null && funcFile[i] !== undefined) file = str(funcFile[i], `${where}.funcTable.fileName[${i}]`)
      else if (Array.isArray(funcResource) && Array.isArray(resourceName) && typeof funcResource[i] === 'number') {
        const r = index(funcResource[i], resourceName.length, `${where}.funcTable.resource[${i}]`)!
        file = str(resourceName[r], `${where}.resourceTable.name[${r}]`)
      }
      const frame: ImportedFrame = /^<[^<>]*>$/.test(name) && (file === undefined || !/\.py$/.test(file)) ? { file: '<built-in>', qualname: name, kind: 'builtin', module: name === '<GC>' ? 'gc' : 'native' } : { file: file ?? '<unknown>', qualname: name }
      return b.frame(frame)
    })
    const frames = frameFunc.map((f, i) => funcs[index(f, funcs.length, `${where}.frameTable.func[${i}]`)!]!)
    const name = typeof th.name === 'string' ? th.name : `Thread-${ti}`
    const tid = typeof th.tid === 'number' ? th.tid : typeof th.tid === 'string' && /^\d+$/.test(th.tid) ? Number(th.tid) : undefined
    const state = b.thread(`${ti}`, tid, th.isMainThread === true ? 'MainThread' : name, th.isMainThread === true)
    // every stack's node, resolved once through its prefix chain
    const node = new Array<number>(stackFrame.length).fill(-1)
    const resolve = (s: number): number => {
      const chain: number[] = []
      let at: number | null = s
      while (at !== null && node[at] === -1) {
        chain.push(at)
        if (chain.length > stackFrame.length) throw bad(`${where}.stackTable has a prefix cycle at stack ${s}`)
        at = index(stackPrefix[at], stackFrame.length, `${where}.stackTable.prefix[${at}]`, true)
      }
      let parent = at === null ? 0 : node[at]!
      for (let k = chain.length - 1; k >= 0; k--) {
        const i = chain[k]!
        parent = b.child(state, parent, frames[index(stackFrame[i], frames.length, `${where}.stackTable.frame[${i}]`)!]!)
        node[i] = parent
      }
      return node[s]!
    }
    sampleStack.forEach((s, i) => {
      const w = weights ? weights[i] : 1
      if (typeof w !== 'number' || !Number.isSafeInteger(w) || w < 0) throw bad(`${where}.samples.weight[${i}] is not a count`)
      const at = index(s, stackFrame.length, `${where}.samples.stack[${i}]`, true)
      b.addAt(state, at === null ? 0 : resolve(at), w)
    })
  })
  const warnings: string[] = []
  if (tachyon) warnings.push("Tachyon's gecko output names files by base name only: frames show no folder")
  if (typeof intervalMs !== 'number' && options.intervalUs === undefined) warnings.push('the gecko profile does not record the sampling interval: times are samples × 1 ms (pass --interval-us N)')
  return b.finish({
    source: { format: 'gecko', tool: tachyon ? 'tachyon' : 'unknown' },
    weightNs: intervalUs * 1000,
    samplesAreCounts: true,
    intervalNs: intervalUs * 1000,
    ...(options.startTime !== undefined ? { startTime: options.startTime } : {}),
    warnings,
  })
}
