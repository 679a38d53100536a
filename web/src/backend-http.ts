/** The {@link Backend} of `pyxray serve`: its JSON API, authenticated by the HttpOnly token cookie. */
import { type ProfileDocument, ProfileDocumentError, readProfileDocument } from '../../src/profile/document.js'
import { fromBase64, type AstNode, type SyntaxErrorDetails } from '../../src/runtime/types.js'
import { type AstNodeRequest, type Backend, BackendError, type CompileRequest, type CompileResult, type MeasureOutcome, type MeasureRequest, type ProfileEntry, type RuntimeOption } from './backend.js'
import type { MeasureResult } from '../../src/bytecode/compare/index.js'

interface ApiError {
  readonly error?: { readonly code?: string; readonly message?: string; readonly syntax?: SyntaxErrorDetails | null }
}

/** Talks to `pyxray serve` at `base` (the page's own origin: the cookie rides along same-origin). */
export class HttpBackend implements Backend {
  readonly kind = 'server' as const
  readonly description = 'pyxray serve (native interpreters)'

  constructor(private readonly base: string) {}

  private async call<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T & ApiError }> {
    let res: Response
    try {
      res = await fetch(new URL(path, this.base), { credentials: 'same-origin', ...init })
    } catch (e) {
      throw new BackendError('NETWORK', `pyxray serve did not answer (${e instanceof Error ? e.message : String(e)}); is it still running?`)
    }
    const body = (await res.json().catch(() => ({}))) as T & ApiError
    if (!res.ok && res.status !== 422) throw new BackendError(body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? `HTTP ${res.status}`)
    return { status: res.status, body }
  }

  async runtimes(): Promise<RuntimeOption[]> {
    const { runtimes, default: chosen } = (await this.call<{ runtimes: RuntimeOption[]; default?: string | null }>('api/runtimes')).body
    return runtimes.map((r) => (r.id === chosen ? { ...r, default: true } : r))
  }

  async compile(request: CompileRequest): Promise<CompileResult> {
    const { status, body } = await this.call<{ runtime: { minor: number; version: string }; marshal: string; ast: AstNode | null }>('api/compile', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    })
    if (status === 422) return { ok: false, message: body.error?.message ?? 'syntax error', syntax: body.error?.syntax ?? null }
    return { ok: true, minor: body.runtime.minor, version: body.runtime.version, marshal: fromBase64(body.marshal), ast: body.ast }
  }

  /** POST /api/ast: a subtree of the AST the server parsed last for this source. */
  async astNode(request: AstNodeRequest): Promise<AstNode> {
    const { status, body } = await this.call<{ ast: AstNode }>('api/ast', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    })
    if (status === 422) throw new BackendError(body.error?.code ?? 'SYNTAX_ERROR', body.error?.message ?? 'syntax error')
    return body.ast
  }

  /** POST /api/measure: the source run in a fresh interpreter of the runtime. */
  async measure(request: MeasureRequest): Promise<MeasureOutcome> {
    const { status, body } = await this.call<{ measured: Pick<MeasureResult, 'timing' | 'counts'> }>('api/measure', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    })
    if (status === 422) return { ok: false, message: body.error?.message ?? 'the code did not run' }
    return { ok: true, measured: body.measured }
  }

  async profiles(): Promise<ProfileEntry[]> {
    return (await this.call<{ profiles: ProfileEntry[] }>('api/profiles')).body.profiles
  }

  /** A served profile, read by the core reader (the server sends the current, flat format). */
  async loadProfile(id: string): Promise<ProfileDocument> {
    const { body } = await this.call<unknown>(`api/profiles/${encodeURIComponent(id)}`)
    try {
      return readProfileDocument(body, `profile ${id}`)
    } catch (e) {
      if (e instanceof ProfileDocumentError) throw new BackendError(e.code, e.message)
      throw e
    }
  }

  async loadMemoryText(id: string): Promise<string> {
    let res: Response
    try {
      res = await fetch(new URL(`api/profiles/${encodeURIComponent(id)}`, this.base), { credentials: 'same-origin' })
    } catch (e) {
      throw new BackendError('NETWORK', `pyxray serve did not answer (${e instanceof Error ? e.message : String(e)}); is it still running?`)
    }
    if (!res.ok) throw new BackendError(`HTTP_${res.status}`, `no document ${id} (HTTP ${res.status})`)
    return res.text()
  }

  async source(file: string): Promise<string | undefined> {
    try {
      return (await this.call<{ text: string }>(`api/source?file=${encodeURIComponent(file)}`)).body.text
    } catch (e) {
      if (e instanceof BackendError && e.code === 'NOT_FOUND') return undefined
      throw e
    }
  }
}
