/**
 * Which files `GET /api/source?file=ABS` reads for the profile viewer, and how. A profile document
 * is input from anywhere (a colleague's run, a download), so the frame files it names are not
 * trusted: a file is served only when all of these hold —
 *
 * 1. **Named.** A served profile's Python frame names exactly this absolute path.
 * 2. **Below that profile's roots** (after resolving symlinks, the file's and the roots'):
 *    - `metadata.cwd`, the folder the program ran in;
 *    - the script's folder: `metadata.argv[0]` resolved against the cwd (for `-m`, the module's
 *      file; nothing for `-c`);
 *    - the Python library: a `…/lib/pythonX.Y/` (or `lib64`, or `pythonX.Yt`) folder that the
 *      profile's frames name, X.Y being the recorded `metadata.python.version` — the standard
 *      library and site-packages, of an interpreter or a virtual environment. The documents do
 *      not record `sys.prefix`, so this folder layout stands for it.
 * 3. **Python source.** The resolved file ends in `.py`/`.pyw`, or it is the script (scripts need
 *    no extension) and its first line is a `#!` line naming python — argv[0] is as untrusted as the
 *    frames, and `/etc/shadow` has no such line.
 * 4. **A regular file** of at most {@link MAX_SOURCE} bytes: opened with `O_NONBLOCK | O_NOFOLLOW`
 *    (a FIFO opens without waiting for a writer; a symlink swapped in after the check is refused),
 *    then the open descriptor's fstat must say regular file — never a FIFO, device or socket — and
 *    reading stops one byte past the cap, whatever fstat said.
 *
 * Everything is asynchronous: no request waits on the file system while others queue.
 */
import { constants, type Stats } from 'node:fs'
import { open, realpath } from 'node:fs/promises'
import { dirname, extname, isAbsolute, resolve, sep } from 'node:path'
import type { ServedProfile } from './profiles.js'

/** The largest source file served, in bytes. */
export const MAX_SOURCE = 8 << 20

/** Extensions of Python source files. */
const PYTHON_SOURCE = new Set(['.py', '.pyw'])

/** Why a source file is not served; `status` is the HTTP answer. */
export class SourceError extends Error {
  override readonly name = 'SourceError'
  constructor(
    readonly code:
      | 'NOT_FOUND' // not named by a served profile, or gone from the disk (404)
      | 'SOURCE_REFUSED' // outside the profile's roots, not Python source, not a regular file, unreadable (403)
      | 'SOURCE_TOO_LARGE', // over MAX_SOURCE (413)
    message: string,
  ) {
    super(message)
  }

  /** The HTTP status of the answer. */
  get status(): 404 | 403 | 413 {
    return this.code === 'NOT_FOUND' ? 404 : this.code === 'SOURCE_TOO_LARGE' ? 413 : 403
  }
}

/** What one profile allows: the folders its files may be in, and its script. */
interface Grant {
  /** Absolute folders, as recorded (resolved against the file system per request). */
  readonly roots: readonly string[]
  /** The script (argv[0] resolved), which may lack a .py extension. */
  readonly script?: string
}

/** The roots of one profile (see the module comment); tolerant of missing or odd metadata. */
function grantOf(doc: { readonly metadata?: unknown; readonly frames?: unknown }): Grant {
  const meta = (typeof doc.metadata === 'object' && doc.metadata !== null ? doc.metadata : {}) as { cwd?: unknown; argv?: unknown; python?: unknown }
  const roots = new Set<string>()
  const cwd = typeof meta.cwd === 'string' && isAbsolute(meta.cwd) ? resolve(meta.cwd) : undefined
  if (cwd !== undefined) roots.add(cwd)
  let script: string | undefined
  const argv0 = Array.isArray(meta.argv) ? (meta.argv[0] as unknown) : undefined
  if (typeof argv0 === 'string' && argv0 !== '' && !argv0.startsWith('-') && (cwd !== undefined || isAbsolute(argv0))) {
    script = resolve(cwd ?? '/', argv0)
    roots.add(dirname(script))
  }
  const version = typeof meta.python === 'object' && meta.python !== null ? (meta.python as { version?: unknown }).version : undefined
  const xy = typeof version === 'string' ? /^(\d+)\.(\d+)/.exec(version) : null
  if (xy && Array.isArray(doc.frames)) {
    const library = new RegExp(`^(/(?:.*/)?lib(?:64)?/python${xy[1]}\\.${xy[2]}t?)/`)
    for (const f of doc.frames as unknown[]) {
      const file = (f as { file?: unknown } | null)?.file
      const m = typeof file === 'string' ? library.exec(resolve('/', file)) : null
      if (m) roots.add(m[1]!)
    }
  }
  return { roots: [...roots], ...(script !== undefined ? { script } : {}) }
}

/** `path` is `folder` or below it (both absolute and resolved). */
function within(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep)
}

/** What a file that is not a regular file is, for the message. */
function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  if (st.isSocket()) return 'a socket'
  if (st.isDirectory()) return 'a folder'
  return 'not a regular file'
}

const errno = (e: unknown): string => String((e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : e))

// O_NONBLOCK and O_NOFOLLOW are POSIX; where they do not exist the fstat check still holds.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0)

/** The source files the served profiles may show, and the reader that enforces the rules. */
export class SourceFiles {
  /** Absolute file → the grants of the profiles naming it. */
  private readonly named = new Map<string, Grant[]>()

  constructor(profiles: readonly ServedProfile[]) {
    for (const p of profiles) {
      if (p.kind !== 'profile' || !Array.isArray(p.doc.frames)) continue
      const grant = grantOf(p.doc)
      for (const f of p.doc.frames as readonly unknown[]) {
        const { kind, file } = (f ?? {}) as { kind?: unknown; file?: unknown }
        if (kind !== 'python' || typeof file !== 'string' || !file.startsWith('/')) continue
        const grants = this.named.get(file)
        if (grants === undefined) this.named.set(file, [grant])
        else if (!grants.includes(grant)) grants.push(grant)
      }
    }
  }

  /** The text of `file` (UTF-8), or a {@link SourceError} saying in one line why not. */
  async read(file: string): Promise<string> {
    const grants = this.named.get(file)
    if (grants === undefined) throw new SourceError('NOT_FOUND', `${file}: not a source file of a served profile`)
    let real: string
    try {
      real = await realpath(file)
    } catch (e) {
      throw new SourceError('NOT_FOUND', `${file}: no longer readable (${errno(e)})`)
    }
    let inRoots = false
    for (const grant of grants) {
      for (const root of grant.roots) {
        let realRoot: string
        try {
          realRoot = await realpath(root)
        } catch {
          continue
        }
        if (!within(real, realRoot) || real === realRoot) continue
        inRoots = true
        if (PYTHON_SOURCE.has(extname(real).toLowerCase())) return this.readRegular(file, real, false)
        if (grant.script !== undefined && real === (await realpath(grant.script).catch(() => undefined))) return this.readRegular(file, real, true)
      }
    }
    if (inRoots) throw new SourceError('SOURCE_REFUSED', `${file}: not Python source (.py, .pyw) nor the profiled script`)
    const roots = [...new Set(grants.flatMap((g) => g.roots))]
    throw new SourceError('SOURCE_REFUSED', `${file}: outside the folders its profile ran in (${roots.length ? roots.join(', ') : 'none recorded'})`)
  }

  /** Reads `real` (already checked) if it is a regular file within the cap (and a python script, if asked). */
  private async readRegular(file: string, real: string, shebang: boolean): Promise<string> {
    let handle
    try {
      handle = await open(real, OPEN_FLAGS)
    } catch (e) {
      const code = errno(e)
      if (code === 'ENOENT') throw new SourceError('NOT_FOUND', `${file}: no longer readable (ENOENT)`)
      throw new SourceError('SOURCE_REFUSED', `${file}: cannot be opened (${code})`)
    }
    try {
      const st = await handle.stat()
      if (!st.isFile()) throw new SourceError('SOURCE_REFUSED', `${file}: ${kindOf(st)}, not a regular file`)
      if (st.size > MAX_SOURCE) throw new SourceError('SOURCE_TOO_LARGE', `${file}: ${st.size} bytes, over the ${MAX_SOURCE}-byte limit for source files`)
      // The file may grow after fstat: read in chunks and stop one byte past the cap.
      const chunks: Buffer[] = []
      let length = 0
      for (;;) {
        const chunk = Buffer.alloc(Math.min(1 << 16, MAX_SOURCE + 1 - length))
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, null)
        if (bytesRead === 0) break
        chunks.push(chunk.subarray(0, bytesRead))
        length += bytesRead
        if (length > MAX_SOURCE) throw new SourceError('SOURCE_TOO_LARGE', `${file}: over the ${MAX_SOURCE}-byte limit for source files`)
        if (shebang && chunks.length === 1 && !/^#![^\n]*python/.test(chunk.subarray(0, Math.min(bytesRead, 256)).toString('latin1'))) {
          throw new SourceError('SOURCE_REFUSED', `${file}: not Python source (no .py extension, and no "#!…python" first line)`)
        }
      }
      if (shebang && length === 0) throw new SourceError('SOURCE_REFUSED', `${file}: not Python source (no .py extension, and empty)`)
      return Buffer.concat(chunks, length).toString('utf8')
    } catch (e) {
      if (e instanceof SourceError) throw e
      throw new SourceError('SOURCE_REFUSED', `${file}: cannot be read (${errno(e)})`)
    } finally {
      await handle.close().catch(() => {})
    }
  }
}
