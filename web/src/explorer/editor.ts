/**
 * The source editor: CodeMirror 6 with Python highlighting and two layers of marks the other
 * panes set — the span of the chosen instruction or AST node ("linked"), and a syntax error.
 */
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands'
import { python } from '@codemirror/lang-python'
import { bracketMatching, indentOnInput, syntaxHighlighting } from '@codemirror/language'
import { EditorState, type Extension, StateEffect, StateField } from '@codemirror/state'
import { classHighlighter } from '@lezer/highlight'
import { Decoration, type DecorationSet, EditorView, highlightActiveLine, keymap, lineNumbers } from '@codemirror/view'

/** One mark: document offsets [from, to) and its CSS class. */
export interface Mark {
  readonly from: number
  readonly to: number
  readonly className: string
  /** Shown on hover. */
  readonly title?: string
}

const setMarks = StateEffect.define<{ layer: 'linked' | 'error'; marks: readonly Mark[] }>()

function decorations(doc: EditorState['doc'], marks: readonly Mark[]): DecorationSet {
  const ranges = marks
    .filter((m) => m.from >= 0 && m.to <= doc.length)
    .map((m) => {
      // An empty span (e.g. a syntax error at the end of a line) still gets one visible character.
      const to = m.to > m.from ? m.to : Math.min(doc.length, m.from + 1)
      const from = to > m.from ? m.from : Math.max(0, m.from - 1)
      return Decoration.mark({ class: m.className, attributes: m.title ? { title: m.title } : {} }).range(from, to)
    })
    .filter((r) => r.from < r.to)
  return Decoration.set(ranges, true)
}

const layerField = (layer: 'linked' | 'error') =>
  StateField.define<DecorationSet>({
    create: () => Decoration.none,
    update(value, tr) {
      let v = value.map(tr.changes)
      for (const e of tr.effects) if (e.is(setMarks) && e.value.layer === layer) v = decorations(tr.state.doc, e.value.marks)
      return v
    },
    provide: (f) => EditorView.decorations.from(f),
  })

/** Callbacks of the editor. */
export interface EditorEvents {
  /** The text changed. */
  change(text: string): void
  /** The selection moved (document offsets; from === to for a cursor). */
  select(from: number, to: number): void
}

/**
 * Creates the editor in `parent`. Tab indents and Shift+Tab dedents (CodeMirror's indentWithTab);
 * Esc then Tab moves the focus out of the editor, as CodeMirror documents for keyboard users.
 * Highlighting is by class (tok-keyword, …), coloured by the theme's CSS.
 */
export function createEditor(parent: HTMLElement, text: string, events: EditorEvents, label = 'Python source'): EditorView {
  const extensions: Extension[] = [
    lineNumbers(),
    history(),
    indentOnInput(),
    bracketMatching(),
    highlightActiveLine(),
    syntaxHighlighting(classHighlighter),
    keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
    // An explicit tabindex: checkers (axe-core) then see the scroller's content as focusable.
    EditorView.contentAttributes.of({ 'aria-label': label, tabindex: '0' }),
    python(),
    layerField('linked'),
    layerField('error'),
    EditorView.updateListener.of((u) => {
      if (u.docChanged) events.change(u.state.doc.toString())
      else if (u.selectionSet && u.transactions.some((t) => t.isUserEvent('select') || t.isUserEvent('select.pointer'))) {
        const r = u.state.selection.main
        events.select(r.from, r.to)
      }
    }),
  ]
  return new EditorView({ parent, state: EditorState.create({ doc: text, extensions }) })
}

/** Replaces one layer of marks; scrolls the first into view when asked. */
export function showMarks(view: EditorView, layer: 'linked' | 'error', marks: readonly Mark[], scroll = false): void {
  const first = marks[0]
  view.dispatch({
    effects: [setMarks.of({ layer, marks }), ...(scroll && first ? [EditorView.scrollIntoView(first.from, { y: 'nearest' })] : [])],
  })
}
