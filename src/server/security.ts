/**
 * The request rules of `pyxray serve`. The server runs the user's Python interpreters, so a page
 * from anywhere else must not be able to use it:
 *
 * - **Host** must be the server's own `host:port` (or `localhost:port` on loopback): a DNS
 *   rebinding attack reaches 127.0.0.1 under a foreign name, and is refused here.
 * - **Origin**, when the browser sends one, must be the server's own origin; so must
 *   `Sec-Fetch-Site` not be `cross-site`.
 * - **The token** (random, printed in the URL) must come with every request: as the
 *   `X-Pyxray-Token` header, as `?token=` (the first page load), or as the cookie that first load
 *   sets. The cookie is `HttpOnly` (no script reads it) and `SameSite=Strict` (no other site's
 *   request carries it). Its name carries the port (`pyxray_token_8123`): browsers share cookies
 *   between the ports of one host, so two servers must not overwrite each other's token.
 * - **The request target** must be a path (origin-form, `/…` but not `//…`), at most
 *   {@link MAX_TARGET} bytes, whose percent-encoding decodes to UTF-8 without control characters;
 *   anything else is a 400. It is split by hand, never by `new URL` (which throws on `//[` and
 *   reads `//host` and `/\host` as a host). Checked first: a malformed request learns nothing else.
 */

/** The prefix of the cookie holding the token; the server's port follows it. */
export const TOKEN_COOKIE_PREFIX = 'pyxray_token_'
/** The longest request target accepted, in characters (Node itself refuses header blocks over 16 KB). */
export const MAX_TARGET = 8192
/** The header that may carry the token (for scripts and tests). */
export const TOKEN_HEADER = 'x-pyxray-token'

/** What the rules need to know about the server. */
export interface Guard {
  /** The address the server listens on, e.g. "127.0.0.1". */
  readonly host: string
  readonly port: number
  readonly token: string
}

/** The headers and URL of one request (lower-case header names, as Node gives them). */
export interface RequestFacts {
  /** The request target exactly as sent (Node's `req.url`). */
  readonly url: string
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
}

/** A request target split into its parts. */
export interface Target {
  /** The path, percent-decoded ("/api/source"). */
  readonly path: string
  /** The query string's parameters. */
  readonly query: URLSearchParams
}

/** The verdict on one request. */
export type Verdict =
  | { readonly ok: true; readonly target: Target; /** The token came in the query string: set the cookie. */ readonly setCookie: boolean }
  | { readonly ok: false; readonly status: 400 | 403; readonly reason: string }

/**
 * Splits a request target; a one-line reason when it is not a path this server can answer. Never
 * throws, whatever the bytes.
 */
export function parseTarget(raw: string): Target | { readonly bad: string } {
  if (raw.length > MAX_TARGET) return { bad: `request target over ${MAX_TARGET} bytes` }
  if (!raw.startsWith('/')) return { bad: 'the request target must be a path starting with "/"' }
  // "//host…" reads as a host to URL parsers and to browsers following a Location: never a path here.
  if (raw.startsWith('//')) return { bad: 'the request target starts with "//"' }
  const hash = raw.indexOf('#')
  const noFragment = hash < 0 ? raw : raw.slice(0, hash)
  const q = noFragment.indexOf('?')
  const encoded = q < 0 ? noFragment : noFragment.slice(0, q)
  let path: string
  try {
    path = decodeURIComponent(encoded)
  } catch {
    return { bad: 'the path has invalid percent-encoding' }
  }
  if (/[\u0000-\u001f\u007f]/.test(path)) return { bad: 'the path holds a control character' }
  return { path, query: new URLSearchParams(q < 0 ? '' : noFragment.slice(q + 1)) }
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v)

/** The Host values the server answers to. */
export function allowedHosts(g: Guard): string[] {
  const name = g.host.includes(':') ? `[${g.host}]` : g.host
  const hosts = [`${name}:${g.port}`.toLowerCase()]
  if (g.host === '127.0.0.1' || g.host === '::1' || g.host === 'localhost') hosts.push(`localhost:${g.port}`, `127.0.0.1:${g.port}`)
  return [...new Set(hosts)]
}

/** Compares two strings in time independent of where they differ. */
function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

/** The value of one cookie in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/** Applies the rules to one request. */
export function checkRequest(g: Guard, req: RequestFacts): Verdict {
  const target = parseTarget(req.url)
  if ('bad' in target) return { ok: false, status: 400, reason: target.bad }
  const host = one(req.headers.host)
  const hosts = allowedHosts(g)
  if (!host || !hosts.includes(host.toLowerCase())) {
    return { ok: false, status: 403, reason: `Host "${host ?? ''}" is not this server (${hosts.join(' or ')})` }
  }
  const origin = one(req.headers.origin)
  if (origin !== undefined && origin !== `http://${host.toLowerCase()}`) {
    return { ok: false, status: 403, reason: `Origin "${origin}" is not this server (http://${host})` }
  }
  if (one(req.headers['sec-fetch-site']) === 'cross-site') {
    return { ok: false, status: 403, reason: 'cross-site request' }
  }
  const header = one(req.headers[TOKEN_HEADER])
  if (header !== undefined) {
    return sameSecret(header, g.token) ? { ok: true, target, setCookie: false } : { ok: false, status: 403, reason: 'wrong token' }
  }
  const query = target.query.get('token')
  if (query !== null) {
    return sameSecret(query, g.token) ? { ok: true, target, setCookie: true } : { ok: false, status: 403, reason: 'wrong token' }
  }
  const cookie = cookieValue(one(req.headers.cookie), tokenCookieName(g.port))
  if (cookie !== undefined && sameSecret(cookie, g.token)) return { ok: true, target, setCookie: false }
  return { ok: false, status: 403, reason: 'no token: open the URL pyxray serve printed (it ends in ?token=…)' }
}

/** The name of the token cookie of the server on `port`. */
export function tokenCookieName(port: number): string {
  return `${TOKEN_COOKIE_PREFIX}${port}`
}

/** The Set-Cookie value for the token of the server on `port`. */
export function tokenCookie(port: number, token: string): string {
  return `${tokenCookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`
}
