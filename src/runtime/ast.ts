/**
 * Reading the agent's AST JSON: an indented tree for people, and selecting a definition by its
 * qualified name. Browser-safe.
 */
import { escapeControls } from '../text/escape.js'
import type { AstNode } from './types.js'

const isNode = (v: unknown): v is AstNode => typeof v === 'object' && v !== null && '_type' in v
const POSITION = ['lineno', 'col_offset', 'end_lineno', 'end_col_offset'] as const

/** `line:col-endline:endcol` of a node (1-based lines, 0-based UTF-8 byte columns), or ''. */
export function nodeSpan(n: AstNode): string {
  const [l, c, el, ec] = POSITION.map((k) => n[k])
  if (typeof l !== 'number') return ''
  return `${l}:${c ?? '?'}-${el ?? '?'}:${ec ?? '?'}`
}

/** A tagged constant from the agent as Python would write it. */
function constText(v: unknown): string {
  if (v === null) return 'None'
  if (v === true) return 'True'
  if (v === false) return 'False'
  // JSON escapes C0 controls; DEL, C1 controls and bidi formatting characters are escaped too.
  if (typeof v === 'string') return escapeControls(JSON.stringify(v))
  if (typeof v === 'number') return String(v)
  if (typeof v === 'object' && v !== null && '_const' in v) {
    const c = v as Record<string, unknown>
    switch (c._const) {
      case 'int':
        return String(c.value)
      case 'float':
        return String(c.repr)
      case 'complex':
        return `complex(${c.real}, ${c.imag})`
      case 'bytes':
        return `bytes.fromhex('${c.hex}')`
      case 'ellipsis':
        return '...'
      default:
        return JSON.stringify(c)
    }
  }
  return JSON.stringify(v)
}

/** The AST as an indented tree: node types with their spans, then each field. */
export function formatAstTree(root: AstNode): string {
  const out: string[] = []
  const node = (n: AstNode, indent: string, label: string) => {
    const span = nodeSpan(n)
    out.push(`${indent}${label}${n._type}${span ? `  ${span}` : ''}`)
    for (const [k, v] of Object.entries(n)) {
      if (k === '_type' || (POSITION as readonly string[]).includes(k)) continue
      field(k, v, `${indent}  `)
    }
  }
  const field = (k: string, v: unknown, indent: string) => {
    if (isNode(v)) {
      // Expression contexts are one word: show them inline.
      if (Object.keys(v).length === 1) out.push(`${indent}${k}: ${v._type}`)
      else node(v, indent, `${k}: `)
    } else if (Array.isArray(v)) {
      if (v.length === 0) out.push(`${indent}${k}: []`)
      else {
        out.push(`${indent}${k}:`)
        v.forEach((item, i) => {
          if (isNode(item)) node(item, `${indent}  `, `[${i}] `)
          else out.push(`${indent}  [${i}] ${constText(item)}`)
        })
      }
    } else {
      out.push(`${indent}${k}: ${constText(v)}`)
    }
  }
  node(root, '', '')
  return `${out.join('\n')}\n`
}

const SCOPES = new Set(['FunctionDef', 'AsyncFunctionDef', 'ClassDef'])

/** The def/class node with this qualified name (`Outer.method`, `f.<locals>.g`), or undefined. */
export function findDefinition(root: AstNode, qualname: string): AstNode | undefined {
  let found: AstNode | undefined
  const walk = (v: unknown, prefix: string) => {
    if (found) return
    if (Array.isArray(v)) {
      for (const x of v) walk(x, prefix)
      return
    }
    if (!isNode(v)) return
    let inner = prefix
    if (SCOPES.has(v._type)) {
      const q = `${prefix}${String(v.name)}`
      if (q === qualname) {
        found = v
        return
      }
      inner = v._type === 'ClassDef' ? `${q}.` : `${q}.<locals>.`
    }
    for (const [k, x] of Object.entries(v)) if (k !== '_type') walk(x, inner)
  }
  walk(root, '')
  return found
}
