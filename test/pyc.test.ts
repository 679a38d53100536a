// .pyc headers and magic numbers: each pyenv interpreter compiles one module three ways (timestamp,
// checked hash, unchecked hash — PEP 552) and tells what it wrote; readPyc must read the same.
// Every magic number of the table maps to its minor version, and each bad input is a PycError
// with a code and the byte offset of the problem.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { expandedSize, MarshalError, writeMarshal } from '../src/marshal/index.js'
import { KNOWN_VERSIONS, lookupMagic, PycError, type PycErrorCode, readPyc, readPycHeader } from '../src/pyc/index.js'
import { FINAL_MAGIC, MAGIC_HISTORY } from '../src/pyc/magic-data.js'
import { MAX_MINOR } from '../src/versions/index.js'
import { NATIVE_MINORS, requirePython } from './pyenv.js'

/** Compiles argv[1]/mod.py three ways and prints what CPython knows about the results. */
const COMPILE_PY = `
import importlib.util, json, os, py_compile, sys
d = sys.argv[1]
src = os.path.join(d, 'mod.py')
with open(src, 'w') as f:
    f.write('"""A module."""\\nimport sys\\nX = [i * 2 for i in range(3)]\\n')
modes = {'timestamp': py_compile.PycInvalidationMode.TIMESTAMP,
         'checked-hash': py_compile.PycInvalidationMode.CHECKED_HASH,
         'unchecked-hash': py_compile.PycInvalidationMode.UNCHECKED_HASH}
for name, mode in modes.items():
    py_compile.compile(src, cfile=os.path.join(d, name + '.pyc'), invalidation_mode=mode, doraise=True)
# Constant folding shares one 4096-character string 256 times: a legitimate, highly shared constant.
folded = os.path.join(d, 'folded.py')
with open(folded, 'w') as f:
    f.write("X = ('a' * 4096,) * 256\\n")
py_compile.compile(folded, cfile=os.path.join(d, 'folded.pyc'), doraise=True)
with open(src, 'rb') as f:
    source = f.read()
st = os.stat(src)
print(json.dumps({'magic': int.from_bytes(importlib.util.MAGIC_NUMBER[:2], 'little'),
                  'mtime': int(st.st_mtime), 'size': st.st_size,
                  'hash': importlib.util.source_hash(source).hex()}))
`

interface Compiled {
  readonly magic: number
  readonly mtime: number
  readonly size: number
  readonly hash: string
}

for (const minor of NATIVE_MINORS) {
  test(`CPython 3.${minor}: timestamp and hash-based .pyc headers, magic → version`, (t) => {
    const python = requirePython(t, minor)
    if (python === undefined) return
    const dir = mkdtempSync(join(tmpdir(), 'pyxray-pyc-'))
    try {
      const r = spawnSync(python, ['-c', COMPILE_PY, dir], { encoding: 'utf8' })
      assert.equal(r.status, 0, r.stderr)
      const live = JSON.parse(r.stdout) as Compiled
      assert.deepEqual(lookupMagic(live.magic), { release: `3.${minor}`, version: [3, minor] })
      assert.equal(FINAL_MAGIC[minor], live.magic, 'the table knows this interpreter')

      const read = (mode: string) => readPyc(readFileSync(join(dir, `${mode}.pyc`)))
      const base = { magic: live.magic, release: `3.${minor}`, version: [3, minor], byteLength: 16 }
      const stamped = read('timestamp')
      assert.deepEqual(stamped.header, { ...base, flags: 0, mtime: live.mtime, sourceSize: live.size })
      assert.deepEqual(read('checked-hash').header, { ...base, flags: 0b11, sourceHash: live.hash })
      assert.deepEqual(read('unchecked-hash').header, { ...base, flags: 0b01, sourceHash: live.hash })
      assert.deepEqual(stamped.version, [3, minor])
      assert.ok(stamped.code.name.type === 'str' && stamped.code.name.value === '<module>')

      // The same marshal data without its header, read as raw data of that version.
      const raw = readFileSync(join(dir, 'timestamp.pyc')).subarray(16)
      const headless = readPyc(raw, { pythonVersion: `3.${minor}` })
      assert.equal(headless.header, undefined)
      assert.deepEqual(headless.version, [3, minor])
      assert.deepEqual(headless.code, stamped.code)

      const folded = readFileSync(join(dir, 'folded.pyc'))
      assert.ok(expandedSize(readPyc(folded).code) > 150 * folded.length, 'read although it expands 190×')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
}

test('every magic number of the table maps to its minor version, 3.0 to the newest supported, with alphas and betas', () => {
  assert.ok(MAGIC_HISTORY.length > 150)
  for (const e of MAGIC_HISTORY) {
    assert.deepEqual(lookupMagic(e.magic)?.version, [3, e.minor], `magic ${e.magic} (${e.release})`)
  }
  for (const [minor, magic] of Object.entries(FINAL_MAGIC)) {
    assert.deepEqual(lookupMagic(magic), { release: `3.${minor}`, version: [3, Number(minor)] })
  }
  assert.deepEqual(KNOWN_VERSIONS, Array.from({ length: MAX_MINOR + 1 }, (_, m) => `3.${m}`))
})

test('well-known magic numbers, from the comments of importlib/_bootstrap_external.py', () => {
  const known: [magic: number, release: string, minor: number][] = [
    [3111, '3.0a4', 0],
    [3131, '3.0', 0],
    [3151, '3.1', 1],
    [3180, '3.2', 2],
    [3230, '3.3', 3],
    [3310, '3.4', 4],
    [3350, '3.5b3', 5],
    [3351, '3.5', 5],
    [3379, '3.6', 6],
    [3394, '3.7', 7],
    [3413, '3.8', 8],
    [3425, '3.9', 9],
    [3430, '3.10a1', 10],
    [3439, '3.10', 10],
    [3450, '3.11a1', 11],
    [3495, '3.11', 11],
    [3500, '3.12a1', 12],
    [3531, '3.12', 12],
    [3550, '3.13a1', 13],
    [3571, '3.13', 13],
  ]
  for (const [magic, release, minor] of known) {
    assert.deepEqual(lookupMagic(magic), { release, version: [3, minor] }, `magic ${magic}`)
  }
  assert.equal(lookupMagic(3627)?.version[1], 14)
  // 3.15's history comes from the pycore_magic_number.h installed with 3.15.2.
  assert.deepEqual(lookupMagic(3650), { release: '3.15a0', version: [3, 15] })
  assert.deepEqual(lookupMagic(3661), { release: '3.15a4', version: [3, 15] })
  assert.deepEqual(lookupMagic(3666), { release: '3.15', version: [3, 15] }, 'a final release is named by its version')
  for (const unknown of [0, 62211 /* Python 2.7 */, 3999, 65535]) assert.equal(lookupMagic(unknown), undefined)
})

// ---------------------------------------------------------------------------------------------
// Headers built by hand

/** A header: magic, then 12 bytes of flags/mtime/size (older layouts just use fewer of them). */
function header(magic: number, words: number[] = [0, 0, 0]): Uint8Array {
  const b = Buffer.alloc(4 + 4 * words.length)
  b.writeUInt16LE(magic, 0)
  b.write('\r\n', 2, 'latin1')
  for (const [i, w] of words.entries()) b.writeUInt32LE(w, 4 + 4 * i)
  return b
}
const concat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts))

/** A tiny module code object of 3.12, marshalled. */
function code312(): Uint8Array {
  const s = (value: string) => ({ type: 'str', value, code: 0x7a, ref: false }) as const
  const empty = { type: 'tuple', items: [], code: 0x29, ref: false } as const
  const bytes = (n: number) => ({ type: 'bytes', value: new Uint8Array(n), code: 0x73, ref: false }) as const
  return writeMarshal(
    {
      type: 'code', code: 0x63, ref: false, argcount: 0, posonlyargcount: 0, kwonlyargcount: 0, stacksize: 1,
      flags: 0, bytecode: bytes(4), consts: empty, names: empty, localsplusnames: empty, localspluskinds: bytes(0),
      filename: s('m.py'), name: s('<module>'), qualname: s('<module>'), firstlineno: 1, linetable: bytes(0),
      exceptiontable: bytes(0),
    },
    { pythonVersion: [3, 12] },
  )
}

test('pre-PEP 552 headers: 8 bytes up to 3.2, 12 bytes for 3.3–3.6', () => {
  assert.deepEqual(readPycHeader(header(3180, [1_600_000_000])), {
    magic: 3180, release: '3.2', version: [3, 2], flags: 0, mtime: 1_600_000_000, byteLength: 8,
  })
  assert.deepEqual(readPycHeader(header(3379, [1_600_000_000, 4321])), {
    magic: 3379, release: '3.6', version: [3, 6], flags: 0, mtime: 1_600_000_000, sourceSize: 4321, byteLength: 12,
  })
})

test('a 3.12 .pyc built by hand reads with its header, and without it given pythonVersion', () => {
  const code = code312()
  const pyc = readPyc(concat(header(3531, [0, 1_700_000_000, 99]), code))
  assert.equal(pyc.header?.mtime, 1_700_000_000)
  assert.deepEqual(readPyc(code, { pythonVersion: '3.12' }).code, pyc.code)
})

/** One malformed input: the bytes, the error code, the byte offset, and what the message says. */
const BAD: [name: string, bytes: () => Uint8Array, code: PycErrorCode, byteOffset: number, message?: RegExp][] = [
  ['empty file', () => new Uint8Array(), 'PYC_TRUNCATED', 0],
  ['3 bytes', () => Uint8Array.of(0xcb, 0x0d, 0x0d), 'PYC_TRUNCATED', 3],
  [
    'unknown magic number',
    () => concat(header(3999), code312()),
    'PYC_BAD_MAGIC',
    0,
    new RegExp(`unknown magic number 3999 .*at byte 0: pyxray reads .pyc files of CPython 3\\.0–3\\.${MAX_MINOR}; pass --python-version X\\.Y`),
  ],
  ['Python 2.7 magic', () => header(62211), 'PYC_BAD_MAGIC', 0, /62211/],
  ['known magic without \\r\\n', () => Uint8Array.of(0xcb, 0x0d, 0x0a, 0x0d, 0, 0, 0, 0), 'PYC_BAD_MAGIC', 0],
  ['3.12 header cut at 10 bytes', () => header(3531).subarray(0, 10), 'PYC_TRUNCATED', 10, /16-byte/],
  ['3.12 header with no data', () => header(3531), 'PYC_BAD_DATA', 16, /ends inside a type code/],
  ['data cut inside the length of co_code', () => concat(header(3531), code312()).subarray(0, 40), 'PYC_BAD_DATA', 38, /ends inside bytes/],
  ['trailing bytes', () => concat(header(3531), code312(), Uint8Array.of(1, 2, 3)), 'PYC_TRAILING_BYTES', 16 + code312().length, /3 unexpected byte/],
  ['undefined flag bits', () => concat(header(3531, [4, 0, 0]), code312()), 'PYC_BAD_FLAGS', 4, /0x4/],
  ['data that is not a code object', () => concat(header(3531), Uint8Array.of(0x4e)), 'PYC_BAD_DATA', 16, /type code 0x4e \('N'\), not a code object/],
]

for (const [name, bytes, code, byteOffset, message] of BAD) {
  test(`bad .pyc: ${name} → ${code} at byte ${byteOffset}`, () => {
    assert.throws(
      () => readPyc(bytes()),
      (e) => {
        assert.ok(e instanceof PycError, `a PycError, not ${e}`)
        assert.equal(e.code, code)
        assert.equal(e.byteOffset, byteOffset)
        if (message) assert.match(e.message, message)
        return true
      },
    )
  })
}

test('PYC_BAD_DATA keeps the MarshalError as its cause', () => {
  try {
    readPyc(concat(header(3531), code312()).subarray(0, 40))
    assert.fail('no error')
  } catch (e) {
    assert.ok(e instanceof PycError && e.cause instanceof MarshalError)
    assert.equal(e.cause.code, 'MARSHAL_TRUNCATED')
  }
})

test('pythonVersion must be a known 3.X', () => {
  for (const v of ['2.7', `3.${MAX_MINOR + 1}`, '3', 'latest']) {
    assert.throws(
      () => readPyc(code312(), { pythonVersion: v }),
      (e) => e instanceof PycError && e.code === 'PYC_UNSUPPORTED_VERSION' && new RegExp(`3\\.0, 3\\.1, .*3\\.${MAX_MINOR}`).test(e.message),
      v,
    )
  }
})
