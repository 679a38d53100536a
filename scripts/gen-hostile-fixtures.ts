/**
 * Writes test/fixtures/hostile/*.pyc: small hostile inputs, one per problem the hardening review
 * and the fuzzer (scripts/fuzz.ts) found, built from the 3.12 golden `closures.pyc`.
 * test/hostile.test.ts says what each must do.
 *
 *   node --import tsx scripts/gen-hostile-fixtures.ts
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type PyCode, type PyObject, readMarshal, TypeCode, writeMarshal } from '../src/marshal/index.js'
import { opcodeTable, versionRules } from '../src/bytecode/index.js'

const root = join(fileURLToPath(import.meta.url), '../..')
const seed = new Uint8Array(readFileSync(join(root, 'test/fixtures/pyc/3.12/closures.pyc')))
const header = seed.subarray(0, 16)
const module = readMarshal(seed, { pythonVersion: [3, 12] }, 16).value as PyCode
const items = module.consts.type === 'tuple' ? module.consts.items : []

const pyc = (data: Uint8Array) => Uint8Array.from([...header, ...data])
const code = (c: PyCode) => pyc(writeMarshal(c, { pythonVersion: [3, 12] }))
const tuple = (xs: PyObject[], ref = false): PyObject => ({ type: 'tuple', items: xs, code: TypeCode.Tuple, ref })
const bytes = (value: Uint8Array): PyObject => ({ type: 'bytes', value, code: TypeCode.Bytes, ref: false })
const withConst = (extra: PyObject) => code({ ...module, consts: tuple([...items, extra]) })

/** An exception table of one entry covering the first instruction, keeping `depth` slots. */
function exceptionTable(depth: number): Uint8Array {
  const out: number[] = []
  const varint = (v: number, start: boolean) => {
    const groups: number[] = []
    do {
      groups.unshift(v % 64)
      v = Math.floor(v / 64)
    } while (v > 0)
    groups.forEach((g, i) => out.push(g | (i < groups.length - 1 ? 64 : 0) | (start && i === 0 ? 128 : 0)))
  }
  varint(0, true)
  varint(2, false)
  varint(0, false)
  varint(depth * 2, false)
  return Uint8Array.from(out)
}

/**
 * 3.`minor` bytecode from [name, oparg] pairs: EXTENDED_ARG prefixes for opargs over 255, zeroed
 * inline caches after each instruction.
 */
function bytecodeOf(minor: number, program: readonly (readonly [string, number])[]): Uint8Array {
  const table = opcodeTable(minor)
  const rules = versionRules(minor)
  const out: number[] = []
  const emit = (op: number, arg: number) => {
    out.push(op, arg)
    for (let c = 0; c < rules.caches(op); c++) out.push(0, 0)
  }
  for (const [name, arg] of program) {
    const op = table.opmap[name]
    if (op === undefined) throw new Error(`no ${name} in 3.${minor}`)
    const bytes: number[] = []
    let v = arg
    do {
      bytes.unshift(v % 256)
      v = Math.floor(v / 256)
    } while (v > 0)
    for (const b of bytes.slice(0, -1)) emit(table.extendedArg, b)
    emit(op, bytes.at(-1)!)
  }
  return Uint8Array.from(out)
}

/** The module of closures.pyc running `program` with co_stacksize `stacksize` and `exceptiontable` (none by default). */
const program312 = (program: readonly (readonly [string, number])[], stacksize: number, exceptiontable: Uint8Array = new Uint8Array(0)) =>
  code({ ...module, bytecode: bytes(bytecodeOf(12, program)), stacksize, exceptiontable: bytes(exceptiontable) })

/** The same with the 3.8 closures.pyc. */
function program38(program: readonly (readonly [string, number])[], stacksize: number): Uint8Array {
  const seed38 = new Uint8Array(readFileSync(join(root, 'test/fixtures/pyc/3.8/closures.pyc')))
  const module38 = readMarshal(seed38, { pythonVersion: [3, 8] }, 16).value as PyCode
  return Uint8Array.from([...seed38.subarray(0, 16), ...writeMarshal({ ...module38, bytecode: bytes(bytecodeOf(8, program)), stacksize }, { pythonVersion: [3, 8] })])
}

/** A 3.11+ exception table of `entries` [start, length, target, depth] (code units), none with lasti. */
function exceptionEntries(entries: readonly (readonly [number, number, number, number])[]): Uint8Array {
  const out: number[] = []
  const varint = (v: number, start: boolean) => {
    const groups: number[] = []
    do {
      groups.unshift(v % 64)
      v = Math.floor(v / 64)
    } while (v > 0)
    groups.forEach((g, i) => out.push(g | (i < groups.length - 1 ? 64 : 0) | (start && i === 0 ? 128 : 0)))
  }
  for (const [start, length, target, depth] of entries) {
    varint(start, true)
    varint(length, false)
    varint(target, false)
    varint(depth * 2, false)
  }
  return Uint8Array.from(out)
}

/** Header + type code + int32 count + a few bytes: a count the data cannot back. */
function hugeCount(type: number, count: number, inCode: boolean): Uint8Array {
  const b = new Uint8Array(5 + 8)
  b[0] = type
  new DataView(b.buffer).setInt32(1, count, true)
  // Inside a code object: the type code, then the five int32 fields of 3.12, then the length-prefixed field.
  return pyc(inCode ? Uint8Array.from([TypeCode.Code, ...new Uint8Array(20), ...b]) : b)
}

/** The 3.10 golden `closures.pyc` with its module's line table replaced by `table`. */
function lineTable310(table: Uint8Array): Uint8Array {
  const seed310 = new Uint8Array(readFileSync(join(root, 'test/fixtures/pyc/3.10/closures.pyc')))
  const module310 = readMarshal(seed310, { pythonVersion: [3, 10] }, 16).value as PyCode
  return Uint8Array.from([...seed310.subarray(0, 16), ...writeMarshal({ ...module310, linetable: bytes(table) }, { pythonVersion: [3, 10] })])
}

const fixtures: Record<string, Uint8Array> = {
  // Fuzzer (seed 42, #5217): a 3.10 line table whose ranges run 5 MB past a code of a few hundred
  // bytes (20,000 pairs of +254 bytes, +1 line); a position was made for each of their code units
  // (2.5 M objects, 0.5 s, 5.7 s under load).
  'fuzz-linetable-310-ranges-5mb.pyc': lineTable310(Uint8Array.from({ length: 40_000 }, (_, i) => (i % 2 ? 1 : 254))),
  // Fuzzer (seed 7, #5769: a 'huge' edit of co_code): a list-building opcode whose oparg names no
  // slot on the stack; the stack view threw a TypeError. Kept as found: the generators have changed
  // since (seed 7, #5769 is another input now).
  'fuzz-list-append-oparg.pyc': new Uint8Array(readFileSync(join(root, 'test/fixtures/hostile/fuzz-list-append-oparg.pyc'))),
  // Fuzzer (seed 42, #8864): a 3.9 code object ending in UNPACK_SEQUENCE 65535 (co_stacksize 2).
  // The stack view made 65,535 named slots (8 MB of JSON from 1.3 kB; 1 s alone, 18 s under load).
  // Kept as found.
  'fuzz-unpack-sequence-65535.pyc': new Uint8Array(readFileSync(join(root, 'test/fixtures/hostile/fuzz-unpack-sequence-65535.pyc'))),
  // A stack of 1,000 slots kept for 2,000 instructions: the sum of the depths is 4 million slots
  // (the old simulation copied each stack: quadratic); the stacks share their slots now.
  'stack-1000-deep-2000-nops.pyc': program312([['LOAD_CONST', 0], ['UNPACK_SEQUENCE', 1000], ...Array.from({ length: 2000 }, () => ['NOP', 0] as const), ['RETURN_CONST', 0]], 1000),
  // The same shape past MAX_SYMBOLIC_DEPTH (1,024): depths only, with a notice.
  'stack-unpack-2pow24.pyc': program312([['LOAD_CONST', 0], ['UNPACK_SEQUENCE', 2 ** 24], ...Array.from({ length: 2000 }, () => ['NOP', 0] as const), ['RETURN_CONST', 0]], 2 ** 24),
  // 8,000 unreachable blocks that each return: each pass over the blocks without a depth settled
  // one of them (quadratic: 32,000 took 13 s in the stack view).
  'stack-unreachable-returns-8000.pyc': program312([['RETURN_CONST', 0], ...Array.from({ length: 8000 }, () => [['NOP', 0], ['RETURN_CONST', 0]] as const).flat()], 1),
  // 4,000 exception-table entries over the same 4,000 instructions, each with its own handler:
  // each entry walked every block it covers (quadratic: 32,000 took 5 s).
  'stack-overlapping-handlers-4000.pyc': program312([...Array.from({ length: 3999 }, () => ['NOP', 0] as const), ['RETURN_CONST', 0]], 1, exceptionEntries(Array.from({ length: 4000 }, (_, e) => [0, 4000, e, 0] as const))),
  // 3.8's folded-tuple check on BUILD_TUPLE_UNPACK 2**31 - 1: one step per slot popped, from far
  // below the bottom of the stack (a hang: 2**31 steps, each a walk back over the block).
  'stack-folded-tuples-2pow31.pyc': program38([['LOAD_CONST', 0], ['LOAD_CONST', 0], ['BUILD_TUPLE_UNPACK', 2 ** 31 - 1], ['RETURN_VALUE', 0]], 2),
  // Fuzzer (seed 7, #2627): a 20,000-digit long referenced 2,000 times; its repr was made 2,000 times (20 s).
  'fuzz-long-referenced-2000x.pyc': withConst(tuple(Array(2000).fill({ type: 'int', value: (1n << (15n * 20_000n)) - 1n, code: TypeCode.Long, ref: true }))),
  // A long int of 30,000 15-bit digits (135k decimal digits): read in linear time, printed in full.
  'long-int-30k-digits.pyc': withConst({ type: 'int', value: (1n << (15n * 30_000n)) - 12345n, code: TypeCode.Long, ref: false }),
  // An exception table entry keeping 2**29 slots (co_stacksize 2): a finding, not 2.2 GB of stacks.
  'exception-depth-2pow29.pyc': code({ ...module, exceptiontable: bytes(exceptionTable(2 ** 29)) }),
  // The same with co_stacksize raised to 2**30 so that the entry is believed: depths only (past MAX_SYMBOLIC_DEPTH).
  'exception-depth-2pow29-stacksize.pyc': code({ ...module, stacksize: 2 ** 30, exceptiontable: bytes(exceptionTable(2 ** 29)) }),
  // A tuple claiming 200 million items with 8 bytes behind it.
  'tuple-count-200m.pyc': hugeCount(TypeCode.Tuple, 200_000_000, false),
  // co_code claiming 200 MB with 8 bytes behind it.
  'bytes-length-200m.pyc': hugeCount(TypeCode.Bytes, 200_000_000, true),
  // 100,000 Nones in a tuple where the module's code object should be: refused before reading.
  'not-code-tuple-100k.pyc': pyc(Uint8Array.from([TypeCode.Tuple, ...new Uint8Array(Int32Array.of(100_000).buffer), ...new Uint8Array(100_000).fill(TypeCode.None)])),
  // A 60 kB string referenced 10,000 times: 600 M characters once expanded (LIMIT_OUTPUT).
  'string-60k-referenced-10000x.pyc': withConst(tuple(Array(10_000).fill({ type: 'str', value: 'x'.repeat(60_000), code: TypeCode.Ascii, ref: true }))),
  // A 60 kB string of control characters referenced 40 times: reads, its JSON would be 30 MB (LIMIT_OUTPUT; dis prints it).
  'control-string-referenced-40x.pyc': withConst(tuple(Array(40).fill({ type: 'str', value: '\u0000\u007f'.repeat(30_000), code: TypeCode.Ascii, ref: true }))),
}

for (const [name, data] of Object.entries(fixtures)) {
  writeFileSync(join(root, 'test/fixtures/hostile', name), data)
  console.log(`${name}: ${data.length} bytes`)
}
