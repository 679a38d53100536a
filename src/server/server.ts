/**
 * `pyxray serve`: a loopback HTTP server for the web UI. It serves the built UI (dist/web), a JSON
 * API over the Python runtimes (compile + parse) and the profiles it was started with. Every
 * request passes the rules of security.ts (own Host and Origin, the token).
 *
 * API (JSON):
 * - `GET  /api/runtimes` → `{ runtimes: [{ id, label, kind, version, minor }] , default }`: `default` is the interpreter the CLI would pick
 * - `POST /api/compile` `{ source, runtime?, optimize? }` → `{ runtime, marshal (base64), ast }`
 *   (`ast`: the tree's top levels, nodes below them trimmed to `_more`: see src/runtime/ast-slice.ts),
 *   or 422 `{ error: { code: "SYNTAX_ERROR", message, syntax } }`
 * - `POST /api/ast` `{ source, runtime?, path }` → `{ ast }`: the subtree at `path` (`/body[3]/value`),
 *   a few levels deep, from the runtime's last parse of that source,
 * - `POST /api/measure` `{ source, runtime?, optimize?, repeat?, minTime? }` → `{ runtime, measured }`:
 *   the source run as `pyxray compare -c` runs a snippet (in a fresh interpreter of that runtime,
 *   closed afterwards), its executed instructions counted per code object and offset and its
 *   timing repeats (seconds per loop); 422 `{ error: { code, message } }` when the code does not
 *   compile or raises
 * - `GET  /api/profiles` → `{ profiles: [{ id, name, path }] }`; `GET /api/profiles/ID` → the document
 * - `GET  /api/source?file=ABS` → `{ file, text }` of a file a served profile's frames name, within
 *   the rules of sources.ts (that profile's folders, Python source, a regular file ≤ 8 MB); else
 *   404 `NOT_FOUND`, 403 `SOURCE_REFUSED` or 413 `SOURCE_TOO_LARGE` with a one-line reason
 *
 * Errors are `{ error: { code, message } }`. No request can stop the server: a malformed request
 * line or target is a 400, a body over {@link MAX_BODY} a 413 (read to its end, so the client gets
 * the answer rather than a reset), and anything a handler throws a 500 and one line in the log.
 */
import { randomBytes } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { dirname, join, normalize, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import sirv from 'sirv'
import { toJsonText } from '../profile/json.js'
import { astAt, astSlice, FETCH_DEPTH, initialSliceDepth } from '../runtime/ast-slice.js'
import type { AstNode } from '../runtime/types.js'
import { agentDir, defaultInterpreter, findInterpreters, isSupported, measure, NativeRuntime, PYODIDE_MINOR, PyodideRuntime, type PythonRuntime, RuntimeError, toBase64 } from '../runtime/index.js'
import { loadProfiles, type ServedProfile } from './profiles.js'
import { checkRequest, type Guard, type Target, tokenCookie } from './security.js'
import { SourceError, SourceFiles } from './sources.js'

/** Options of {@link startServer}. */
export interface ServeOptions {
  /** Address to bind; default 127.0.0.1. */
  readonly host?: string
  /** Port; 0 (default) picks a free one. */
  readonly port?: number
  /** Profile JSON files to offer. */
  readonly profiles?: readonly string[]
  /** The built UI; default dist/web of the package. */
  readonly webRoot?: string
  /** The token; default 24 random bytes, hex. */
  readonly token?: string
  /** Where the server's one-line log messages go (internal errors); default stderr. */
  readonly log?: (line: string) => void
  /**
   * Called first for every request that passed the rules, with its method and decoded path (a
   * hook for logging and for the tests); whatever it throws is answered as a 500 like any handler's
   * exception.
   */
  readonly onRequest?: (method: string, path: string) => void
}

/** A running server. */
export interface RunningServer {
  /** The URL to open, with the token: http://127.0.0.1:PORT/?token=… */
  readonly url: string
  /** http://host:port, without the token. */
  readonly origin: string
  readonly token: string
  readonly port: number
  /** Stops listening and stops the runtimes it started. */
  close(): Promise<void>
}

/** A runtime the UI can pick. */
export interface RuntimeEntry {
  /** "native:3.12" or "pyodide". */
  readonly id: string
  readonly label: string
  readonly kind: 'native' | 'pyodide'
  /** "3.12". */
  readonly version: string
  readonly minor: number
  /** Native: the interpreter. */
  readonly path?: string
  /** The interpreter the CLI would pick (PYXRAY_PYTHON, else the first python3 on PATH): the Explorer starts with it. */
  readonly default?: boolean
}

/** The package root (src/server and dist/server are both two levels below it). */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Vite's content-hashed output: assets/NAME-HASH.EXT (the hash is 8 URL-safe base64 characters). */
const HASHED_ASSET = /^\/assets\/[^/]+-[\w-]{8}\.\w+$/

/** Where `npm run build:web` puts the UI. */
export const DEFAULT_WEB_ROOT = join(PACKAGE_ROOT, 'dist', 'web')


/** The largest request body read, in bytes; a larger one is answered 413. */
export const MAX_BODY = 8 << 20
/** How much of an over-large body is read and dropped before the connection is closed instead. */
const MAX_DISCARD = 64 << 20

/** The runtimes on this machine: one native interpreter per minor version, then Pyodide. */
export function listRuntimes(): RuntimeEntry[] {
  const seen = new Set<number>()
  const out: RuntimeEntry[] = []
  const found = findInterpreters()
  // The interpreter the CLI would pick (PYXRAY_PYTHON, else the first python3 on PATH) stands for its minor version.
  const chosen = defaultInterpreter(found)
  for (const it of chosen ? [chosen, ...found] : found) {
    if (!isSupported(it) || seen.has(it.minor)) continue
    seen.add(it.minor)
    out.push({ id: `native:3.${it.minor}`, label: `CPython ${it.version} (${it.path})`, kind: 'native', version: `3.${it.minor}`, minor: it.minor, path: it.path, ...(it === chosen ? { default: true } : {}) })
  }
  out.sort((a, b) => b.minor - a.minor)
  out.push({ id: 'pyodide', label: `CPython 3.${PYODIDE_MINOR} (Pyodide, in the server)`, kind: 'pyodide', version: `3.${PYODIDE_MINOR}`, minor: PYODIDE_MINOR })
  return out
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  // Profiles of deep recursion nest 100,000+ levels: JSON.stringify would overflow the stack.
  const body = toJsonText(value)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
  res.end(body)
}

/**
 * The request body as text. Over {@link MAX_BODY} bytes it is read to its end and dropped, then
 * refused with a 413: answering while the client still sends would make its kernel see a reset and
 * lose the answer. Past {@link MAX_DISCARD} the 413 goes out at once and the connection closes.
 */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const tooLarge = () => new HttpError(413, 'TOO_LARGE', `request body over ${MAX_BODY} bytes`)
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size <= MAX_BODY) chunks.push(c)
      else if (chunks.length) chunks.length = 0
      if (size > MAX_DISCARD) {
        req.removeAllListeners('data')
        req.removeAllListeners('end')
        reject(tooLarge())
      }
    })
    req.on('end', () => (size > MAX_BODY ? reject(tooLarge()) : resolveBody(Buffer.concat(chunks).toString('utf8'))))
    req.on('error', reject)
  })
}

/** A one-line, printable rendering of an untrusted string for the log. */
const printable = (text: string, max = 200): string => JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text)

/** Timing repeats of `POST /api/measure` unless the request says (fewer than the CLI's 7: the UI waits for them). */
export const MEASURE_REPEAT = 5
/** Seconds each timing repeat of `POST /api/measure` lasts at least, unless the request says. */
export const MEASURE_MIN_TIME = 0.05

/** Starts the server; resolves once it listens. */
export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1'
  const token = options.token ?? randomBytes(24).toString('hex')
  const webRoot = resolve(options.webRoot ?? DEFAULT_WEB_ROOT)
  const profiles: ServedProfile[] = loadProfiles(options.profiles ?? [])
  const sourceFiles = new SourceFiles(profiles)
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`))
  const runtimes = listRuntimes()
  /** The Explorer's first choice: the version the CLI would use (else the newest). */
  const defaultRuntimeId = (runtimes.find((r) => r.default) ?? runtimes[0])?.id
  const started = new Map<string, PythonRuntime>()
  let guard: Guard = { host, port: 0, token }

  const runtimeFor = (id: string | undefined): { entry: RuntimeEntry; runtime: PythonRuntime } => {
    const entry = id === undefined ? runtimes[0] : runtimes.find((r) => r.id === id)
    if (!entry) throw new HttpError(400, 'UNKNOWN_RUNTIME', `unknown runtime "${id}": GET /api/runtimes lists them`)
    let runtime = started.get(entry.id)
    if (!runtime) {
      runtime = entry.kind === 'pyodide' ? new PyodideRuntime(agentDir()) : new NativeRuntime(entry.path!, agentDir(), entry.label)
      started.set(entry.id, runtime)
    }
    return { entry, runtime }
  }

  /** The last parsed tree per runtime: `POST /api/ast` answers from it (a subtree per opened node). */
  const trees = new Map<string, { source: string; tree: AstNode }>()
  const parsed = async (id: string, runtime: PythonRuntime, source: string): Promise<AstNode> => {
    const have = trees.get(id)
    if (have?.source === source) return have.tree
    const tree = await runtime.parse(source)
    trees.set(id, { source, tree })
    return tree
  }
  /** The JSON body of a POST, or a 415/400. */
  const jsonBody = async <T,>(req: IncomingMessage): Promise<T> => {
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'BAD_REQUEST', 'send JSON (content-type: application/json)')
    try {
      return JSON.parse(await readBody(req)) as T
    } catch (e) {
      if (e instanceof HttpError) throw e
      throw new HttpError(400, 'BAD_REQUEST', 'the body is not JSON')
    }
  }

  const api = async (req: IncomingMessage, res: ServerResponse, url: Target): Promise<void> => {
    const path = url.path
    if (path === '/api/ast' && req.method === 'POST') {
      const body = await jsonBody<{ source?: unknown; runtime?: unknown; path?: unknown }>(req)
      if (typeof body.source !== 'string') throw new HttpError(400, 'BAD_REQUEST', '"source" (a string) is required')
      if (typeof body.path !== 'string') throw new HttpError(400, 'BAD_REQUEST', '"path" (a string such as "/body[3]/value") is required')
      const { entry, runtime } = runtimeFor(typeof body.runtime === 'string' ? body.runtime : undefined)
      try {
        const node = astAt(await parsed(entry.id, runtime, body.source), body.path)
        if (!node) throw new HttpError(404, 'NOT_FOUND', `the syntax tree has no node at ${JSON.stringify(body.path)}`)
        sendJson(res, 200, { ast: astSlice(node, FETCH_DEPTH) })
      } catch (e) {
        if (e instanceof RuntimeError && (e.code === 'SYNTAX_ERROR' || e.code === 'COMPILE_ERROR')) {
          sendJson(res, 422, { error: { code: e.code, message: e.message, syntax: e.syntax ?? null } })
          return
        }
        throw e
      }
      return
    }
    if (path === '/api/runtimes' && req.method === 'GET') {
      sendJson(res, 200, { runtimes: runtimes.map(({ path: _p, ...r }) => r), default: defaultRuntimeId ?? null })
      return
    }
    if (path === '/api/compile' && req.method === 'POST') {
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'BAD_REQUEST', 'send JSON (content-type: application/json)')
      let body: { source?: unknown; runtime?: unknown; optimize?: unknown; ast?: unknown }
      try {
        body = JSON.parse(await readBody(req)) as typeof body
      } catch (e) {
        if (e instanceof HttpError) throw e
        throw new HttpError(400, 'BAD_REQUEST', 'the body is not JSON')
      }
      if (typeof body.source !== 'string') throw new HttpError(400, 'BAD_REQUEST', '"source" (a string) is required')
      const optimize = body.optimize ?? -1
      if (optimize !== -1 && optimize !== 0 && optimize !== 1 && optimize !== 2) throw new HttpError(400, 'BAD_REQUEST', '"optimize" is -1, 0, 1 or 2')
      const { entry, runtime } = runtimeFor(typeof body.runtime === 'string' ? body.runtime : undefined)
      try {
        const info = await runtime.info()
        const marshal = await runtime.compile(body.source, { optimize })
        // "ast": false skips the parse (the UI asks only while its AST pane is open).
        // Only the top levels of the tree (see src/runtime/ast-slice.ts); the rest via /api/ast.
        const tree = body.ast === false ? null : await parsed(entry.id, runtime, body.source)
        const ast = tree && astSlice(tree, initialSliceDepth(tree))
        sendJson(res, 200, { runtime: { id: entry.id, kind: info.kind, version: info.version, minor: info.minor }, marshal: toBase64(marshal), ast })
      } catch (e) {
        if (e instanceof RuntimeError && (e.code === 'SYNTAX_ERROR' || e.code === 'COMPILE_ERROR')) {
          sendJson(res, 422, { error: { code: e.code, message: e.message, syntax: e.syntax ?? null } })
          return
        }
        throw e
      }
      return
    }
    if (path === '/api/measure' && req.method === 'POST') {
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'BAD_REQUEST', 'send JSON (content-type: application/json)')
      let body: { source?: unknown; runtime?: unknown; optimize?: unknown; repeat?: unknown; minTime?: unknown }
      try {
        body = JSON.parse(await readBody(req)) as typeof body
      } catch (e) {
        if (e instanceof HttpError) throw e
        throw new HttpError(400, 'BAD_REQUEST', 'the body is not JSON')
      }
      if (typeof body.source !== 'string') throw new HttpError(400, 'BAD_REQUEST', '"source" (a string) is required')
      const optimize = body.optimize ?? -1
      if (optimize !== -1 && optimize !== 0 && optimize !== 1 && optimize !== 2) throw new HttpError(400, 'BAD_REQUEST', '"optimize" is -1, 0, 1 or 2')
      const repeat = body.repeat ?? MEASURE_REPEAT
      if (typeof repeat !== 'number' || !Number.isInteger(repeat) || repeat < 1 || repeat > 50) throw new HttpError(400, 'BAD_REQUEST', '"repeat" is a whole number from 1 to 50')
      const minTime = body.minTime ?? MEASURE_MIN_TIME
      if (typeof minTime !== 'number' || !(minTime > 0) || minTime > 2) throw new HttpError(400, 'BAD_REQUEST', '"minTime" is a number of seconds above 0, at most 2')
      const { entry } = runtimeFor(typeof body.runtime === 'string' ? body.runtime : undefined)
      // A fresh interpreter: the user's code runs in it (and may leave state, or run long), not in the one that compiles.
      const runtime = entry.kind === 'pyodide' ? new PyodideRuntime(agentDir()) : new NativeRuntime(entry.path!, agentDir(), entry.label)
      try {
        const info = await runtime.info()
        const [measured] = await measure(runtime, [{ source: body.source, filename: '<string>', setup: null, call: null, optimize }], { timing: true, counts: true, adaptive: false, repeat, minTime })
        sendJson(res, 200, { runtime: { id: entry.id, kind: info.kind, version: info.version, minor: info.minor }, measured: { timing: measured?.timing ?? null, counts: measured?.counts ?? null } })
      } catch (e) {
        if (e instanceof RuntimeError && (e.code === 'SYNTAX_ERROR' || e.code === 'COMPILE_ERROR' || e.code === 'RUN_ERROR')) {
          sendJson(res, 422, { error: { code: e.code, message: e.message } })
          return
        }
        throw e
      } finally {
        await runtime.close()
      }
      return
    }
    if (path === '/api/profiles' && req.method === 'GET') {
      sendJson(res, 200, { profiles: profiles.map((p) => ({ id: p.id, name: p.name, path: p.path, kind: p.kind })) })
      return
    }
    const m = /^\/api\/profiles\/(\d+)$/.exec(path)
    if (m && req.method === 'GET') {
      const p = profiles.find((x) => x.id === m[1])
      if (!p) throw new HttpError(404, 'NOT_FOUND', `no profile ${m[1]}`)
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
      res.end(p.text)
      return
    }
    if (path === '/api/source' && req.method === 'GET') {
      const file = url.query.get('file') ?? ''
      sendJson(res, 200, { file, text: await sourceFiles.read(file) })
      return
    }
    throw new HttpError(404, 'NOT_FOUND', `no API ${req.method} ${path}`)
  }

  const index = async (): Promise<string> => {
    const file = join(webRoot, 'index.html')
    let html: string
    try {
      html = await readFile(file, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new HttpError(500, 'NO_UI', `the web UI is not built (${file} is missing): run npm run build:web`)
      throw e
    }
    // The page learns it is served by pyxray serve (not a static host) from this tag, and the token
    // (hex; this page is only sent to a client that has it) so that a copied link opens in a fresh browser.
    return html.replace('<head>', `<head>\n    <meta name="pyxray-backend" content="server">\n    <meta name="pyxray-token" content="${token}">`)
  }

  /**
   * The UI's files, by sirv (a kept static-file handler): the folder is listed once at start, each
   * answer carries ETag and Last-Modified and a conditional request gets a 304, Range works (the
   * 9.6 MB Pyodide wasm), a precompressed `.br`/`.gz` beside a file is sent to clients that accept
   * it. Vite's hashed assets (assets/NAME-HASH.EXT) never change under their name: cached for a
   * year, `immutable`; everything else is revalidated (`no-cache`).
   */
  const assets = sirv(webRoot, {
    dev: false,
    etag: true,
    gzip: true,
    brotli: true,
    extensions: [],
    setHeaders: (res, pathname) => res.setHeader('cache-control', HASHED_ASSET.test(pathname) ? 'public, max-age=31536000, immutable' : 'no-cache'),
  })
  /** Only regular files of the folder as it is now (a file gone or replaced by a FIFO since the start is a 404). */
  const staticFile = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const rel = normalize(path).replace(/^[/\\]+/, '')
    const file = resolve(webRoot, rel)
    const notFound = () => new HttpError(404, 'NOT_FOUND', `${path}: not found`)
    if (!file.startsWith(webRoot + sep)) throw notFound()
    const st = await stat(file).catch(() => undefined)
    if (!st?.isFile()) throw notFound()
    await new Promise<void>((done, fail) => {
      res.once('finish', () => done())
      res.once('close', () => done())
      assets(req, res, () => fail(notFound()))
    })
  }

  /** Answers a request that failed: its error as JSON, a 500 (and one log line) for the unexpected. */
  const answerError = (req: IncomingMessage, res: ServerResponse, e: unknown): void => {
    const known = e instanceof HttpError || e instanceof SourceError
    const status = known ? e.status : 500
    const code = known ? e.code : e instanceof RuntimeError ? e.code : 'INTERNAL'
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0]!
    if (status >= 500) log(`pyxray serve: ${status} ${code} on ${req.method ?? '?'} ${printable(req.url ?? '')}: ${e instanceof Error ? e.name : 'error'}: ${message}`)
    try {
      // A body still arriving (over MAX_DISCARD): answer, then close rather than read on.
      if (!req.complete) res.setHeader('connection', 'close')
      if (!res.headersSent) sendJson(res, status, { error: { code, message } })
      else res.destroy()
    } catch {
      res.destroy()
    }
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    // No page may learn the token from the Referer, nor sniff types.
    res.setHeader('referrer-policy', 'no-referrer')
    res.setHeader('x-content-type-options', 'nosniff')
    res.setHeader('x-frame-options', 'DENY')
    const verdict = checkRequest(guard, { url: req.url ?? '', headers: req.headers })
    if (!verdict.ok) {
      if (verdict.status === 400) sendJson(res, 400, { error: { code: 'BAD_REQUEST', message: verdict.reason } })
      else sendJson(res, verdict.status, { error: { code: 'FORBIDDEN', message: verdict.reason } })
      return
    }
    const url = verdict.target
    if (verdict.setCookie) {
      // Keep the token out of the address bar and history: set the cookie, then drop the query.
      url.query.delete('token')
      const search = url.query.toString()
      const location = `/${url.path.replace(/^\/+/, '')}`.split('/').map(encodeURIComponent).join('/')
      res.writeHead(303, { 'set-cookie': tokenCookie(guard.port, token), location: `${location}${search ? `?${search}` : ''}`, 'cache-control': 'no-store' })
      res.end()
      return
    }
    options.onRequest?.(req.method ?? '', url.path)
    const handle = async () => {
      if (url.path.startsWith('/api/')) return api(req, res, url)
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'METHOD', `${req.method} is not allowed here`)
      if (url.path === '/' || url.path === '/index.html') {
        const html = await index()
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        res.end(html)
        return
      }
      return staticFile(req, res, url.path)
    }
    handle().catch((e: unknown) => answerError(req, res, e))
  }

  const server: Server = createServer((req, res) => {
    // The guard: nothing a request does may throw out of here and stop the server.
    try {
      onRequest(req, res)
    } catch (e) {
      answerError(req, res, e)
    }
  })
  // A request Node's parser refuses (no target, NUL or spaces in it, bad header): a short 400
  // (431 for a header block over Node's limit, 408 for one too slow), then the connection closes.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy()
      return
    }
    const [status, text] =
      err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout'] : [400, 'Bad Request']
    const body = `${status} ${text.toLowerCase()}: ${err.code ?? 'malformed request'}\n`
    socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
  })

  await new Promise<void>((ok, fail) => {
    server.once('error', fail)
    server.listen(options.port ?? 0, host, () => ok())
  })
  const port = (server.address() as AddressInfo).port
  guard = { host, port, token }
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    port,
    close: async () => {
      await new Promise<void>((ok) => {
        server.close(() => ok())
        server.closeAllConnections()
      })
      await Promise.all([...started.values()].map((r) => r.close()))
    },
  }
}
