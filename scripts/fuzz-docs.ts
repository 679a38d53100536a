/**
 * Document and request generators of the fuzzer (scripts/fuzz.ts), next to the .pyc ones in
 * scripts/fuzz-gen.ts. Like those, input `index` of a run is a pure function of the run's seed
 * and the index.
 *
 * - `profile`: a profile document — generated (frames with hostile names: ESC sequences,
 *   backticks, newlines, Markdown and HTML syntax, huge or empty; a call tree of random shape, a
 *   few threads, sometimes a chain thousands of calls deep) or one of the fixtures — written as
 *   version 1 (nested) or version 2 (flat), then often mutated: members deleted, set to values of
 *   the wrong type or shape, frame and parent indexes out of range, `children: null`, subtrees
 *   duplicated, the text truncated;
 * - `memory`: a memory document of each kind (leaks, size, path, lines, growth, error) with
 *   hostile names, mutated the same way;
 * - `request`: one raw HTTP request to `pyxray serve`: hostile request targets (`//[`, `//%5B`,
 *   `http://[/`, bad percent-encoding, control characters, 9 kB paths, dot segments), the
 *   `/api/source` of files that are secrets, FIFOs, devices, links or outside the profile's
 *   roots, wrong or missing Host, Origin, token and cookies, hostile bodies for `/api/compile`
 *   (never one that would compile: no interpreter is started).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { flattenProfile, readProfileDocument } from '../src/profile/document.js'
import { MAX_INPUT_BYTES, type Rng } from './fuzz-gen.js'

/** Names meant to break a renderer: terminal escapes, Markdown, HTML, line breaks, extremes. */
export const HOSTILE_NAMES: readonly string[] = [
  '\x1b[31mred\x1b[0m',
  '\x1b]8;;http://evil.example/\x07link\x1b]8;;\x07',
  '\x1b[2J\x1b[H',
  'tick`tock``',
  '```\n# heading\n```',
  'line\nbreak',
  'carriage\rreturn',
  '*bold* _it_ [link](http://evil.example) <b>x</b> | pipe | ~~x~~ \\',
  '</script><script>alert(1)</script>',
  '<!-- comment',
  '\u202eevil\u202c',
  '\u0000nul\u0007bel\u009bcsi',
  '\t',
  '',
  ' ',
  '%s%n%x',
  'a'.repeat(5000),
  '\ud800',
  'é€\u{1F600}',
  '|',
  '[x]: http://evil.example',
]

/** Numbers of the wrong kind or range. */
const BAD_NUMBERS: readonly unknown[] = [-1, -0.5, 0.5, 1e308, -1e308, 2 ** 31, 2 ** 53, Number.MAX_SAFE_INTEGER + 2, '1', null, true, [], {}]

function hostile(rng: Rng): string {
  return rng.pick(HOSTILE_NAMES)
}

/** A name: usually plain, sometimes hostile. */
function name(rng: Rng, plain: string): string {
  return rng.chance(0.25) ? hostile(rng) : plain
}

// ---------------------------------------------------------------------------------------------
// profile documents

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type Node = { frame: number | null; calls: number; totalNs: number; selfNs: number; samples?: number; memory?: { netBytes: number; peakBytes: number }; children: Node[] }

/** The fixture profiles (test/fixtures/profiles/*.json), read once. */
let fixtures: { name: string; text: string }[] | undefined
function profileFixtures(): { name: string; text: string }[] {
  if (!fixtures) {
    const dir = join(fileURLToPath(import.meta.url), '../../test/fixtures/profiles')
    fixtures = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => ({ name: f, text: readFileSync(join(dir, f), 'utf8') }))
  }
  return fixtures
}

function metadata(rng: Rng, mode: 'sample' | 'trace', memory: boolean): Record<string, Json> {
  return {
    python: { implementation: 'CPython', version: rng.pick(['3.8.18', '3.11.7', '3.12.1', '3.13.0']) },
    argv: [name(rng, 'app.py'), name(rng, '--flag')],
    cwd: name(rng, '/work/src'),
    startTime: '2026-11-24T05:44:29.116Z',
    durationNs: 1 + rng.int(1e9),
    mode,
    clock: 'wall',
    overheadNsPerEvent: 0,
    partial: rng.chance(0.1),
    exitStatus: 0,
    warnings: rng.chance(0.2) ? [hostile(rng)] : [],
    memory,
    tracer: mode === 'sample' ? 'sampler' : 'sys.setprofile',
    libraries: 'first',
    builtins: false,
    include: [],
    exclude: [],
    pid: 1 + rng.int(1 << 22),
    agent: '0.1.0',
    ...(mode === 'sample' ? { intervalNs: 1_000_000, samples: rng.int(10_000) } : {}),
  }
}

/** A call tree over `frames` frames of about `budget` nodes; totals consistent. */
function callTree(rng: Rng, frames: number, budget: { nodes: number }, depth: number, sample: boolean, memory: boolean): Node {
  const children: Node[] = []
  const n = budget.nodes > 0 && depth < 60 ? rng.size(rng.chance(0.1) ? 200 : 6) : 0
  for (let i = 0; i < n && budget.nodes > 0; i++) {
    budget.nodes--
    children.push(callTree(rng, frames, budget, depth + 1, sample, memory))
  }
  return node(rng, rng.int(frames), children, sample, memory)
}

function node(rng: Rng, frame: number | null, children: Node[], sample: boolean, memory: boolean): Node {
  const selfNs = rng.chance(0.1) ? 0 : rng.int(1e7)
  const totalNs = children.reduce((t, c) => t + c.totalNs, selfNs)
  return {
    frame,
    calls: sample ? 0 : 1 + rng.int(1000),
    totalNs,
    selfNs,
    ...(sample ? { samples: children.reduce((t, c) => t + (c.samples ?? 0), rng.int(50)) } : {}),
    ...(memory ? { memory: { netBytes: rng.int(1e6) - 5e5, peakBytes: rng.int(1e6) } } : {}),
    children,
  }
}

/** A chain `depth` calls deep (recursion), as a version 2 document's flat nodes (no nesting to stringify). */
function deepChain(rng: Rng, depth: number, frames: number): Json[] {
  const nodes: Json[] = [{ frame: null, parent: null, calls: 0, totalNs: depth, selfNs: 0, children: undefined as never }]
  delete (nodes[0] as Record<string, Json>).children
  for (let i = 1; i <= depth; i++) nodes.push({ frame: rng.int(frames), parent: i - 1, calls: 1, totalNs: depth - i + 1, selfNs: 1 })
  return nodes
}

/** A valid-looking profile document, as the value to write (version 1 nested or version 2 flat). */
function generatedProfile(rng: Rng): { what: string; value: Json } {
  const sample = rng.chance(0.5)
  const memory = !sample && rng.chance(0.3)
  const nFrames = 1 + rng.size(300)
  const frames: Json[] = Array.from({ length: nFrames }, (_, i) => {
    const builtin = rng.chance(0.2)
    return {
      file: builtin ? '<built-in>' : name(rng, `/work/src/mod${i % 5}.py`),
      firstlineno: builtin ? 0 : rng.chance(0.05) ? 2 ** 31 - 1 : 1 + rng.int(900),
      qualname: name(rng, `func_${i}`),
      kind: builtin ? 'builtin' : 'python',
      ...(builtin ? { module: name(rng, 'builtins') } : {}),
    }
  })
  const threads = Array.from({ length: 1 + (rng.chance(0.2) ? rng.int(3) : 0) }, (_, t) => {
    const budget = { nodes: rng.size(rng.cap === Infinity ? 20_000 : 300) }
    const top = callTree(rng, nFrames, budget, 1, sample, memory)
    return { id: 1000 + t, name: name(rng, t === 0 ? 'MainThread' : `Thread-${t}`), main: t === 0, root: node(rng, null, [top], sample, memory) }
  })
  const doc = { pyxray: 'profile', version: 1, metadata: metadata(rng, sample ? 'sample' : 'trace', memory), frames, threads } as unknown as Json
  if (rng.chance(0.1)) {
    // Deep recursion, flat (version 2): thousands of levels.
    const depth = rng.pickSize([100, 3000, 12_000])
    const flat = { pyxray: 'profile', version: 2, metadata: metadata(rng, 'trace', false), frames, threads: [{ id: 1, name: 'MainThread', main: true, nodes: deepChain(rng, depth, nFrames) }] }
    return { what: `generated v2, a chain ${depth} deep`, value: flat as unknown as Json }
  }
  if (rng.chance(0.4)) {
    try {
      return { what: `generated v2, ${nFrames} frames`, value: flattenProfile(readProfileDocument(doc, 'fuzz.json')) as unknown as Json }
    } catch {
      // A generated name the reader refuses: keep version 1.
    }
  }
  return { what: `generated v1, ${nFrames} frames`, value: doc }
}

// ---------------------------------------------------------------------------------------------
// memory documents

function memoryDocument(rng: Rng): { what: string; value: Json } {
  const kind = rng.pick(['leaks', 'size', 'path', 'lines', 'growth', 'error'] as const)
  const meta = { python: '3.12.1', implementation: 'CPython', executable: name(rng, 'python3'), argv: [name(rng, 'leaks'), name(rng, 'app.py')], cwd: name(rng, '/work'), startTime: '2024-01-01T00:00:00+00:00' }
  const frame = () => ({ file: name(rng, '/work/app.py'), line: rng.int(500), source: name(rng, 'cache.append(x)') })
  const n = (max: number) => rng.size(max)
  let body: Json
  switch (kind) {
    case 'leaks': {
      const iterations = 1 + n(50)
      body = {
        iterations,
        warmup: rng.int(3),
        minGrowthBytes: 128,
        leak: rng.chance(0.5),
        verdict: name(rng, 'leaks ~1.0 KiB/iteration at app.py:14'),
        bytesPerIteration: rng.int(1e6),
        slopeBytesPerIteration: rng.next() * 1e4,
        lateSlopeBytesPerIteration: rng.next() * 1e4,
        r2: rng.next(),
        totals: Array.from({ length: iterations }, (_, i) => i * 1024),
        sites: Array.from({ length: n(200) }, () => ({ ...frame(), bytesPerIteration: rng.int(1e6), countPerIteration: rng.int(100), totalBytes: rng.int(1e8) })),
        tracebacks: Array.from({ length: n(20) }, () => ({ bytesPerIteration: 1024, countPerIteration: 1, totalBytes: 4096, frames: Array.from({ length: 1 + n(30) }, frame) })),
      }
      break
    }
    case 'size':
      body = {
        expression: name(rng, 'cache'),
        type: name(rng, 'list'),
        totalBytes: rng.int(1e9),
        shallowBytes: rng.int(1e3),
        objects: rng.int(1e6),
        byType: Array.from({ length: n(200) }, () => ({ type: name(rng, 'int'), count: rng.int(1e5), bytes: rng.int(1e8) })),
        skipped: Array.from({ length: n(5) }, () => ({ type: name(rng, 'type'), count: rng.int(9) })),
      }
      break
    case 'path':
      body = {
        type: name(rng, 'Session'),
        instances: rng.int(100),
        paths: Array.from({ length: n(20) }, (_, i): Json =>
          rng.chance(0.7)
            ? { target: { type: name(rng, 'app.Session'), id: i }, found: true, root: { kind: 'module global', name: name(rng, 'SESSIONS'), module: name(rng, 'app') }, steps: Array.from({ length: 1 + n(100) }, () => ({ edge: name(rng, "['a']"), type: name(rng, 'dict'), repr: name(rng, '{…}') })), dot: name(rng, 'digraph {}') }
            : { target: { type: name(rng, 'app.Session'), id: i }, found: false },
        ),
      }
      break
    case 'lines': {
      const lines = Array.from({ length: n(500) }, (_, i) => ({ line: 3 + i, source: name(rng, 'x = [0] * 100'), hits: rng.int(9), netBytes: rng.int(1e5) - 5e4, peakBytes: rng.int(1e5) }))
      body = { file: name(rng, '/work/app.py'), function: name(rng, 'build'), firstLine: 3, calls: 1, totalNetBytes: 900, peakBytes: 1200, lines }
      break
    }
    case 'growth':
      body = { iterations: 1 + rng.int(9), totalDelta: rng.int(1e4), rows: Array.from({ length: n(300) }, () => ({ type: name(rng, 'app.Job'), name: name(rng, 'Job'), count: rng.int(1e4), delta: rng.int(1e3) })) }
      break
    default:
      body = { code: 'NOT_FOUND', message: name(rng, 'no function build'), command: 'lines' }
  }
  return { what: `memory ${kind}`, value: { pyxray: 'memory', version: 1, kind, metadata: meta, [kind]: body } }
}

// ---------------------------------------------------------------------------------------------
// mutations of JSON values

/** The objects and arrays of `value` (a sample of at most `max`, breadth first). */
function containers(value: Json, max = 4000): (Json[] | { [key: string]: Json })[] {
  const out: (Json[] | { [key: string]: Json })[] = []
  const queue: Json[] = [value]
  for (let i = 0; i < queue.length && out.length < max; i++) {
    const v = queue[i]!
    if (v === null || typeof v !== 'object') continue
    out.push(v)
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (x !== null && typeof x === 'object') queue.push(x)
  }
  return out
}

/** One structural edit of `doc` in place; returns what it did. */
function mutateJson(rng: Rng, doc: Json): string {
  const all = containers(doc)
  const c = rng.pick(all)
  const keys = Array.isArray(c) ? c.map((_, i) => i) : Object.keys(c)
  if (keys.length === 0) {
    if (Array.isArray(c)) c.push(rng.pick(BAD_NUMBERS) as Json)
    else c[hostile(rng)] = 1
    return 'filled an empty container'
  }
  const key = rng.pick(keys as (string | number)[])
  const set = (v: unknown) => ((c as Record<string | number, unknown>)[key] = v)
  const frames = (doc as { frames?: unknown[] }).frames
  switch (rng.int(9)) {
    case 0:
      if (Array.isArray(c)) c.splice(key as number, 1)
      else delete c[key as string]
      return `deleted ${key}`
    case 1:
      set(rng.pick(BAD_NUMBERS))
      return `${key}: a wrong value`
    case 2:
      set(hostile(rng))
      return `${key}: a hostile string`
    case 3: {
      // References out of range: the frame and parent indexes, the children.
      const k = rng.pick(['frame', 'parent', 'children', 'root', 'nodes', 'threads', 'frames', 'totals', 'paths', 'steps'])
      const target = all.find((x) => !Array.isArray(x) && k in x && rng.chance(0.5)) ?? all.find((x) => !Array.isArray(x) && k in x)
      if (!target || Array.isArray(target)) return 'no reference to break'
      const n = Array.isArray(frames) ? frames.length : 0
      const bad = k === 'frame' || k === 'parent' ? rng.pick([n, n + 1, -1, 2 ** 31, 0.5, null, '0']) : rng.pick([null, {}, [], 'x', 0, [null], [[]]])
      target[k] = bad as Json
      return `${k}: ${JSON.stringify(bad)}`
    }
    case 4: {
      // A big copy: a subtree or element duplicated many times.
      if (!Array.isArray(c) || c.length === 0) return 'no array to grow'
      const times = rng.size(rng.cap === Infinity ? 2000 : 200)
      for (let i = 0; i < times; i++) c.push(c[rng.int(c.length)]!)
      return `array grown by ${times}`
    }
    case 5:
      set(Array.isArray(c[key as never]) ? {} : [])
      return `${key}: container of the other kind`
    case 6:
      (doc as Record<string, unknown>).version = rng.pick([0, 1, 2, 3, '2', null, 1.5])
      return 'version changed'
    case 7:
      set(null)
      return `${key}: null`
    default:
      if (!Array.isArray(c)) c[`extra${rng.int(3)}`] = hostile(rng)
      return 'an unknown member'
  }
}

/** Stringifies with a cap on depth errors: a value too deep to stringify is written flat instead. */
function text(value: Json): string {
  try {
    return JSON.stringify(value)
  } catch {
    return '{"pyxray":"profile","version":2}'
  }
}

/** A document input: the JSON text (sometimes cut or with a byte changed) and what was done. */
function finish(rng: Rng, made: { what: string; value: Json }): { what: string; text: string } {
  const edits: string[] = []
  const mutations = rng.chance(0.35) ? 0 : 1 + rng.int(rng.chance(0.8) ? 2 : 6)
  for (let i = 0; i < mutations; i++) edits.push(mutateJson(rng, made.value))
  let t = text(made.value)
  const textEdit = rng.next()
  if (textEdit < 0.05) {
    t = t.slice(0, rng.int(t.length))
    edits.push('text truncated')
  } else if (textEdit < 0.1) {
    const at = rng.int(t.length)
    t = t.slice(0, at) + rng.pick(['"', '{', ']', '\\', '\u0000', '1e999', ',']) + t.slice(at + 1)
    edits.push('a character changed')
  }
  // Like the .pyc inputs, at most MAX_INPUT_BYTES (the worker's heap limit is set for that size).
  if (t.length > MAX_INPUT_BYTES) {
    t = t.slice(0, MAX_INPUT_BYTES)
    edits.push('cut to the largest input')
  }
  return { what: `${made.what}${edits.length ? `; ${edits.join(', ')}` : ''}`, text: t }
}

/** A profile document input. */
export function profileInput(rng: Rng): { what: string; text: string } {
  if (rng.chance(0.25)) {
    const f = rng.pick(profileFixtures())
    let value = JSON.parse(f.text) as Json
    if (rng.chance(0.5)) {
      try {
        value = flattenProfile(readProfileDocument(value, f.name)) as unknown as Json
      } catch {
        // Memory-mode fixtures and the like stay as they are.
      }
    }
    return finish(rng, { what: `fixture ${f.name}`, value })
  }
  return finish(rng, generatedProfile(rng))
}

/** A memory document input. */
export function memoryInput(rng: Rng): { what: string; text: string } {
  return finish(rng, memoryDocument(rng))
}

// ---------------------------------------------------------------------------------------------
// requests

/** The files a fuzzed server's profile names (made by the fuzzer in its scratch folder, see fuzz.ts). */
export const SERVED_FILES = ['src/ok.py', 'src/fifo', 'src/shadow-link', 'src/big.py', 'src/zero-link', 'outside.py'] as const

/** What a request input needs to know about the server it goes to. */
export interface RequestPlan {
  readonly what: string
  readonly method: string
  /** The request target's bytes (latin1), exactly as sent. */
  readonly target: string
  /** Header lines: [name, value]; HOST, TOKEN and COOKIE are replaced by the right values when sent. */
  readonly headers: readonly (readonly [string, string])[]
  readonly body: string
}

const TARGETS: readonly ((rng: Rng) => string)[] = [
  () => '//%5B',
  () => '//[',
  () => 'http://[/',
  () => '//a:b@[::1',
  () => '/\\evil.example/',
  () => '/%ZZ',
  () => '/%',
  () => '/%C0%AF',
  () => '/%00',
  () => '/a%0d%0aSet-Cookie:%20x=1',
  () => '/../../../../etc/passwd',
  () => '/..%2f..%2f..%2fetc%2fshadow',
  () => '/assets/../../index.html',
  (rng) => `/${'a/'.repeat(rng.pickSize([10, 2000, 5000]))}`,
  () => '*',
  () => '',
  () => '/',
  () => '/index.html',
  () => '/missing.js',
  () => '/api/runtimes',
  () => '/api/profiles',
  (rng) => `/api/profiles/${rng.pick(['0', '1', '99', '-1', '0x0', '1e3', '00', '9'.repeat(400)])}`,
  (rng) => `/api/source?file=${encodeURIComponent(rng.pick(['/etc/shadow', '/etc/passwd', '/dev/zero', '/dev/stdin', '/proc/self/environ', 'SCRATCH/src/ok.py', 'SCRATCH/src/fifo', 'SCRATCH/src/shadow-link', 'SCRATCH/src/big.py', 'SCRATCH/src/zero-link', 'SCRATCH/outside.py', 'SCRATCH/src/../src/ok.py', 'src/ok.py', '', '\u0000', 'SCRATCH/src/ok.py\u0000.png']))}`,
  (rng) => `/api/source?file=${rng.pick(['%', '%E0%A4%A', 'a&file=b', '&&&', '%2Fetc%2Fshadow'])}`,
  () => '/api/source',
  () => '/api/compile',
  () => '/api/nothing',
  (rng) => `/?token=${rng.pick(['TOKEN', 'wrong', '', 'TOKEN&token=x', '%00'])}`,
  (rng) => `/${Array.from({ length: 1 + rng.int(40) }, () => String.fromCharCode(33 + rng.int(94))).join('')}`,
  (rng) => `/${Array.from({ length: 1 + rng.int(20) }, () => `%${rng.int(256).toString(16).padStart(2, '0')}`).join('')}`,
]

/** One hostile request to the server. */
export function requestInput(rng: Rng): RequestPlan {
  const target = rng.pick(TARGETS)(rng)
  const method = rng.chance(0.8) ? 'GET' : rng.pick(['HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH'])
  const headers: [string, string][] = []
  const r = rng.next()
  headers.push(['host', r < 0.8 ? 'HOST' : rng.pick(['evil.example', 'localhost', '127.0.0.1:1', '[::1]:80', '', 'HOST\u00ff'])])
  if (rng.chance(0.2)) headers.push(['host', 'evil.example'])
  const auth = rng.next()
  if (auth < 0.5) headers.push(['x-pyxray-token', rng.chance(0.9) ? 'TOKEN' : rng.pick(['wrong', '', 'TOKEN '])])
  else if (auth < 0.75) headers.push(['cookie', rng.pick(['COOKIE', 'pyxray_token_1=TOKEN', 'COOKIE; COOKIE', ';;;=', 'COOKIE=x'])])
  if (rng.chance(0.2)) headers.push(['origin', rng.pick(['http://evil.example', 'null', 'http://HOST', ''])])
  if (rng.chance(0.1)) headers.push(['sec-fetch-site', rng.pick(['cross-site', 'same-origin', 'none'])])
  let body = ''
  if (method === 'POST' || method === 'PUT' || rng.chance(0.05)) {
    // Bodies that never compile: no interpreter is started by the fuzzer.
    body = rng.pick(['', '{', 'null', '[]', '{"source": 1}', '{"optimize": 9}', '{"source": null, "runtime": "x"}', '{"source": 3, "ast": false}', '\u0000\u00ff', 'x'.repeat(rng.pickSize([10, 4000, 100_000, 9 << 20]))])
    headers.push(['content-type', rng.pick(['application/json', 'text/plain', 'application/json; charset=utf-8', ''])])
    if (rng.chance(0.1)) headers.push(['transfer-encoding', 'chunked'])
  }
  return { what: `${method} ${target.slice(0, 60)}`, method, target, headers, body }
}
