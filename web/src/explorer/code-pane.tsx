/** The code-object inspector: every co_* field of the chosen code object, explained. */
import { type CodeObject, flagNames, lineRanges } from '../../../src/bytecode/index.js'
import { constToJson } from '../../../src/bytecode/format/json.js'
import type { Disassembly } from '../../../src/bytecode/index.js'
import type { ComponentChildren } from 'preact'
import { has } from '../../../src/versions/index.js'

const KIND_BITS: readonly [number, string][] = [
  [0x20, 'local'],
  [0x40, 'cell'],
  [0x80, 'free'],
  [0x10, 'hidden'],
  [0x02, 'arg'],
]

function Row({ name, children, hint }: { name: string; children: ComponentChildren; hint?: string }) {
  return (
    <tr>
      <th title={hint}>{name}</th>
      <td>{children}</td>
    </tr>
  )
}

const list = (xs: readonly string[]) => (xs.length ? xs.join(', ') : <span class="muted">(none)</span>)

/** The inspector. */
export function CodePane({ code, d }: { code: CodeObject; d: Disassembly }) {
  const minor = code.pythonVersion[1]
  const ranges = lineRanges(minor, code.linetable, code.firstlineno, code.code.length)
  return (
    <div class="code-pane" data-testid="code-inspector">
      <table class="fields">
        <tbody>
          <Row name="co_name">{code.name}</Row>
          <Row name="co_qualname">{code.qualname}</Row>
          <Row name="co_filename">{code.filename}</Row>
          <Row name="co_firstlineno">{code.firstlineno}</Row>
          <Row name="co_argcount" hint="positional parameters, including positional-only">{code.argcount}</Row>
          <Row name="co_posonlyargcount">{code.posonlyargcount}</Row>
          <Row name="co_kwonlyargcount">{code.kwonlyargcount}</Row>
          <Row name="co_nlocals">{code.nlocals}</Row>
          <Row name="co_stacksize" hint="the deepest the value stack gets, in slots">{code.stacksize}</Row>
          <Row name="co_flags">
            {code.flags} <span class="muted">({flagNames(code.flags)})</span>
          </Row>
          <Row name="co_names" hint="globals, attributes and imported names used by the code">{list(code.names)}</Row>
          <Row name="co_varnames">{list(code.varnames)}</Row>
          <Row name="co_cellvars" hint="locals captured by inner functions">{list(code.cellvars)}</Row>
          <Row name="co_freevars" hint="variables this code reads from an enclosing function">{list(code.freevars)}</Row>
          {has(minor, 'localsPlus') ? (
            <Row name="localsplus" hint="3.11+: one array of locals, cells and free variables with kind bits">
              {code.localsplusnames.map((n, i) => {
                const k = code.localspluskinds[i] ?? 0
                return (
                  <span key={i} class="chip">
                    {n}: {KIND_BITS.filter(([b]) => k & b).map(([, s]) => s).join('+') || k}
                  </span>
                )
              })}
            </Row>
          ) : null}
          <Row name="co_consts">
            <ol start={0} class="consts">
              {code.consts.map((c, i) => (
                <li key={i}>
                  <code>{constToJson(c, minor).repr}</code>
                </li>
              ))}
            </ol>
          </Row>
          <Row name="co_code" hint="bytes of bytecode">{code.code.length} bytes, {d.instructions.length} instructions</Row>
          <Row name="line table" hint="byte ranges of co_code → source line">
            {ranges.map((r, i) => (
              <span key={i} class="chip">
                {r.start}–{r.end}: {r.line ?? '–'}
              </span>
            ))}
          </Row>
          {has(minor, 'exceptionTable') ? (
            <Row name="exception table" hint="start–end → handler target [stack depth] lasti">
              {d.exceptionEntries.length === 0 ? <span class="muted">(empty)</span> : null}
              {d.exceptionEntries.map((e, i) => (
                <div key={i}>
                  {e.start} to {e.end} → {e.target} [{e.depth}]{e.lasti ? ' lasti' : ''}
                </div>
              ))}
            </Row>
          ) : null}
        </tbody>
      </table>
    </div>
  )
}
