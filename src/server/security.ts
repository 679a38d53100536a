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
 *   request carries it).
 */

/** The cookie holding the token. */
export const TOKEN_COOKIE = 'pyxray_token'
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
  readonly url: string
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
}

/** The verdict on one request. */
export type Verdict =
  | { readonly ok: true; /** The token came in the query string: set the cookie. */ readonly setCookie: boolean }
  | { readonly ok: false; readonly status: 403; readonly reason: string }

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
    return sameSecret(header, g.token) ? { ok: true, setCookie: false } : { ok: false, status: 403, reason: 'wrong token' }
  }
  const query = new URL(req.url, 'http://x').searchParams.get('token')
  if (query !== null) {
    return sameSecret(query, g.token) ? { ok: true, setCookie: true } : { ok: false, status: 403, reason: 'wrong token' }
  }
  const cookie = cookieValue(one(req.headers.cookie), TOKEN_COOKIE)
  if (cookie !== undefined && sameSecret(cookie, g.token)) return { ok: true, setCookie: false }
  return { ok: false, status: 403, reason: 'no token: open the URL pyxray serve printed (it ends in ?token=…)' }
}

/** The Set-Cookie value for the token. */
export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`
}
