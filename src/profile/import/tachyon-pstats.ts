/**
 * Tachyon's `--pstats` file: a marshal dump of pstats' dict, keyed by the sampled location
 * (file, line, function) — the line is the one executing, not the function's first — with values
 * (direct samples, cumulative samples, direct s, cumulative s, callers), callers mapping a
 * caller's location to the samples in which it called this one directly, and a marker key
 * `('__sampled__',)` → True (cProfile's files have none and are refused: their counts are calls).
 *
 * The file has no stacks, only edges, so the call tree is rebuilt: every location occurs
 * `direct + Σ calls it made` times in the samples' stacks, `Σ its callers' edges` of them below
 * a caller, the rest as the outermost frame. The samples are then split into call paths from
 * those roots, at every location in proportion to what is left of its own samples and its
 * callees' edges (whole samples, largest remainders first). Every location's direct samples land
 * on it exactly, so per-function self samples equal Tachyon's, and so do total samples of
 * functions that do not recurse; which caller's path a deeper callee sits on is apportioned.
 */
import { readMarshal } from '../../marshal/reader.js'
import { MarshalError } from '../../marshal/errors.js'
import { LimitError } from '../../marshal/limits.js'
import type { PyObject } from '../../marshal/types.js'
import type { ProfileDocument } from '../document.js'
import { type ImportedFrame, type ImportOptions, ProfileBuilder } from './build.js'
import { ImportError } from './errors.js'

/** Whether the bytes may be a marshalled dict whose first key is a tuple (pstats files are one). */
export function looksMarshalDict(bytes: Uint8Array): boolean {
  // '{' dict, then '(' tuple or ')' small tuple, either with FLAG_REF
  return bytes.length > 1 && (bytes[0]! & 0x7f) === 0x7b && ((bytes[1]! & 0x7f) === 0x28 || (bytes[1]! & 0x7f) === 0x29)
}

const bad = (what: string): ImportError => new ImportError('IMPORT_CORRUPT', `pstats: ${what}`)

function int(o: PyObject | undefined, what: string): number {
  if (o?.type !== 'int' || o.value < 0n || o.value > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`${what} is not a sample count`)
  return Number(o.value)
}

interface Location {
  readonly frame: number
  readonly direct: number
  /** Callers: location index → samples. */
  readonly callers: [number, number][]
}

/** Reads Tachyon's pstats file (see the module comment). */
export function importTachyonPstats(bytes: Uint8Array, options: ImportOptions = {}): ProfileDocument {
  let value: PyObject
  try {
    value = readMarshal(bytes, { pythonVersion: [3, 15], maxExpandedSize: 16 * 2 ** 20 + 64 * bytes.length }).value
  } catch (e) {
    if (e instanceof MarshalError || e instanceof LimitError) throw bad(`not a readable marshal dump (${e.message})`)
    throw e
  }
  if (value.type !== 'dict') throw bad(`the marshal dump holds a ${value.type}, not pstats' dict`)
  const b = new ProfileBuilder(bytes.length)
  const keyOf = (k: PyObject): string | undefined => {
    if (k.type !== 'tuple' || k.items.length !== 3) return undefined
    const [file, line, func] = k.items
    if (file?.type !== 'str' || line?.type !== 'int' || func?.type !== 'str') return undefined
    return `${file.value}\0${line.value}\0${func.value}`
  }
  const index = new Map<string, number>()
  let sampled = false
  const entries: [PyObject, PyObject][] = []
  for (const [k, v] of value.entries) {
    if (k.type === 'tuple' && k.items.length === 1 && k.items[0]?.type === 'str' && k.items[0].value === '__sampled__') {
      sampled = true
      continue
    }
    const key = keyOf(k)
    if (key === undefined) throw bad('a key is not a (file, line, function) tuple')
    index.set(key, entries.length)
    entries.push([k, v])
  }
  if (!sampled) throw new ImportError('IMPORT_UNSUPPORTED', "pstats without Tachyon's ('__sampled__',) marker (cProfile's, counting calls): pyxray imports sampled pstats; profile with pyxray profile instead")
  const locations: Location[] = entries.map(([k, v]) => {
    const [file, , func] = (k as PyObject & { items: readonly PyObject[] }).items as [PyObject & { value: string }, PyObject, PyObject & { value: string }]
    if (v.type !== 'tuple' || v.items.length !== 5) throw bad('a value is not (direct, cumulative, tottime, cumtime, callers)')
    const direct = int(v.items[0], 'a direct count')
    const callersObj = v.items[4]!
    if (callersObj.type !== 'dict') throw bad('callers is not a dict')
    const callers: [number, number][] = callersObj.entries.map(([ck, cv]) => {
      const key = keyOf(ck)
      const i = key === undefined ? undefined : index.get(key)
      if (i === undefined) throw bad('a caller is not a location of the table')
      return [i, int(cv, 'a caller count')]
    })
    const synthetic = file.value === '~' || file.value === ''
    const frame: ImportedFrame = synthetic ? { file: '<built-in>', qualname: func.value, kind: 'builtin', module: func.value === '<GC>' ? 'gc' : 'native' } : { file: file.value, qualname: func.value }
    return { frame: b.frame(frame), direct, callers }
  })
  // capacities: what is left of each location's direct samples and of each edge
  const selfLeft = locations.map((l) => l.direct)
  const callees: [number, number][][] = locations.map(() => [])
  const inflow = locations.map(() => 0)
  locations.forEach((l, callee) =>
    l.callers.forEach(([caller, w]) => {
      callees[caller]!.push([callee, w])
      inflow[callee] = inflow[callee]! + w
    }),
  )
  const edgeLeft = callees.map((list) => list.map(([, w]) => w))
  const occurrences = locations.map((l, i) => l.direct + edgeLeft[i]!.reduce((a, w) => a + w, 0))
  let inconsistent = false
  const thread = b.thread('all', undefined, 'all threads', true)
  const todo: [number, number, number[]][] = []
  locations.forEach((_, i) => {
    const roots = occurrences[i]! - inflow[i]!
    if (roots < 0) inconsistent = true
    if (roots > 0) todo.push([i, roots, [locations[i]!.frame]])
  })
  todo.reverse()
  while (todo.length > 0) {
    const [at, weight, path] = todo.pop()!
    b.spend(path.length)
    const caps = [selfLeft[at]!, ...edgeLeft[at]!]
    const capTotal = caps.reduce((a, c) => a + c, 0)
    if (capTotal < weight) inconsistent = true
    const give = capTotal <= weight ? caps.slice() : apportion(weight, caps, capTotal)
    const extra = weight - give.reduce((a, g) => a + g, 0)
    const self = give[0]! + Math.max(0, extra)
    selfLeft[at] = selfLeft[at]! - give[0]!
    if (self > 0) b.add(thread, path, self)
    const list = callees[at]!
    for (let j = list.length - 1; j >= 0; j--) {
      const g = give[j + 1]!
      if (g === 0) continue
      edgeLeft[at]![j] = edgeLeft[at]![j]! - g
      const next = list[j]![0]
      todo.push([next, g, [...path, locations[next]!.frame]])
    }
  }
  const intervalUs = options.intervalUs ?? 1000
  const warnings = ["Tachyon's pstats holds per-line counts and caller edges, not stacks: the call tree is rebuilt from the edges — self samples per function are exact, so are total samples of functions that do not recurse; paths below a function called from several places are apportioned"]
  if (options.intervalUs === undefined) warnings.push("Tachyon's pstats does not record the sampling interval: times are samples × 1 ms (Tachyon's default rate; pass --interval-us N for another)")
  if (inconsistent) warnings.push("the file's counts and caller edges disagree (not as Tachyon writes them): some samples were put on the location that had them")
  return b.finish({
    source: { format: 'tachyon-pstats', tool: 'tachyon' },
    weightNs: intervalUs * 1000,
    samplesAreCounts: true,
    intervalNs: intervalUs * 1000,
    ...(options.startTime !== undefined ? { startTime: options.startTime } : {}),
    warnings,
  })
}

/** `weight` split over `caps` in proportion (whole numbers, largest remainders first; none above its cap). */
function apportion(weight: number, caps: readonly number[], capTotal: number): number[] {
  const exact = caps.map((c) => (weight * c) / capTotal)
  const give = exact.map((x) => Math.floor(x))
  let left = weight - give.reduce((a, g) => a + g, 0)
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1])
  for (const [, i] of order) {
    if (left === 0) break
    if (give[i]! < caps[i]!) {
      give[i] = give[i]! + 1
      left--
    }
  }
  return give
}
