/**
 * `pyxray serve`: a loopback HTTP server for the web UI. It serves the built UI (dist/web), a JSON
 * API over the Python runtimes (compile + parse) and the profiles it was started with. Every
 * request passes the rules of security.ts (own Host and Origin, the token).
 *
 * API (JSON):
 * - `GET  /api/runtimes` → `{ runtimes: [{ id, label, kind, version, minor }] , default }`
 * - `POST /api/compile` `{ source, runtime?, optimize? }` → `{ runtime, marshal (base64), ast }`,
 *   or 422 `{ error: { code: "SYNTAX_ERROR", message, syntax } }`
 * - `GET  /api/profiles` → `{ profiles: [{ id, name, path }] }`; `GET /api/profiles/ID` → the document
 * - `GET  /api/source?file=ABS` → the text of a file a served profile's frames name
 */
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, extname, join, normalize, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { toJsonText } from '../profile/json.js'
import { agentDir, findInterpreters, isSupported, NativeRuntime, PYODIDE_MINOR, PyodideRuntime, type PythonRuntime, RuntimeError, toBase64 } from '../runtime/index.js'
import { loadProfiles, profileSourceFiles, type ServedProfile } from './profiles.js'
import { checkRequest, type Guard, tokenCookie } from './security.js'

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
}

/** The package root (src/server and dist/server are both two levels below it). */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Where `npm run build:web` puts the UI. */
export const DEFAULT_WEB_ROOT = join(PACKAGE_ROOT, 'dist', 'web')

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.zip': 'application/zip',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.py': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
}

const MAX_BODY = 8 << 20

/** The runtimes on this machine: one native interpreter per minor version, then Pyodide. */
export function listRuntimes(): RuntimeEntry[] {
  const seen = new Set<number>()
  const out: RuntimeEntry[] = []
  for (const it of findInterpreters()) {
    if (!isSupported(it) || seen.has(it.minor)) continue
    seen.add(it.minor)
    out.push({ id: `native:3.${it.minor}`, label: `CPython ${it.version} (${it.path})`, kind: 'native', version: `3.${it.minor}`, minor: it.minor, path: it.path })
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

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY) {
        reject(new HttpError(413, 'TOO_LARGE', `request body over ${MAX_BODY} bytes`))
        req.destroy()
      } else chunks.push(c)
    })
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** Starts the server; resolves once it listens. */
export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1'
  const token = options.token ?? randomBytes(24).toString('hex')
  const webRoot = resolve(options.webRoot ?? DEFAULT_WEB_ROOT)
  const profiles: ServedProfile[] = loadProfiles(options.profiles ?? [])
  const sourceFiles = profileSourceFiles(profiles)
  const runtimes = listRuntimes()
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

  const api = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const path = url.pathname
    if (path === '/api/runtimes' && req.method === 'GET') {
      sendJson(res, 200, { runtimes: runtimes.map(({ path: _p, ...r }) => r), default: runtimes[0]?.id ?? null })
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
        const ast = body.ast === false ? null : await runtime.parse(body.source)
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
      const file = url.searchParams.get('file') ?? ''
      if (!sourceFiles.has(file)) throw new HttpError(404, 'NOT_FOUND', `${file}: not a source file of a served profile`)
      if (!existsSync(file) || statSync(file).size > MAX_BODY) throw new HttpError(404, 'NOT_FOUND', `${file}: no longer readable`)
      sendJson(res, 200, { file, text: readFileSync(file, 'utf8') })
      return
    }
    throw new HttpError(404, 'NOT_FOUND', `no API ${req.method} ${path}`)
  }

  const index = (): string => {
    const file = join(webRoot, 'index.html')
    if (!existsSync(file)) throw new HttpError(500, 'NO_UI', `the web UI is not built (${file} is missing): run npm run build:web`)
    // The page learns it is served by pyxray serve (not a static host) from this tag.
    return readFileSync(file, 'utf8').replace('<head>', '<head>\n    <meta name="pyxray-backend" content="server">')
  }

  const staticFile = (res: ServerResponse, pathname: string): void => {
    const rel = normalize(decodeURIComponent(pathname)).replace(/^[/\\]+/, '')
    const file = resolve(webRoot, rel)
    if (!file.startsWith(webRoot + sep) || !existsSync(file) || statSync(file).isDirectory()) throw new HttpError(404, 'NOT_FOUND', `${pathname}: not found`)
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' })
    res.end(readFileSync(file))
  }

  const server: Server = createServer((req, res) => {
    // No page may learn the token from the Referer, nor sniff types.
    res.setHeader('referrer-policy', 'no-referrer')
    res.setHeader('x-content-type-options', 'nosniff')
    res.setHeader('x-frame-options', 'DENY')
    const verdict = checkRequest(guard, { url: req.url ?? '/', headers: req.headers })
    if (!verdict.ok) {
      sendJson(res, verdict.status, { error: { code: 'FORBIDDEN', message: verdict.reason } })
      return
    }
    const url = new URL(req.url ?? '/', 'http://x')
    if (verdict.setCookie) {
      // Keep the token out of the address bar and history: set the cookie, then drop the query.
      url.searchParams.delete('token')
      res.writeHead(303, { 'set-cookie': tokenCookie(token), location: `${url.pathname}${url.search}`, 'cache-control': 'no-store' })
      res.end()
      return
    }
    const handle = async () => {
      if (url.pathname.startsWith('/api/')) return api(req, res, url)
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'METHOD', `${req.method} is not allowed here`)
      if (url.pathname === '/' || url.pathname === '/index.html') {
        res.writeHead(200, { 'content-type': TYPES['.html']!, 'cache-control': 'no-store' })
        res.end(index())
        return
      }
      staticFile(res, url.pathname)
    }
    handle().catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500
      const code = e instanceof HttpError ? e.code : e instanceof RuntimeError ? e.code : 'INTERNAL'
      const message = e instanceof Error ? e.message : String(e)
      if (!res.headersSent) sendJson(res, status, { error: { code, message } })
      else res.end()
    })
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
