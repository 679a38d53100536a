/**
 * The document and server entry points of the fuzzer (scripts/fuzz.ts): what each does with a
 * `profile`, `memory` or `request` input (scripts/fuzz-docs.ts) and what counts as a finding.
 *
 * Documents go through the CLI's main() in this process (`report`, `diff`, `export`: exit 0, 1
 * for a diff's failed gate, or 2 with one line — anything else is a finding, and so is an ESC
 * byte in text or Markdown written without --color), the HTML report (no `</script` or `<!--`
 * of the document may reach the page), the memory reader and renderer, and the server's loader.
 * Requests go to a `pyxray serve` started once per process (its profile names a regular file, a
 * FIFO, a link to /etc/shadow, a link to /dev/zero, a file over the size cap and one outside the
 * profile's roots): every answer must be 2xx–4xx, and the server must answer the next request.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ProfileDocumentError, readProfileDocument } from '../src/profile/document.js'
import { ExportError, HTML_REPORT_SLOT, htmlReport } from '../src/profile/export/index.js'
import { MEMORY_FORMATS, renderMemoryReport } from '../src/profile/memory-report.js'
import { MemoryDocumentError, parseMemoryDocument } from '../src/profile/memory-document.js'
import { ReportError } from '../src/profile/report.js'
import { checkRequest, type Guard } from '../src/server/security.js'
import { loadProfiles } from '../src/server/profiles.js'
import { type RunningServer, startServer } from '../src/server/server.js'
import { MAX_SOURCE, SourceError, SourceFiles } from '../src/server/sources.js'
import type { GeneratedInput } from './fuzz-gen.js'
import type { RequestPlan } from './fuzz-docs.js'

/** The typed errors of the document and server code. */
export function isDocTypedError(e: unknown): e is ProfileDocumentError | MemoryDocumentError | ExportError | ReportError | SourceError {
  return e instanceof ProfileDocumentError || e instanceof MemoryDocumentError || e instanceof ExportError || e instanceof ReportError || e instanceof SourceError
}

type EntryResult = { outputs: (string | Uint8Array)[]; label?: string }

/**
 * Where the fuzzer writes its scratch files: memory (/dev/shm) when there is one — rewriting a
 * file on a disk file system costs milliseconds (the truncation waits for the data), a hundred
 * thousand times over.
 */
export function scratchBase(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir()
}

/** A scratch folder of this process, made on first use. */
let scratch: string | undefined
function dir(): string {
  scratch ??= mkdtempSync(join(scratchBase(), 'pyxray-fuzz-docs-'))
  return scratch
}

const FIXTURES = join(fileURLToPath(import.meta.url), '../../test/fixtures/profiles')
/** A template with the data slot, as `npm run build:web` makes it (with a script of its own to count). */
const TEMPLATE = `<!doctype html><html><head><script>var a = 1</script></head><body>${HTML_REPORT_SLOT}<!-- end --></body></html>`

const count = (text: string, needle: string) => text.split(needle).length - 1

/** The command lines of each document entry point (F: the input, BASE: a fixture profile, OUT: a scratch file). */
export const DOC_COMMANDS: Readonly<Record<'report' | 'diff' | 'export', readonly (readonly string[])[]>> = {
  report: [
    ['report', 'F', '--no-color'],
    ['report', 'F', '--format', 'markdown'],
    ['report', 'F', '--format', 'json'],
    ['report', 'F', '--tree', '--no-color', '--min-percent', '0'],
    ['report', 'F', '--tree', '--format', 'markdown'],
    ['report', 'F', '--callers', 'func_1', '--no-color'],
    ['report', 'F', '--callees', 'func_2', '--format', 'markdown'],
    ['report', 'F', '--sort', 'total', '--top', '1000', '--format', 'json'],
  ],
  diff: [
    ['diff', 'BASE', 'F', '--no-color'],
    ['diff', 'F', 'BASE', '--format', 'markdown'],
    ['diff', 'F', 'F', '--tree', '--no-color', '--min-percent', '0'],
    ['diff', 'BASE', 'F', '--format', 'json'],
    ['diff', 'F', 'BASE', '--tree', '--no-color'],
  ],
  export: [
    ['export', 'F', '--to', 'speedscope', '-o', 'OUT'],
    ['export', 'F', '--to', 'pstats', '-o', 'OUT'],
    ['export', 'F', '--to', 'collapsed', '-o', 'OUT'],
    ['export', 'F', '--to', 'chrome', '-o', 'OUT'],
  ],
}

/**
 * The lines of stderr that are not warnings: a warning ("pyxray dis: warning: --show-caches …", a
 * flag that does not apply to the file's version) comes before the one error line and is no finding.
 */
export function errorLines(stderr: string): string[] {
  return stderr
    .trimEnd()
    .split('\n')
    .filter((line) => !/^pyxray [a-z-]+: warning: /.test(line))
}

/** "ok", "exit 1 gate" (diff), "exit 2 <what>" for one line on stderr; anything else "CRASH …". */
export function docCliLabel(command: string, exitCode: number | null, stderr: string): string {
  if (exitCode === 0) return 'ok'
  if (exitCode === 1 && command === 'diff') return 'exit 1 gate'
  const lines = errorLines(stderr)
  if (exitCode === 2 && lines.length === 1 && lines[0]!.startsWith('pyxray: ')) {
    const m = /(invalid profile|invalid memory document|not JSON|not a pyxray [a-z ]+|version|no function|no thread|[a-z][a-z ]{3,30})/i.exec(lines[0]!.slice(8).replace(/^[^:]*: /, ''))
    return `exit 2 ${m ? m[1] : 'other'}`
  }
  return `CRASH exit ${exitCode}: ${stderr.slice(0, 300)}`
}

/** Runs one CLI command line of a document entry point through main() in this process. */
async function docCli(argv: readonly string[], file: string): Promise<EntryResult> {
  const { main } = await import('../src/cli/main.js')
  const d = dir()
  const args = argv.map((a) => (a === 'F' ? file : a === 'BASE' ? join(FIXTURES, 'planted-base.json') : a === 'OUT' ? join(d, 'out') : a))
  const out: string[] = []
  const err: string[] = []
  const code = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t) })
  let label = docCliLabel(argv[0]!, code, err.join(''))
  // Text and Markdown without --color: no ESC byte may reach the terminal.
  if (!label.startsWith('CRASH') && !argv.includes('json') && out.some((t) => t.includes('\x1b'))) label = `CRASH ESC in the output of ${argv.join(' ')}`
  return { outputs: out, label }
}

/** Runs a document entry point on a profile or memory document. */
export async function docEntry(entry: string, input: GeneratedInput): Promise<EntryResult> {
  const text = new TextDecoder().decode(input.bytes)
  const file = join(dir(), 'doc.json')
  if (entry === 'report' || entry === 'diff' || entry === 'export') {
    writeFileSync(file, input.bytes)
    const commands = DOC_COMMANDS[entry]
    // Two command lines per input, rotating, so that every one is reached.
    const picks = [commands[input.index % commands.length]!, commands[(input.index + 1 + Math.floor(input.index / commands.length)) % commands.length]!]
    const outputs: string[] = []
    let label = 'ok'
    for (const argv of picks) {
      const r = await docCli(argv, file)
      outputs.push(...(r.outputs as string[]))
      if (r.label !== 'ok' && !label.startsWith('CRASH')) label = r.label!
    }
    return { outputs, label }
  }
  if (entry === 'html') {
    const doc = readProfileDocument(text, 'fuzz.json')
    const page = htmlReport(TEMPLATE, doc, 'fuzz.json')
    for (const needle of ['</script', '<!--', '<script']) {
      if (count(page.toLowerCase(), needle) !== count(TEMPLATE.toLowerCase(), needle)) return { outputs: [page], label: `CRASH the page holds an extra ${needle}` }
    }
    return { outputs: [page] }
  }
  if (entry === 'memory') {
    const doc = parseMemoryDocument(text)
    const outputs = MEMORY_FORMATS.map((f) => renderMemoryReport(doc, f))
    if (outputs.some((o, i) => MEMORY_FORMATS[i] !== 'json' && o.includes('\x1b'))) return { outputs, label: 'CRASH ESC in a memory report' }
    return { outputs }
  }
  if (entry === 'serve-load') {
    writeFileSync(file, input.bytes)
    const [p] = loadProfiles([file])
    new SourceFiles([p!])
    return { outputs: [p!.text] }
  }
  throw new Error(`no document entry point ${entry}`)
}

// ---------------------------------------------------------------------------------------------
// the server

interface Served {
  readonly server: RunningServer
  readonly guard: Guard
  readonly sources: SourceFiles
  readonly root: string
  readonly log: string[]
}

let served: Promise<Served> | undefined

/** Starts this process's server before the first input (so that no input is charged with it). */
export async function warmTargets(): Promise<void> {
  // A server that cannot start (no mkfifo, say) fails each request input, visibly, instead.
  await server().catch((e: unknown) => console.error(`fuzz: the server did not start: ${e instanceof Error ? e.message : String(e)}`))
}

/** The server of this process and the files its profile names (see the module comment). */
function server(): Promise<Served> {
  served ??= (async () => {
    const root = join(dir(), 'served')
    const src = join(root, 'src')
    mkdirSync(src, { recursive: true })
    writeFileSync(join(src, 'ok.py'), 'print("hello")\n')
    writeFileSync(join(src, 'main.py'), 'import ok\n')
    execFileSync('mkfifo', [join(src, 'fifo')])
    symlinkSync('/etc/shadow', join(src, 'shadow-link'))
    symlinkSync('/dev/zero', join(src, 'zero-link'))
    writeFileSync(join(src, 'big.py'), '')
    truncateSync(join(src, 'big.py'), MAX_SOURCE + 1)
    writeFileSync(join(root, 'outside.py'), 'secret = 1\n')
    const files = ['ok.py', 'fifo', 'shadow-link', 'zero-link', 'big.py'].map((f) => join(src, f))
    const frames = [...files, join(root, 'outside.py'), '/etc/shadow', '/etc/passwd', '/dev/zero', '/proc/self/environ'].map((file, i) => ({ file, firstlineno: 1, qualname: `f${i}`, kind: 'python' }))
    const sample = JSON.parse(readFileSync(join(FIXTURES, 'sample.json'), 'utf8')) as { metadata: Record<string, unknown> }
    const node = (frame: number | null, children: unknown[]) => ({ frame, calls: 1, totalNs: 1, selfNs: frame === null ? 0 : 1, children })
    const profile = {
      pyxray: 'profile',
      version: 1,
      metadata: { ...sample.metadata, cwd: src, argv: ['main.py'], mode: 'trace', tracer: 'sys.setprofile', intervalNs: undefined, samples: undefined },
      frames,
      threads: [{ id: 1, name: 'MainThread', main: true, root: { frame: null, calls: 0, totalNs: frames.length, selfNs: 0, children: frames.map((_, i) => node(i, [])) } }],
    }
    const profileFile = join(root, 'profile.json')
    writeFileSync(profileFile, JSON.stringify(profile))
    const web = join(root, 'web')
    mkdirSync(web)
    writeFileSync(join(web, 'index.html'), '<!doctype html><html><head></head><body></body></html>')
    writeFileSync(join(web, 'app.js'), '1')
    const log: string[] = []
    const s = await startServer({ port: 0, token: 'fuzz-token-0123456789', webRoot: web, profiles: [profileFile], log: (line) => log.push(line) })
    return { server: s, guard: { host: '127.0.0.1', port: s.port, token: s.token }, sources: new SourceFiles(loadProfiles([profileFile])), root, log }
  })()
  return served
}

/** Removes this process's scratch folder at once (a worker being stopped: its server dies with it). */
export function removeScratch(): void {
  if (scratch) rmSync(scratch, { recursive: true, force: true })
  scratch = undefined
}

/** Stops this process's server and removes its scratch folder (the sampled test calls it at the end). */
export async function closeTargets(): Promise<void> {
  if (served) await (await served).server.close()
  served = undefined
  if (scratch) rmSync(scratch, { recursive: true, force: true })
  scratch = undefined
}

/** The request's target and header lines with HOST, TOKEN, COOKIE and SCRATCH filled in. */
function filled(plan: RequestPlan, s: Served): { target: string; headers: [string, string][] } {
  const fill = (v: string) =>
    v
      .replaceAll('HOST', `127.0.0.1:${s.guard.port}`)
      .replaceAll('TOKEN', s.guard.token)
      .replaceAll('COOKIE', `pyxray_token_${s.guard.port}=${s.guard.token}`)
      .replaceAll('SCRATCH', encodeURIComponent(s.root).replaceAll('%2F', '/'))
  return { target: fill(plan.target), headers: plan.headers.map(([k, v]) => [k, fill(v)] as [string, string]) }
}

/** Sends the request byte for byte; resolves with the status of the answer (0: none came). */
function send(s: Served, plan: RequestPlan): Promise<{ status: number; text: string }> {
  const { target, headers } = filled(plan, s)
  const chunked = headers.some(([k]) => k === 'transfer-encoding')
  const body = Buffer.from(plan.body, 'utf8')
  const head = [`${plan.method} ${target} HTTP/1.1`, ...headers.map(([k, v]) => `${k}: ${v}`), ...(chunked ? [] : [`content-length: ${body.length}`]), 'connection: close', '', '']
  const payload = Buffer.concat([Buffer.from(head.join('\r\n'), 'latin1'), chunked ? Buffer.from(`${body.length.toString(16)}\r\n`) : Buffer.alloc(0), body, chunked ? Buffer.from('\r\n0\r\n\r\n') : Buffer.alloc(0)])
  return new Promise((resolve) => {
    const socket = connect(s.guard.port, '127.0.0.1')
    const chunks: Buffer[] = []
    const timer = setTimeout(() => socket.destroy(), 10_000)
    socket.on('data', (c: Buffer) => chunks.push(c))
    // The server may close while a large body is still being written (it answered 413): fine.
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString('latin1')
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(text)
      resolve({ status: m ? Number(m[1]) : 0, text })
    })
    // Written without a half-close (as browsers and curl do): Node's server drops a half-closed
    // connection whose answer is still being made.
    socket.write(payload)
  })
}

/** Runs a request entry point. */
export async function requestEntry(entry: string, input: GeneratedInput): Promise<EntryResult> {
  const plan = input.request!
  const s = await server()
  if (entry === 'request-parse') {
    const { target, headers } = filled(plan, s)
    const h: Record<string, string | string[]> = {}
    for (const [k, v] of headers) h[k] = h[k] === undefined ? v : [h[k] as string, v].flat()
    const verdict = checkRequest(s.guard, { url: target, headers: h })
    if (!target.startsWith('/') && verdict.ok) return { outputs: [], label: `CRASH ${JSON.stringify(target)} accepted as a path` }
    return { outputs: [], label: verdict.ok ? 'ok' : `refused ${verdict.status}` }
  }
  if (entry === 'server') {
    const before = s.log.length
    const r = await send(s, plan)
    if (s.log.length > before) return { outputs: [r.text], label: `CRASH the server logged: ${s.log.slice(before).join(' | ').slice(0, 300)}` }
    if (r.status === 0) return { outputs: [], label: 'CRASH no answer' }
    if (r.status >= 500) return { outputs: [r.text], label: `CRASH status ${r.status}: ${r.text.slice(0, 300)}` }
    // The secrets never come back.
    if (/^root:[^:\n]*:/m.test(r.text)) return { outputs: [], label: 'CRASH a system file was served' }
    return { outputs: [], label: `status ${r.status}` }
  }
  if (entry === 'source') {
    const q = filled(plan, s).target.indexOf('?file=')
    if (q < 0) return { outputs: [], label: 'no file' }
    let file: string
    try {
      file = decodeURIComponent(filled(plan, s).target.slice(q + 6).split('&')[0]!)
    } catch {
      return { outputs: [], label: 'bad encoding' }
    }
    const text = await s.sources.read(file)
    if (!file.startsWith(s.root) || !file.endsWith('ok.py')) return { outputs: [text], label: `CRASH ${JSON.stringify(file)} was served` }
    return { outputs: [text] }
  }
  throw new Error(`no request entry point ${entry}`)
}
