/**
 * Export to the file `pstats.Stats(path)` reads: a marshal-dumped dict, written with pyxray's own
 * marshal writer,
 *
 *     {(file, line, funcname): (cc, nc, tt, ct, {caller_key: (cc, nc, tt, ct)})}
 *
 * as cProfile's `Profile.dump_stats` writes it. Per function, over all threads:
 * - `nc` (ncalls): every entry into it, the sum of the calls of all its nodes;
 * - `cc` (primitive calls): calls made while the function was not already on the stack, the calls
 *   of the nodes that have no ancestor of the same function (fib: 1 of 465);
 * - `tt` (tottime): seconds inside it, not in callees: the sum of self times;
 * - `ct` (cumtime): seconds inside it and its callees, counted once under recursion: the sum of
 *   total times of the nodes without an ancestor of the same function.
 * The callers dict holds the same numbers per caller, for the calls from that caller (primitive
 * and cumulative counted per caller→callee pair, as _lsprof does), in cProfile's order for
 * callers: (nc, cc, tt, ct), which pstats reads so. Functions called at
 * the top of a thread have no callers. Keys are cProfile's: (co_filename, co_firstlineno, co_name)
 * for Python code, ('~', 0, label) for builtins (see cprofileName).
 */
import type { Exporter } from './exporter.js'
import { type PyObject, TypeCode, writeMarshal } from '../../marshal/index.js'
import type { ProfileDocument } from '../document.js'
import { ExportError } from './errors.js'
import { cprofileName } from './labels.js'
import { frameOf, selectThreads, walk } from './tree.js'

/** cc, nc, tt, ct: primitive calls, calls, own seconds, cumulative seconds. */
export interface PstatsTimes {
  cc: number
  nc: number
  tt: number
  ct: number
}

/** One function's entry: its times and its callers' (by caller key, as in {@link pstatsKey}). */
export interface PstatsEntry extends PstatsTimes {
  readonly key: PstatsKey
  readonly callers: Map<string, PstatsTimes & { readonly key: PstatsKey }>
}

/** (file, line, funcname), as cProfile keys functions. */
export type PstatsKey = readonly [file: string, line: number, name: string]

/** The pstats table of a profile: entries by their key (joined with NUL for a Map key). */
export function pstatsEntries(doc: ProfileDocument): Map<string, PstatsEntry> {
  const keys = doc.frames.map((f): PstatsKey => (f.kind === 'builtin' ? ['~', 0, cprofileName(f)] : [f.file, f.firstlineno, cprofileName(f)]))
  // Two frames may share a cProfile key (the same co_name at the same line of one file): merge.
  const ids = keys.map((k) => k.join('\0'))
  const entries = new Map<string, PstatsEntry>()
  const NS = 1e9
  for (const thread of doc.threads) {
    // How many times each function, and each caller→callee pair, is on the current path.
    const active = new Map<string, number>()
    const activePairs = new Map<string, number>()
    const pairOf = (caller: string | undefined, callee: string) => (caller === undefined ? undefined : `${caller}\0\0${callee}`)
    walk(
      thread.root,
      (node, parents) => {
        if (node.frame === null) return
        frameOf(doc, node)
        const id = ids[node.frame]!
        const parent = parents[parents.length - 1]
        const callerId = parent && parent.frame !== null ? ids[parent.frame] : undefined
        let entry = entries.get(id)
        if (!entry) {
          entry = { key: keys[node.frame]!, cc: 0, nc: 0, tt: 0, ct: 0, callers: new Map() }
          entries.set(id, entry)
        }
        const outermost = !active.get(id)
        entry.nc += node.calls
        entry.tt += node.selfNs / NS
        if (outermost) {
          entry.cc += node.calls
          entry.ct += node.totalNs / NS
        }
        active.set(id, (active.get(id) ?? 0) + 1)
        const pair = pairOf(callerId, id)
        if (callerId !== undefined && pair !== undefined) {
          let c = entry.callers.get(callerId)
          if (!c) {
            c = { key: keys[parent!.frame!]!, cc: 0, nc: 0, tt: 0, ct: 0 }
            entry.callers.set(callerId, c)
          }
          c.nc += node.calls
          c.tt += node.selfNs / NS
          if (!activePairs.get(pair)) {
            c.cc += node.calls
            c.ct += node.totalNs / NS
          }
          activePairs.set(pair, (activePairs.get(pair) ?? 0) + 1)
        }
      },
      (node, parents) => {
        if (node.frame === null) return
        const id = ids[node.frame]!
        active.set(id, active.get(id)! - 1)
        const parent = parents[parents.length - 1]
        const pair = pairOf(parent && parent.frame !== null ? ids[parent.frame] : undefined, id)
        if (pair !== undefined) activePairs.set(pair, activePairs.get(pair)! - 1)
      },
    )
  }
  return entries
}

const str = (value: string): PyObject => ({ type: 'str', code: TypeCode.Unicode, ref: false, value })
const float = (value: number): PyObject => ({ type: 'float', code: TypeCode.BinaryFloat, ref: false, value })
const int = (value: number): PyObject => {
  const big = BigInt(value)
  const small = big >= -(2n ** 31n) && big < 2n ** 31n
  return { type: 'int', code: small ? TypeCode.Int : TypeCode.Long, ref: false, value: big }
}
const tuple = (items: PyObject[]): PyObject => ({ type: 'tuple', code: TypeCode.Tuple, ref: false, items })
const keyObject = ([file, line, name]: PstatsKey): PyObject => tuple([str(file), int(line), str(name)])
/** A function's own numbers: (cc, nc, tt, ct). */
const times = (t: PstatsTimes): PyObject[] => [int(t.cc), int(t.nc), float(t.tt), float(t.ct)]
/** A caller's numbers come in another order, as cProfile writes them: (nc, cc, tt, ct). */
const callerTimes = (t: PstatsTimes): PyObject[] => [int(t.nc), int(t.cc), float(t.tt), float(t.ct)]

/**
 * The profile as pstats file bytes (what `pstats.Stats(path)` and `marshal.load` read). Throws
 * EXPORT_EMPTY for a profile without calls: pstats refuses to load an empty table.
 */
export function toPstats(doc: ProfileDocument): Uint8Array {
  const table = pstatsEntries(doc)
  if (table.size === 0) {
    throw new ExportError('EXPORT_EMPTY', 'the profile has no calls, and pstats refuses an empty table; profile a longer run (in sample mode: a shorter --interval)')
  }
  const entries: (readonly [PyObject, PyObject])[] = []
  for (const entry of table.values()) {
    const callers: (readonly [PyObject, PyObject])[] = [...entry.callers.values()].map((c) => [keyObject(c.key), tuple(callerTimes(c))] as const)
    entries.push([keyObject(entry.key), tuple([...times(entry), { type: 'dict', code: TypeCode.Dict, ref: false, entries: callers }])])
  }
  return writeMarshal({ type: 'dict', code: TypeCode.Dict, ref: false, entries })
}

/** The pstats export format (see ./exporter.ts). */
export const pstatsExporter: Exporter = {
  name: 'pstats',
  description: "the binary file Python's pstats reads: pstats.Stats(FILE), snakeviz, gprof2dot;\ncProfile's keys and ncalls, times in seconds (needs -o)",
  binary: true,
  needsFile: true,
  options: {},
  run: (doc, s) => toPstats(s.thread === undefined ? doc : { ...doc, threads: selectThreads(doc, s.thread) }),
}
