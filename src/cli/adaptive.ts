/**
 * `pyxray dis --adaptive --call EXPR TARGET`: the bytecode after warm-up, as CPython 3.11+ rewrote
 * it in place (dis's `adaptive=True`): the target is run `--warmup` times in the chosen
 * interpreter, the live adaptive code of each code object (`code._co_code_adaptive`) comes back,
 * and pyxray's engine decodes it with the version's specialized opcodes.
 */
import { escapeControls } from '../text/escape.js'
import { type CodeObject, disassemble, selectByLine, selectByQualname } from '../bytecode/index.js'
import { type Specialization, withAdaptiveCode } from '../bytecode/compare/index.js'
import { formatDis } from '../bytecode/format/dis.js'
import { codeDocument } from '../bytecode/format/json.js'
import { codeTree } from '../bytecode/select.js'
import { formatText, type TextStyle } from '../bytecode/format/text.js'
import { measure, RuntimeError, selectRuntime } from '../runtime/index.js'
import { describeRunError, ExitCode, UsageError } from './errors.js'
import type { Console } from './io.js'
import { formatSyntaxError, isSource, loadTarget, type SourceOptions, type Target } from './source.js'
import { has } from '../versions/index.js'

/** What to run before reading the adaptive code. */
export interface AdaptiveOptions {
  readonly call: string
  readonly setup?: string
  /** Runs of `call` before the code is read. */
  readonly warmup: number
}

/** Options of {@link runDisAdaptive}. */
export interface DisAdaptiveOptions extends SourceOptions {
  readonly format: 'text' | 'dis' | 'json'
  readonly style: TextStyle
  readonly verbose: boolean
  readonly adaptive: AdaptiveOptions
}

/** Instructions whose live opcode differs from the compiled one (3.11's *_ADAPTIVE placeholders excepted), over a code tree. */
export function specializationsOf(compiled: CodeObject, live: CodeObject): Specialization[] {
  const out: Specialization[] = []
  const a = codeTree(compiled)
  const b = codeTree(live)
  a.forEach((entry, k) => {
    const after = new Map(disassemble(b[k]!.code, { positions: false }).instructions.map((i) => [i.offset, i.opname]))
    for (const i of disassemble(entry.code, { positions: false }).instructions) {
      const name = after.get(i.offset)
      if (name !== undefined && name !== i.opname && !name.endsWith('_ADAPTIVE')) out.push({ code: k, offset: i.offset, line: i.line ?? null, opname: i.opname, specialized: name })
    }
  })
  return out
}

/** Runs `pyxray dis --adaptive`. */
export async function runDisAdaptive(target: Target, o: DisAdaptiveOptions, con: Console): Promise<number> {
  if (!isSource(target)) throw new UsageError('USAGE', "--adaptive runs the code: give Python source ('FILE.py[:Qualname]' or -c), not a .pyc")
  const selected = await selectRuntime(o)
  try {
    const loaded = await loadTarget(target, o, selected)
    const info = await selected.runtime.info()
    if (o.verbose) con.err(`pyxray: runtime ${info.kind} CPython ${info.version} (${info.executable}): ${selected.reason}\n`)
    if (!has(info.minor, 'adaptiveInterpreter')) throw new UsageError('USAGE', `--adaptive needs CPython 3.11+ (the specializing interpreter); ${info.version} has no adaptive code: pass --python 3.11 or later`)
    const [result] = await measure(
      selected.runtime,
      [{ source: loaded.source ?? '', filename: loaded.filename, setup: o.adaptive.setup ?? null, call: o.adaptive.call, optimize: o.optimize ?? -1 }],
      { timing: false, counts: false, adaptive: true, warmup: o.adaptive.warmup },
    )
    const live = withAdaptiveCode(loaded.module, new Map((result?.adaptive ?? []).map((x) => [x.index, x.code])))
    const sel = target.selector
    const liveCode = !sel ? live : 'line' in sel ? selectByLine(live, sel.line) : selectByQualname(live, sel.qualname)
    const specializations = specializationsOf(loaded.code, liveCode)
    const runs = `${o.adaptive.warmup} run(s) of ${o.adaptive.call}`
    switch (o.format) {
      case 'dis':
        con.out(formatDis(liveCode))
        break
      case 'json':
        con.out(
          `${JSON.stringify(
            codeDocument(liveCode, target.path ?? null, {
              runtime: { ...info, reason: selected.reason },
              adaptive: { call: o.adaptive.call, setup: o.adaptive.setup ?? null, warmup: o.adaptive.warmup, specializations },
            }),
            null,
            2,
          )}\n`,
        )
        break
      case 'text': {
        con.out(formatText(liveCode, { style: o.style, ...(loaded.source !== undefined ? { sourceLines: loaded.source.split(/\r?\n/) } : {}) }))
        const s = o.style
        con.out(`\n${s.header(`specialized after ${runs}:`)}${specializations.length ? '' : ' none'}\n`)
        for (const x of specializations) {
          con.out(`  ${escapeControls(codeTree(liveCode)[x.code]?.qualname ?? '')} line ${x.line ?? '-'} offset ${x.offset}: ${x.opname} → ${s.opname(x.specialized)}\n`)
        }
        break
      }
    }
    return ExitCode.Ok
  } catch (e) {
    if (e instanceof RuntimeError && e.code === 'SYNTAX_ERROR') {
      con.err(`${formatSyntaxError(e, target.path ?? '<string>')}\n`)
      return ExitCode.Usage
    }
    if (e instanceof RuntimeError && e.code === 'RUN_ERROR') {
      con.err(describeRunError(e, 'pyxray dis'))
      return ExitCode.Usage
    }
    throw e
  } finally {
    await selected.runtime.close()
  }
}
