/**
 * A client of Grafana Pyroscope's HTTP ingest API (and of Parca's, below): `POST
 * /ingest?name=APP{labels}&from=…&until=…&format=pprof&spyName=pyxray&sampleRate=…` with the
 * pprof as the multipart/form-data field `profile` (and `sample_type_config` naming pyxray's sample types), as Pyroscope documents its
 * pprof ingestion. `X-Scope-OrgID` carries the tenant; credentials come from the caller (the CLI
 * reads them from the environment) and appear in no message. Every failure is a {@link PushError}
 * with a code and one line that says what happened and names no secret.
 *
 * With `protocol: 'parca'` the same pprof goes to Parca's ProfileStoreService.WriteRaw through the
 * HTTP/JSON gateway Parca serves beside gRPC (`POST /api/profiles/writeraw`, the request message
 * in protobuf's JSON mapping: `{"series":[{"labels":{"labels":[{"name","value"}…]},"samples":
 * [{"rawProfile":"<base64>"}]}]}`), the application name as the `__name__` label, as parca-push
 * sends it over gRPC. No protobuf encoder is needed: JSON is the gateway's own format.
 */
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { randomBytes } from 'node:crypto'

/** Why a push failed. */
export type PushErrorCode =
  /** The server answered with a status other than 2xx. */
  | 'PUSH_STATUS'
  /** No answer within the timeout. */
  | 'PUSH_TIMEOUT'
  /** Nobody listening (connection refused). */
  | 'PUSH_REFUSED'
  /** Any other network failure (unknown host, reset). */
  | 'PUSH_NETWORK'

/** A push that did not deliver. */
export class PushError extends Error {
  override readonly name = 'PushError'
  constructor(
    readonly code: PushErrorCode,
    message: string,
    /** The HTTP status (PUSH_STATUS). */
    readonly status?: number,
  ) {
    super(message)
  }
}

/** Where and how to push. */
export interface PushTarget {
  /** The server (http://host:4040) or its ingest URL (…/ingest). */
  readonly url: string
  /** The application name with optional labels: `app{env=prod,region=eu}`. */
  readonly name: string
  /** X-Scope-OrgID. */
  readonly tenant?: string
  /** Authorization header value (`Bearer …` or `Basic …`); never printed. */
  readonly authorization?: string
  /** Bound of the whole request, ms. */
  readonly timeoutMs: number
  /** The server's API: Pyroscope's /ingest (the default) or Parca's WriteRaw (HTTP/JSON gateway). */
  readonly protocol?: PushProtocol
}

/** The ingest APIs pyxray speaks. */
export type PushProtocol = 'pyroscope' | 'parca'

/** Parca's label names (Prometheus's): the keys of --name's labels must be such names. */
export const PARCA_LABEL = /^[A-Za-z_][A-Za-z0-9_]*$/

/** One profile to push. */
export interface PushProfile {
  /** The pprof (gzipped). */
  readonly pprof: Uint8Array
  /** Unix seconds of the window's start and end (from ≤ until). */
  readonly from: number
  readonly until: number
  /** Samples per second (Pyroscope's sampleRate). */
  readonly sampleRate: number
  /** The pprof's sample types, for sample_type_config. */
  readonly sampleTypes: readonly (readonly [type: string, unit: string])[]
}

/** APP or APP{key=value,…}: Pyroscope's application name with labels. */
export const APP_NAME = /^[A-Za-z0-9_.\-/:]+(\{([A-Za-z0-9_.]+=[^,{}=]*)(,[A-Za-z0-9_.]+=[^,{}=]*)*\})?$/

/** The ingest URL of a server URL (appends /ingest unless given). */
export function ingestUrl(server: string): URL {
  const u = new URL(server)
  if (!u.pathname.endsWith('/ingest')) u.pathname = `${u.pathname.replace(/\/+$/, '')}/ingest`
  return u
}

/** Parca's WriteRaw URL of a server URL (appends /api/profiles/writeraw unless given). */
export function writeRawUrl(server: string): URL {
  const u = new URL(server)
  if (!u.pathname.endsWith('/profiles/writeraw')) u.pathname = `${u.pathname.replace(/\/+$/, '')}/api/profiles/writeraw`
  return u
}

/** Where a target's profiles go: its ingest URL (Pyroscope) or WriteRaw URL (Parca). */
export function pushUrl(target: Pick<PushTarget, 'url' | 'protocol'>): URL {
  return target.protocol === 'parca' ? writeRawUrl(target.url) : ingestUrl(target.url)
}

/** APP{k=v,…} as labels: `__name__` = APP, then the given ones in order. */
export function nameLabels(name: string): { name: string; value: string }[] {
  const brace = name.indexOf('{')
  const labels = [{ name: '__name__', value: brace < 0 ? name : name.slice(0, brace) }]
  if (brace >= 0) {
    for (const pair of name.slice(brace + 1, -1).split(',')) {
      const eq = pair.indexOf('=')
      labels.push({ name: pair.slice(0, eq), value: pair.slice(eq + 1) })
    }
  }
  return labels
}

/** The WriteRawRequest in protobuf's JSON mapping: one series (the name's labels), one sample (the pprof, base64). */
export function writeRawBody(name: string, pprof: Uint8Array): Buffer {
  return Buffer.from(JSON.stringify({ series: [{ labels: { labels: nameLabels(name) }, samples: [{ rawProfile: Buffer.from(pprof).toString('base64') }] }] }))
}

/** The sample_type_config Pyroscope reads for pprof: every type summed, named as in the file. */
function sampleTypeConfig(types: PushProfile['sampleTypes']): string {
  return JSON.stringify(Object.fromEntries(types.map(([type, unit]) => [type, { units: unit === 'nanoseconds' ? 'nanoseconds' : unit === 'bytes' ? 'bytes' : 'samples', aggregation: 'sum', 'display-name': type }])))
}

/** The request body: multipart/form-data with `profile` and `sample_type_config`. */
export function ingestBody(p: PushProfile): { readonly body: Buffer; readonly contentType: string } {
  const boundary = `pyxray-${randomBytes(12).toString('hex')}`
  const part = (name: string, filename: string, type: string) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`)
  const body = Buffer.concat([
    part('profile', 'profile.pb.gz', 'application/octet-stream'),
    Buffer.from(p.pprof),
    Buffer.from('\r\n'),
    part('sample_type_config', 'sample_type_config.json', 'application/json'),
    Buffer.from(sampleTypeConfig(p.sampleTypes)),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ])
  return { body, contentType: `multipart/form-data; boundary=${boundary}` }
}

/** Sends one profile; resolves when the server accepted it (2xx), else rejects with a {@link PushError}. */
export function pushProfile(target: PushTarget, p: PushProfile): Promise<void> {
  const url = pushUrl(target)
  const parca = target.protocol === 'parca'
  if (!parca) {
    url.searchParams.set('name', target.name)
    url.searchParams.set('from', String(Math.floor(p.from)))
    url.searchParams.set('until', String(Math.max(Math.floor(p.from), Math.floor(p.until))))
    url.searchParams.set('format', 'pprof')
    url.searchParams.set('spyName', 'pyxray')
    url.searchParams.set('sampleRate', String(Math.max(1, Math.round(p.sampleRate))))
  }
  // Parca: the pprof carries its own time and duration
  const { body, contentType } = parca ? { body: writeRawBody(target.name, p.pprof), contentType: 'application/json' } : ingestBody(p)
  const where = `${url.protocol}//${url.host}${url.pathname}`
  const headers: Record<string, string> = { 'Content-Type': contentType, 'Content-Length': String(body.length), 'User-Agent': 'pyxray' }
  if (target.tenant !== undefined) headers['X-Scope-OrgID'] = target.tenant
  if (target.authorization !== undefined) headers.Authorization = target.authorization
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    let done = false
    const finish = (e?: PushError) => {
      if (done) return
      done = true
      clearTimeout(timer)
      if (e) {
        req.destroy()
        reject(e)
      } else resolve()
    }
    const req = send(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (c: Buffer) => {
        if (size < 4096) chunks.push(c)
        size += c.length
      })
      res.on('end', () => {
        const status = res.statusCode ?? 0
        if (status >= 200 && status < 300) return finish()
        const text = Buffer.concat(chunks).toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200)
        finish(new PushError('PUSH_STATUS', `${where} answered ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}${text ? `: ${text}` : ''}`, status))
      })
      res.on('error', (e) => finish(new PushError('PUSH_NETWORK', `${where}: the answer broke off (${e.message})`)))
    })
    const timer = setTimeout(() => finish(new PushError('PUSH_TIMEOUT', `${where} did not answer within ${target.timeoutMs / 1000} s (--timeout)`)), target.timeoutMs)
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') finish(new PushError('PUSH_REFUSED', `${where}: connection refused (is ${parca ? 'Parca' : 'Pyroscope'} listening there?)`))
      else if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') finish(new PushError('PUSH_NETWORK', `${where}: unknown host ${url.hostname}`))
      else finish(new PushError('PUSH_NETWORK', `${where}: ${e.code ?? e.message}`))
    })
    req.end(body)
  })
}

/** The Authorization header from the environment: PYXRAY_PUSH_TOKEN (Bearer) or PYXRAY_PUSH_BASIC=user:password (Basic). */
export function authorizationFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const token = env.PYXRAY_PUSH_TOKEN
  if (token) return `Bearer ${token}`
  const basic = env.PYXRAY_PUSH_BASIC
  if (basic) return `Basic ${Buffer.from(basic, 'utf8').toString('base64')}`
  return undefined
}
