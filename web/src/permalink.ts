/**
 * Permalinks: the Explorer's state (source, runtime, optimize, pane, code object, compare
 * sources) in the URL hash, `#code=z.<base64url of deflate-raw(JSON)>`. Where the browser lacks
 * CompressionStream the JSON is stored uncompressed (`#code=j.<base64url of UTF-8 JSON>`); both
 * forms are read everywhere CompressionStream exists, and `j.` links everywhere.
 */
import type { CompareState } from './explorer/compare.js'

/** The side-pane tabs of the Explorer. */
export type ExplorerTab = 'stack' | 'ast' | 'code'

/** What a permalink restores. */
export interface ExplorerLink {
  readonly v: 1
  readonly source: string
  /** A runtime id ("native:3.12", "pyodide"). */
  readonly runtime?: string | undefined
  /** "3.12": picks a runtime of that version when the id is not offered here (another transport). */
  readonly version?: string | undefined
  readonly optimize?: -1 | 0 | 1 | 2
  readonly tab?: ExplorerTab
  readonly qualname?: string
  /** Present when compare mode was on. */
  readonly compare?: CompareState
}

/** The hash prefix of Explorer permalinks. */
export const LINK_PREFIX = '#code='

/** A permalink that cannot be read. */
export class PermalinkError extends Error {
  override readonly name = 'PermalinkError'
  constructor(
    readonly code: 'LINK_ENCODING' | 'LINK_CONTENT',
    message: string,
  ) {
    super(message)
  }
}

function toBase64Url(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function fromBase64Url(text: string): Uint8Array {
  const b = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
  const out = new Uint8Array(b.length)
  for (let i = 0; i < b.length; i++) out[i] = b.charCodeAt(i)
  return out
}

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(stream))
  return new Uint8Array(await out.arrayBuffer())
}

/** The hash (with its `#code=` prefix) of a state. */
export async function encodeLink(link: ExplorerLink): Promise<string> {
  // Compare sides equal to the source are stored once (a null side is the source): a link stays
  // about the size of its source, not three times it.
  const c = link.compare
  const stored = c ? { ...link, compare: { ...c, a: c.a === link.source ? null : c.a, b: c.b === link.source ? null : c.b } } : link
  const json = new TextEncoder().encode(JSON.stringify(stored))
  if (typeof CompressionStream === 'function') {
    try {
      return `${LINK_PREFIX}z.${toBase64Url(await pipe(json, new CompressionStream('deflate-raw')))}`
    } catch {
      // Fall through to the uncompressed form.
    }
  }
  return `${LINK_PREFIX}j.${toBase64Url(json)}`
}

/** The state a hash holds; undefined when the hash is no permalink; PermalinkError when it is damaged. */
export async function decodeLink(hash: string): Promise<ExplorerLink | undefined> {
  if (!hash.startsWith(LINK_PREFIX)) return undefined
  const body = hash.slice(LINK_PREFIX.length)
  let bytes: Uint8Array
  try {
    const raw = fromBase64Url(body.slice(2))
    if (body.startsWith('z.')) {
      if (typeof DecompressionStream !== 'function') throw new Error('this browser cannot decompress (no DecompressionStream)')
      bytes = await pipe(raw, new DecompressionStream('deflate-raw'))
    } else if (body.startsWith('j.')) bytes = raw
    else throw new Error('unknown form (expected z. or j.)')
  } catch (e) {
    throw new PermalinkError('LINK_ENCODING', `the link's code cannot be read (${e instanceof Error ? e.message : String(e)}); was it cut short when copied?`)
  }
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    throw new PermalinkError('LINK_CONTENT', 'the link holds no readable state (not JSON)')
  }
  const v = value as Partial<ExplorerLink> | null
  if (!v || v.v !== 1 || typeof v.source !== 'string') throw new PermalinkError('LINK_CONTENT', 'the link is not a pyxray Explorer link of version 1')
  const stored = v.compare as (Omit<CompareState, 'a' | 'b'> & { a: string | null; b: string | null }) | undefined
  if (stored && typeof stored === 'object') (v as { compare?: CompareState }).compare = { ...stored, a: stored.a ?? v.source, b: stored.b ?? v.source }
  const c = v.compare
  if (c !== undefined && (typeof c !== 'object' || c === null || typeof c.a !== 'string' || typeof c.b !== 'string' || ![c.codeA, c.codeB].every((q) => q === undefined || typeof q === 'string'))) throw new PermalinkError('LINK_CONTENT', 'the link has damaged compare sources')
  return v as ExplorerLink
}
