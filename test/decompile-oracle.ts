/**
 * The oracle of the decompiler's tests and of scripts/decompile-check.ts: Python programs run by a
 * real interpreter, one compiling sources to .pyc files, one recompiling decompiled output and
 * comparing its code objects with the original's, recursively: opname + argval, with NOP, CACHE,
 * EXTENDED_ARG and line data ignored (jump targets as instruction indexes, nested code objects by
 * name, the line number a class body stores as __firstlineno__ ignored).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toCodeObject } from '../src/bytecode/index.js'
import { type DecompileResult, decompileModule } from '../src/decompile/index.js'
import { readPyc } from '../src/pyc/index.js'

/** Compiles each file to a .pyc (argv: out dir, then sources). */
export const COMPILE_PY = `
import sys, importlib._bootstrap_external as be
out = sys.argv[1]
for i, f in enumerate(sys.argv[2:]):
    try:
        src = open(f, 'rb').read()
        code = compile(src, f, 'exec', dont_inherit=True)
    except Exception:
        continue
    open(f'{out}/{i}.pyc', 'wb').write(be._code_to_timestamp_pyc(code, 0, 0))
`

/** Compares each original with its decompiled file; prints one JSON line per file. */
export const COMPARE_PY = `
import dis, sys, types, json
JUMPS = set(getattr(dis, 'hasjump', [])) | set(dis.hasjrel) | set(dis.hasjabs)
SKIP = {'NOP', 'CACHE', 'EXTENDED_ARG'}
def instrs(co):
    ins = [i for i in dis.get_instructions(co) if i.opname not in SKIP]
    offs = sorted(i.offset for i in ins)
    index = {o: k for k, o in enumerate(offs)}
    out = []
    for k, i in enumerate(ins):
        if i.opname == 'STORE_NAME' and i.argval == '__firstlineno__' and out:
            out[-1] = ('LOAD_CONST', 'firstlineno')
        av = i.argval
        if isinstance(av, types.CodeType):
            av = ('code', av.co_name)
        elif i.opcode in JUMPS and isinstance(av, int):
            av = ('jump', next((index[o] for o in offs if o >= av), -1))
        out.append((i.opname, repr(av)))
    return out
def kids(co):
    return [c for c in co.co_consts if isinstance(c, types.CodeType)]
def walk(a, b, res):
    ia = instrs(a)
    ib = instrs(b) if b is not None else []
    first = next((k for k in range(max(len(ia), len(ib))) if k >= len(ia) or k >= len(ib) or ia[k] != ib[k]), None)
    why = '' if first is None else f'#{first}: {ia[first] if first < len(ia) else "end"} vs {ib[first] if first < len(ib) else "end"}'
    res.append([a.co_qualname if hasattr(a, 'co_qualname') else a.co_name, a.co_firstlineno, b is not None and ia == ib, why])
    kb = kids(b) if b is not None else []
    for k, c in enumerate(kids(a)):
        walk(c, kb[k] if k < len(kb) and kb[k].co_name == c.co_name else None, res)
for line in sys.stdin:
    orig, dec = line.rstrip('\\n').split('\\t')
    a = compile(open(orig, 'rb').read(), orig, 'exec', dont_inherit=True)
    try:
        b = compile(open(dec, 'rb').read(), dec, 'exec', dont_inherit=True)
        err = None
    except SyntaxError as e:
        b, err = None, f'{e.msg} line {e.lineno}'
    res = []
    walk(a, b, res)
    print(json.dumps({'file': orig, 'syntax': err, 'units': res}))
`


/** One code object of an original source: whether its recompiled counterpart is equivalent. */
export interface UnitCheck {
  readonly qualname: string
  readonly line: number
  readonly equivalent: boolean
  /** The first differing instruction, when not equivalent. */
  readonly why: string
}

/** What became of one source: the decompiled result, a syntax error of the output, each unit. */
export interface SourceCheck {
  readonly result: DecompileResult
  readonly syntaxError: string | null
  readonly units: readonly UnitCheck[]
}

/**
 * Compiles each source with `python` (3.`minor`), decompiles it, recompiles the output with the
 * same interpreter and compares them. Sources that do not compile are left out of the result.
 */
export function roundTrip(python: string, minor: number, sources: Readonly<Record<string, string>>): Map<string, SourceCheck> {
  const work = mkdtempSync(join(tmpdir(), 'pyxray-decompile-'))
  try {
    const names = Object.keys(sources)
    const files = names.map((_, i) => {
      const f = join(work, `src${i}.py`)
      writeFileSync(f, sources[names[i]!]!)
      return f
    })
    const c = spawnSync(python, ['-I', '-c', COMPILE_PY, work, ...files], { encoding: 'utf8' })
    if (c.status !== 0) throw new Error(`compiling failed: ${c.stderr}`)
    const results = new Map<string, DecompileResult>()
    const pairs: string[] = []
    names.forEach((_, i) => {
      let bytes: Uint8Array
      try {
        bytes = new Uint8Array(readFileSync(join(work, `${i}.pyc`)))
      } catch {
        return
      }
      const pyc = readPyc(bytes)
      const r = decompileModule(toCodeObject(pyc.code, pyc.version[1]), [3, minor])
      results.set(files[i]!, r)
      writeFileSync(join(work, `dec${i}.py`), r.source)
      pairs.push(`${files[i]}\t${join(work, `dec${i}.py`)}`)
    })
    const cmp = spawnSync(python, ['-I', '-c', COMPARE_PY], { input: pairs.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 })
    if (cmp.status !== 0) throw new Error(`comparing failed: ${cmp.stderr}`)
    const out = new Map<string, SourceCheck>()
    for (const line of cmp.stdout.split('\n').filter(Boolean)) {
      const r = JSON.parse(line) as { file: string; syntax: string | null; units: [string, number, boolean, string][] }
      const name = names[files.indexOf(r.file)]!
      out.set(name, { result: results.get(r.file)!, syntaxError: r.syntax, units: r.units.map(([qualname, l, equivalent, why]) => ({ qualname, line: l, equivalent, why })) })
    }
    return out
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}
