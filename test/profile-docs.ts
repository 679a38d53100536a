/**
 * Constructed profile documents for model and diff tests: call trees written as nested tuples,
 * frames made up from qualnames. Times are ns; selfNs is derived so totalNs == selfNs + Σ children.
 */
import type { ProfileDocument, ProfileFrame, ProfileMetadata, ProfileNode } from '../src/profile/document.js'

/** [qualname, calls, totalNs, children?, extra?]: a call node. */
export type T = [string, number, number, T[]?, { netBytes?: number; peakBytes?: number; file?: string; line?: number }?]

/** Options of a constructed profile. */
export interface DocOptions {
  readonly cwd?: string
  /** First line of each function (default 10 × index): change it to simulate line shifts. */
  readonly lines?: Record<string, number>
  readonly memory?: boolean
}

/** Valid metadata of a finished CPython 3.11.7 trace-mode run of app.py in /work/app, with `over` on top. */
export function makeMetadata(over: Partial<ProfileMetadata> = {}): ProfileMetadata {
  return {
    python: { implementation: 'CPython', version: '3.11.7' },
    argv: ['app.py'],
    cwd: '/work/app',
    startTime: '2026-01-01T00:00:00.000Z',
    durationNs: 0,
    mode: 'trace',
    clock: 'wall',
    overheadNsPerEvent: 0,
    partial: false,
    exitStatus: 0,
    warnings: [],
    ...over,
  }
}

/** A valid profile document whose main thread's root has the given children. */
export function makeDoc(children: T[], o: DocOptions = {}): ProfileDocument {
  const cwd = o.cwd ?? '/work/app'
  const frames: ProfileFrame[] = []
  const index = new Map<string, number>()
  const frameOf = (t: T): number => {
    const [q, , , , extra] = t
    const builtin = q.startsWith('builtin:')
    const qualname = builtin ? q.slice('builtin:'.length) : q
    const file = builtin ? '<built-in>' : `${cwd}/${extra?.file ?? 'app.py'}`
    const key = `${file}:${qualname}`
    let i = index.get(key)
    if (i === undefined) {
      i = frames.length
      frames.push(
        builtin
          ? { file, firstlineno: 0, qualname, kind: 'builtin', module: 'builtins', library: true }
          : { file, firstlineno: extra?.line ?? o.lines?.[qualname] ?? 10 * (frames.length + 1), qualname, kind: 'python' },
      )
      index.set(key, i)
    }
    return i
  }
  const node = (t: T): ProfileNode => {
    const [, calls, total, kids = [], extra] = t
    const frame = frameOf(t) // before the children: frames are numbered in pre-order
    const c = kids.map(node)
    const self = total - c.reduce((s, k) => s + k.totalNs, 0)
    if (self < 0) throw new Error(`children of ${t[0]} exceed its total`)
    return {
      frame,
      calls,
      totalNs: total,
      selfNs: self,
      ...(o.memory ? { memory: { netBytes: extra?.netBytes ?? 0, peakBytes: extra?.peakBytes ?? 0 } } : {}),
      children: c,
    }
  }
  const kids = children.map(node)
  const total = kids.reduce((s, k) => s + k.totalNs, 0)
  return {
    pyxray: 'profile',
    version: 3,
    metadata: makeMetadata({ cwd, durationNs: total, ...(o.memory ? { memory: true } : {}) }),
    frames,
    threads: [{ id: 1, name: 'MainThread', main: true, root: { frame: null, calls: 0, totalNs: total, selfNs: 0, children: kids } }],
  }
}
