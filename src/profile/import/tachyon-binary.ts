/**
 * Tachyon's binary format (`python -m profiling.sampling run --binary`, CPython 3.15+, format
 * version 1): every sample of every thread, delta-encoded. Layout (integers little-endian as
 * written on x86/ARM; a byte-swapped magic means the other byte order, which is refused):
 *
 * | bytes | what |
 * |---|---|
 * | 0–3 | magic `HCAT` (0x54414348 little-endian) |
 * | 4–7 | format version (u32) = 1 |
 * | 8–10 | the sampled Python's major, minor, micro |
 * | 12–19 | start time, µs of the monotonic clock (u64) |
 * | 20–27 | sampling interval, µs (u64) |
 * | 28–31 | sample count (u32) |
 * | 36–39 | thread count (u32) |
 * | 40–47 | string table offset (u64) |
 * | 48–55 | frame table offset (u64) |
 * | 56–59 | compression: 0 none, 1 zstd (the sample records only: decompressed by {@link ImportOptions.zstd}) |
 * | 60 | low 3 bits: the sampling mode + 1 (0 unknown; wall, cpu, gil, all, exception) — as observed in 3.15.2's files |
 * | 64… | sample records, up to the string table |
 * | string table | per string: length (varint), UTF-8 bytes |
 * | frame table | per frame: file string, function string (varints), line (zigzag varint, -1 none), end line − line, column, end column − column (zigzag varints), opcode (byte, 255 none) |
 * | optional stats | doubles (duration s, …), then `TACHSTAT`, version (u32), size (u32) of the block |
 * | last 32 bytes | string count (u32), frame count (u32), … |
 *
 * A sample record: thread id (u64), interpreter id (u32), encoding (byte), then
 * - 0 repeat: count (varint), count × [timestamp delta (varint), status (byte)] — the previous stack again;
 * - 1 full: delta, status, depth, depth frame indices;
 * - 2 suffix: delta, status, shared, new, new indices — keeps the `shared` outermost frames;
 * - 3 pop-push: delta, status, pop, push, push indices — drops `pop` innermost frames.
 * Stacks are innermost first; status bit 5 marks the interpreter's main thread. Varints are LEB128.
 *
 * The innermost frame's line goes to its node's `lines` (document version 3). Its span and opcode
 * (recorded with --opcodes) name an instruction but not its offset in the code object, which only
 * a compile of the source by that interpreter can give: {@link ImportOptions.instructions} (the
 * CLI's runs the agent on a Python of the profile's version) turns them into the nodes'
 * `instructions` and the frames' descriptions; without it they are not kept.
 */
import { decodeUtf8 } from '../../marshal/utf8.js'
import type { ProfileDocument } from '../document.js'
import { outputBudget } from '../../marshal/limits.js'
import { type ImportOptions, type InstructionRequest, ProfileBuilder, type ThreadState } from './build.js'
import { ImportError } from './errors.js'

/** Whether the bytes start with Tachyon's binary magic (either byte order). */
export function looksTachyonBinary(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false
  const s = String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!)
  return s === 'HCAT' || s === 'TACH'
}

const HEADER_SIZE = 64
const FOOTER_SIZE = 32
const enum Encoding {
  /** The previous stack again, count times. */
  Repeat = 0,
  Full = 1,
  /** Keep the outermost `shared` frames, put `new` frames on top. */
  Suffix = 2,
  /** Drop `pop` innermost frames, push `push` frames. */
  PopPush = 3,
}
/** Status bit: the interpreter's main thread. */
const STATUS_MAIN_THREAD = 1 << 5
/** Deepest stack accepted (Tachyon's writer keeps far fewer). */
const MAX_DEPTH = 65536
/** Frames of files ending so are Tachyon's own (profiling/sampling/_sync_coordinator.py runs the script). */
const INTERNAL_SUFFIX = '_sync_coordinator.py'

const corrupt = (what: string, byteOffset: number): ImportError => new ImportError('IMPORT_CORRUPT', `Tachyon binary: ${what} at byte ${byteOffset}: the file is truncated or damaged`, { byteOffset })

class Cursor {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}
  byte(): number {
    if (this.pos >= this.end) throw corrupt('unexpected end of data', this.pos)
    return this.bytes[this.pos++]!
  }
  /** An unsigned LEB128 varint up to 2^53. */
  varint(): number {
    let result = 0
    let scale = 1
    for (let i = 0; i < 8; i++) {
      const b = this.byte()
      result += (b & 0x7f) * scale
      if ((b & 0x80) === 0) return result
      scale *= 128
    }
    throw corrupt('a varint longer than 8 bytes', this.pos)
  }
  zigzag(): number {
    const z = this.varint()
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2
  }
}

/** Reads Tachyon's binary format (see the module comment). */
export function importTachyonBinary(bytes: Uint8Array, options: ImportOptions = {}): ProfileDocument {
  if (bytes.length < HEADER_SIZE + FOOTER_SIZE) throw corrupt(`a file of ${bytes.length} bytes, shorter than the header and footer`, 0)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes[0] === 0x54) throw new ImportError('IMPORT_UNSUPPORTED', 'Tachyon binary written on a big-endian machine: convert it there with python -m profiling.sampling replay --collapsed')
  const version = view.getUint32(4, true)
  if (version !== 1) throw new ImportError('IMPORT_UNSUPPORTED', `Tachyon binary format version ${version}: pyxray reads version 1 (CPython 3.15); convert it with python -m profiling.sampling replay --collapsed -o OUT FILE`)
  const python = `${bytes[8]!}.${bytes[9]!}.${bytes[10]!}`
  const intervalUs = Number(view.getBigUint64(20, true))
  const sampleCount = view.getUint32(28, true)
  const stringsAt = Number(view.getBigUint64(40, true))
  const framesAt = Number(view.getBigUint64(48, true))
  const compression = view.getUint32(56, true)
  const size = bytes.length
  if (!(stringsAt >= HEADER_SIZE && stringsAt <= framesAt && framesAt <= size - FOOTER_SIZE)) throw corrupt(`table offsets ${stringsAt} and ${framesAt} out of order or past the end`, 40)
  if (!(intervalUs > 0 && intervalUs <= 3.6e9)) throw corrupt(`a sampling interval of ${intervalUs} µs`, 20)
  let records = bytes.subarray(HEADER_SIZE, stringsAt)
  if (compression === 1) {
    if (!options.zstd) {
      throw new ImportError(
        'IMPORT_UNSUPPORTED',
        'Tachyon binary compressed with zstd (the default when zstd is available) and no zstd decoder here (pyxray import uses a Python 3.14+ compression.zstd): record with --binary --compression none, or convert with python -m profiling.sampling replay --collapsed -o OUT.txt FILE',
      )
    }
    records = options.zstd(records, outputBudget(bytes.length))
  } else if (compression !== 0) throw corrupt(`unknown compression ${compression}`, 56)
  const stringCount = view.getUint32(size - FOOTER_SIZE, true)
  const frameCount = view.getUint32(size - FOOTER_SIZE + 4, true)
  // every string needs at least its length byte, every frame seven bytes
  if (stringCount > framesAt - stringsAt) throw corrupt(`${stringCount} strings in a table of ${framesAt - stringsAt} bytes`, size - FOOTER_SIZE)
  if (frameCount * 7 > size - framesAt) throw corrupt(`${frameCount} frames in a table of ${size - framesAt} bytes`, size - FOOTER_SIZE + 4)

  const strings: string[] = []
  const c = new Cursor(bytes, stringsAt, framesAt)
  for (let i = 0; i < stringCount; i++) {
    const n = c.varint()
    if (n > c.end - c.pos) throw corrupt(`string ${i} of ${n} bytes runs past its table`, c.pos)
    const text = decodeUtf8(bytes, c.pos, c.pos + n)
    if (text === undefined) throw corrupt(`string ${i} is not UTF-8`, c.pos)
    strings.push(text)
    c.pos += n
  }
  // the stats block before the footer, if any: its duration (seconds, a double) comes first
  let durationNs: number | undefined
  const tag = size - FOOTER_SIZE - 16
  let framesEnd = size - FOOTER_SIZE
  if (tag >= framesAt && String.fromCharCode(...bytes.subarray(tag, tag + 8)) === 'TACHSTAT') {
    const blockSize = view.getUint32(tag + 12, true)
    const start = size - FOOTER_SIZE - blockSize
    if (blockSize >= 24 && start >= framesAt) {
      framesEnd = start
      const seconds = view.getFloat64(start, true)
      if (Number.isFinite(seconds) && seconds >= 0 && seconds < 1e7) durationNs = Math.round(seconds * 1e9)
    }
  }
  const b = new ProfileBuilder(bytes.length)
  const frameIds: number[] = []
  /** Each frame's line, 0 for none. */
  const frameLines: number[] = []
  /** Each Python frame's instruction as --opcodes recorded it (undefined without). */
  const frameFile: string[] = []
  const frameName: string[] = []
  const frameSites: (Omit<InstructionRequest, 'file' | 'qualname'> | undefined)[] = []
  const f = new Cursor(bytes, framesAt, framesEnd)
  for (let i = 0; i < frameCount; i++) {
    const file = f.varint()
    const func = f.varint()
    const line = f.zigzag()
    frameLines.push(line > 0 ? line : 0)
    const endLine = line + f.zigzag()
    const col = f.zigzag()
    const endCol = col + f.zigzag()
    const opcode = f.byte()
    frameSites.push(opcode !== 255 && line > 0 && col >= 0 && endCol >= col ? { line, endLine, col, endCol, opcode } : undefined)
    if (file >= stringCount || func >= stringCount) throw corrupt(`frame ${i} names string ${Math.max(file, func)} of ${stringCount}`, f.pos)
    const fileName = strings[file]!
    const name = strings[func]!
    frameFile.push(fileName)
    frameName.push(name)
    const synthetic = fileName === '' || fileName === '~'
    if (synthetic || fileName.startsWith('<')) frameSites[i] = undefined // no source to compile (<frozen …>, <string>)
    // Tachyon's own frames (the script runner), which its collectors drop too
    if (fileName.endsWith(INTERNAL_SUFFIX)) {
      frameIds.push(-1)
      continue
    }
    frameIds.push(b.frame(synthetic ? { file: '<built-in>', qualname: name, kind: 'builtin', module: name === '<GC>' ? 'gc' : 'native' } : { file: fileName, qualname: name }))
  }

  /** Per thread: the builder's node of every frame of the current stack, outermost first (Tachyon's own frames share their caller's node). */
  /** path: the builder's nodes; raws: the file's frame indices of the same stack (-1 for none). */
  type Thread = { path: number[]; raws: number[]; state: ThreadState; main: boolean }
  const threads = new Map<string, Thread>()
  /** (thread, leaf node, file frame) → samples, for --opcodes files. */
  const pending = new Map<string, { t: ThreadState; node: number; raw: number; n: number }>()
  // offsets in messages are into the records (after decompression, if any) from byte 64 on
  const recordView = new DataView(records.buffer, records.byteOffset, records.byteLength)
  const s = new Cursor(records, 0, records.length)
  let samples = 0
  while (s.pos < s.end) {
    if (s.end - s.pos < 13) throw corrupt('a sample record cut short', s.pos)
    const id = recordView.getBigUint64(s.pos, true)
    const interp = recordView.getUint32(s.pos + 8, true)
    s.pos += 12
    const key = `${interp}:${id}`
    let t = threads.get(key)
    if (!t) {
      t = { path: [], raws: [], state: b.thread(key, id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : undefined, `Thread-${id}`), main: false }
      threads.set(key, t)
    }
    const thread = t
    const encoding = s.byte()
    if (encoding > Encoding.PopPush) throw corrupt(`unknown record encoding ${encoding}`, s.pos - 1)
    let weight = 1
    let status = 0
    if (encoding === Encoding.Repeat) {
      const count = s.varint()
      if (count > (s.end - s.pos) / 2) throw corrupt(`a repeat of ${count} samples in ${s.end - s.pos} bytes`, s.pos)
      for (let i = 0; i < count; i++) {
        s.varint()
        status |= s.byte()
      }
      weight = count
    } else {
      s.varint() // timestamp delta, µs
      status = s.byte()
      /** Reads `n` frames (innermost first) and puts them on the path: only new frames cost work. */
      const push = (n: number): void => {
        if (n > s.end - s.pos || thread.path.length + n > MAX_DEPTH) throw corrupt(`a stack of depth ${thread.path.length + n}`, s.pos)
        b.spend(n)
        const fresh: number[] = []
        for (let i = 0; i < n; i++) {
          const f = s.varint()
          if (f >= frameCount) throw corrupt(`frame index ${f} of ${frameCount}`, s.pos)
          fresh.push(f)
        }
        for (let i = n - 1; i >= 0; i--) {
          const parent = thread.path.length > 0 ? thread.path[thread.path.length - 1]! : 0
          const f = frameIds[fresh[i]!]!
          thread.path.push(f < 0 ? parent : b.child(thread.state, parent, f))
          // a frame of Tachyon's own shares its caller's node, and so its line and instruction
          thread.raws.push(f < 0 ? (thread.raws[thread.raws.length - 1] ?? -1) : fresh[i]!)
        }
      }
      if (encoding === Encoding.Full) {
        thread.path.length = 0
        thread.raws.length = 0
        push(s.varint())
      } else if (encoding === Encoding.Suffix) {
        const shared = s.varint()
        const added = s.varint()
        if (shared > thread.path.length) throw corrupt(`a suffix record keeping ${shared} of ${thread.path.length} frames`, s.pos)
        thread.path.length = shared
        thread.raws.length = shared
        push(added)
      } else {
        // Encoding.PopPush
        const pop = s.varint()
        thread.path.length = Math.max(0, thread.path.length - pop)
        thread.raws.length = thread.path.length
        push(s.varint())
      }
    }
    if (status & STATUS_MAIN_THREAD) thread.main = true
    if (thread.main) thread.state.main = true
    b.spend(1)
    const leaf = thread.path.length > 0 ? thread.path[thread.path.length - 1]! : 0
    b.addAt(thread.state, leaf, weight)
    const raw = thread.raws[thread.raws.length - 1] ?? -1
    if (raw >= 0) {
      b.addLine(thread.state, leaf, frameLines[raw]!, weight)
      if (frameSites[raw] !== undefined) {
        const k = `${key}\0${leaf}\0${raw}`
        const p = pending.get(k)
        if (p) p.n += weight
        else pending.set(k, { t: thread.state, node: leaf, raw, n: weight })
      }
    }
    samples += weight
  }
  const warnings: string[] = []
  // --opcodes: the instructions, when something can compile the sources (ImportOptions.instructions)
  if (pending.size > 0) {
    const raws = [...new Set([...pending.values()].map((p) => p.raw))]
    const requests = raws.map((raw): InstructionRequest => ({ ...frameSites[raw]!, file: frameFile[raw]!, qualname: frameName[raw]! }))
    const answers = options.instructions?.(python, requests)
    if (answers === undefined) {
      warnings.push(`the file names the instruction of every sample (--opcodes), but no Python ${python.split('.').slice(0, 2).join('.')} was found to compile the sources and find them: lines only`)
    } else {
      const found = new Map(raws.map((raw, i) => [raw, answers[i] ?? null]))
      let missing = 0
      for (const p of pending.values()) {
        const info = found.get(p.raw)
        if (info) b.addInstruction(p.t, p.node, info, p.n)
        else missing += p.n
      }
      if (missing > 0) warnings.push(`${missing} samples name an instruction not found in the sources as they are now (a changed or missing file): counted by line only`)
    }
  }
  if (samples !== sampleCount) warnings.push(`the header counts ${sampleCount} samples, the records hold ${samples} (the profiler was stopped before it finished the file?)`)
  for (const t of threads.values()) if (t.main) t.state.name = 'MainThread'
  const mode = (bytes[60]! & 7) - 1
  const modeName = ['wall', 'cpu', 'gil', 'all', 'exception'][mode]
  if (modeName !== undefined && mode >= 2) warnings.push(`sampled in Tachyon's ${modeName} mode: samples were taken only when a thread ${mode === 4 ? 'had an active exception' : mode === 2 ? 'held the GIL' : 'held the GIL and ran on a CPU'}`)
  return b.finish({
    source: { format: 'tachyon-binary', tool: 'tachyon' },
    weightNs: intervalUs * 1000,
    samplesAreCounts: true,
    intervalNs: intervalUs * 1000,
    python,
    ...(options.startTime !== undefined ? { startTime: options.startTime } : {}),
    ...(durationNs !== undefined ? { durationNs } : {}),
    clock: mode === 1 || mode === 3 ? 'cpu' : 'wall',
    warnings,
  })
}
