/** The AST tree; clicking a node selects its source range. */
import type { AstNode } from '../../../src/runtime/types.js'
import type { Span } from '../compiled.js'

const POSITION = new Set(['lineno', 'col_offset', 'end_lineno', 'end_col_offset', '_type'])
const isNode = (v: unknown): v is AstNode => typeof v === 'object' && v !== null && '_type' in v

/** The span of a node, when it has positions. */
export function nodeSpan(n: AstNode): Span | undefined {
  if (typeof n.lineno !== 'number') return undefined
  return { line: n.lineno, col: n.col_offset as number, endLine: (n.end_lineno as number) ?? n.lineno, endCol: n.end_col_offset as number | undefined }
}

function scalar(v: unknown): string | undefined {
  if (v === null) return 'None'
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (typeof v === 'object' && v !== null && '_const' in v) {
    const c = v as Record<string, unknown>
    return String(c.repr ?? c.value ?? c._const)
  }
  return undefined
}

function Node({ node, field, onPick, depth }: { node: AstNode; field?: string; onPick: (s: Span) => void; depth: number }) {
  const span = nodeSpan(node)
  const entries = Object.entries(node).filter(([k]) => !POSITION.has(k))
  const scalars = entries.map(([k, v]) => [k, scalar(v)] as const).filter(([, s]) => s !== undefined)
  const kids = entries.filter(([, v]) => isNode(v) || (Array.isArray(v) && v.some(isNode)))
  const text = (
    <>
      {field ? <span class="muted">{field}: </span> : null}
      <b>{node._type}</b>
      {scalars.map(([k, s]) => (
        <span key={k} class="ast-scalar">
          {' '}
          {k}={s}
        </span>
      ))}
      {span ? <span class="muted"> {span.line}:{span.col}–{span.endLine}:{span.endCol}</span> : null}
    </>
  )
  // A node with a position is a button (so Enter and Space pick it too); in a <summary>, picking
  // does not also fold the node's children.
  const label = span ? (
    <button
      type="button"
      class="ast-label pickable"
      data-testid="ast-node"
      onClick={(e) => {
        e.preventDefault()
        onPick(span)
      }}
    >
      {text}
    </button>
  ) : (
    <span class="ast-label" data-testid="ast-node">
      {text}
    </span>
  )
  if (kids.length === 0 || (node._type.length > 0 && ['Load', 'Store', 'Del'].includes(node._type))) return <div class="ast-leaf">{label}</div>
  return (
    <details open={depth < 4}>
      <summary>{label}</summary>
      <div class="ast-children">
        {kids.flatMap(([k, v]) =>
          Array.isArray(v)
            ? v.filter(isNode).map((c, i) => <Node key={`${k}${i}`} node={c} field={`${k}[${i}]`} onPick={onPick} depth={depth + 1} />)
            : [<Node key={k} node={v as AstNode} field={k} onPick={onPick} depth={depth + 1} />],
        )}
      </div>
    </details>
  )
}

/** The whole tree. */
export function AstPane({ ast, onPick }: { ast: AstNode; onPick: (s: Span) => void }) {
  return (
    <div class="ast" data-testid="ast">
      <Node node={ast} onPick={onPick} depth={0} />
    </div>
  )
}
