/**
 * Shared pieces of the UI's design system: the theme (light, dark, or the system's, persisted), the
 * file-picker button, the draggable pane divider, roving focus for lists and tables, and the
 * keyboard-shortcuts dialog.
 */
import type { ComponentChildren, RefObject } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { type Backend, LOAD_STAGES, type LoadStage } from './backend.js'

/** The theme the user chose: the system's (`auto`), light or dark. */
export type ThemeChoice = 'auto' | 'light' | 'dark'

const THEME_KEY = 'pyxray-theme'

function storedTheme(): ThemeChoice {
  try {
    const v = localStorage.getItem(THEME_KEY)
    return v === 'light' || v === 'dark' ? v : 'auto'
  } catch {
    return 'auto'
  }
}

/** Sets `data-theme` on the root element (light or dark) from a choice and the system's preference. */
function applyTheme(choice: ThemeChoice): void {
  const dark = choice === 'dark' || (choice === 'auto' && typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches)
  document.documentElement.dataset.theme = dark ? 'dark' : 'light'
  document.documentElement.dataset.themeChoice = choice
}

/** Applies the stored theme at once (before the first paint) and follows the system's changes. */
export function initTheme(): void {
  applyTheme(storedTheme())
  if (typeof matchMedia === 'function') matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => applyTheme(storedTheme()))
}

const NEXT: Record<ThemeChoice, ThemeChoice> = { auto: 'light', light: 'dark', dark: 'auto' }

/** The theme switch: system → light → dark, remembered in this browser. */
export function ThemeSwitch() {
  const [choice, setChoice] = useState<ThemeChoice>(storedTheme)
  return (
    <button
      type="button"
      class="header-button"
      data-testid="theme-switch"
      title="colour theme: follows the system, light or dark (remembered in this browser)"
      onClick={() => {
        const next = NEXT[choice]
        try {
          if (next === 'auto') localStorage.removeItem(THEME_KEY)
          else localStorage.setItem(THEME_KEY, next)
        } catch {
          // No storage (a file:// report in some browsers): the choice lasts for this page.
        }
        applyTheme(next)
        setChoice(next)
      }}
    >
      theme: {choice === 'auto' ? 'system' : choice}
    </button>
  )
}

/**
 * A file picker as a real button (in the tab order, Enter and Space open it): the input it clicks
 * is hidden and out of the tab order.
 */
export function FileButton({ label, accept, multiple = false, testId, title, onFiles }: { label: string; accept: string; multiple?: boolean; testId: string; title?: string; onFiles: (files: File[]) => void }) {
  const input = useRef<HTMLInputElement>(null)
  return (
    <>
      <button type="button" class="button" data-testid={`${testId}-button`} title={title} onClick={() => input.current?.click()}>
        {label}
      </button>
      <input
        ref={input}
        type="file"
        accept={accept}
        multiple={multiple}
        hidden
        tabIndex={-1}
        aria-hidden="true"
        data-testid={testId}
        onChange={(e) => {
          const el = e.target as HTMLInputElement
          onFiles(Array.from(el.files ?? []))
          // The same file chosen again (after it was fixed on disk) is read again.
          el.value = ''
        }}
      />
    </>
  )
}

/** Step of a divider moved by the keyboard, in px (Shift: 5×). */
const KEY_STEP = 24

/**
 * A draggable divider between two panes of a row (`role="separator"`, keyboard operable: ←/→ move it,
 * Home/End to the limits). It sizes the pane before it (`target`); under 900 px the panes stack and
 * the divider is hidden (CSS).
 */
export function Divider({ target, label, min = 160 }: { target: RefObject<HTMLElement | null>; label: string; min?: number }) {
  const [value, setValue] = useState<number>()
  const limits = () => {
    const pane = target.current
    const row = pane?.parentElement
    if (!pane || !row) return undefined
    const rest = Array.from(row.children).filter((c) => c !== pane && !c.classList.contains('divider') && (c as HTMLElement).offsetWidth > 0).length
    return { pane, max: Math.max(min, row.clientWidth - rest * min), row }
  }
  const set = (px: number) => {
    const l = limits()
    if (!l) return
    const w = Math.round(Math.max(min, Math.min(l.max, px)))
    l.pane.style.flex = `0 0 ${w}px`
    setValue(Math.round((w / l.row.clientWidth) * 100))
  }
  return (
    // A focusable separator is a widget (WAI-ARIA's window splitter): it takes the focus and the arrow keys.
    // eslint-disable-next-line jsx-a11y/no-noninteractive-element-interactions
    <div
      class="divider"
      role="separator"
      aria-orientation="vertical"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={value ?? 50}
      // eslint-disable-next-line jsx-a11y/no-noninteractive-tabindex -- a focusable separator is a widget
      tabIndex={0}
      data-testid="divider"
      onPointerDown={(e) => {
        const pane = target.current
        if (!pane) return
        e.preventDefault()
        const el = e.currentTarget as HTMLElement
        el.setPointerCapture(e.pointerId)
        const left = pane.getBoundingClientRect().left
        const move = (m: PointerEvent) => set(m.clientX - left)
        const up = () => {
          el.removeEventListener('pointermove', move)
          el.removeEventListener('pointerup', up)
        }
        el.addEventListener('pointermove', move)
        el.addEventListener('pointerup', up)
      }}
      onKeyDown={(e) => {
        const pane = target.current
        if (!pane) return
        const w = pane.getBoundingClientRect().width
        const step = e.shiftKey ? KEY_STEP * 5 : KEY_STEP
        if (e.key === 'ArrowLeft') set(w - step)
        else if (e.key === 'ArrowRight') set(w + step)
        else if (e.key === 'Home') set(0)
        else if (e.key === 'End') set(Number.MAX_SAFE_INTEGER)
        else return
        e.preventDefault()
      }}
    />
  )
}

/**
 * Roving focus over the rows of a table or list: ↑/↓ move to the same kind of control in the row
 * above or below (PageUp/PageDown by 10, Home/End to the ends), ←/→ between controls of a row; Enter
 * and Space activate the control (it is a button). `container` holds the rows; `row` is the selector
 * of a row, `item` the selector of its focusable controls.
 */
export function useRovingKeys(container: RefObject<HTMLElement | null>, row: string, item: string): void {
  useEffect(() => {
    const el = container.current
    if (!el) return undefined
    const onKey = rovingKeys(row, item)
    el.addEventListener('keydown', onKey)
    return () => el.removeEventListener('keydown', onKey)
  })
}

/** The key handler of {@link useRovingKeys}, for an element whose key events bubble to `container`. */
export function rovingKeys(row: string, item: string) {
  return (e: KeyboardEvent): void => {
    const from = e.target as HTMLElement
    const container = e.currentTarget as HTMLElement
    const r = from.closest(row)
    if (!r || !container.contains(r)) return
    const rows = Array.from(container.querySelectorAll<HTMLElement>(row))
    const i = rows.indexOf(r as HTMLElement)
    const inRow = Array.from(r.querySelectorAll<HTMLElement>(item))
    const col = Math.max(0, inRow.indexOf(from))
    const pick = (k: number): HTMLElement | undefined => {
      const target = rows[Math.max(0, Math.min(rows.length - 1, k))]
      const items = target ? Array.from(target.querySelectorAll<HTMLElement>(item)) : []
      return items[Math.min(col, items.length - 1)]
    }
    let to: HTMLElement | undefined
    if (e.key === 'ArrowDown') to = pick(i + 1)
    else if (e.key === 'ArrowUp') to = pick(i - 1)
    else if (e.key === 'PageDown') to = pick(i + 10)
    else if (e.key === 'PageUp') to = pick(i - 10)
    else if (e.key === 'Home' && e.ctrlKey) to = pick(0)
    else if (e.key === 'End' && e.ctrlKey) to = pick(rows.length - 1)
    else if (e.key === 'ArrowRight') to = inRow[col + 1]
    else if (e.key === 'ArrowLeft') to = inRow[col - 1]
    if (!to) return
    e.preventDefault()
    to.focus()
  }
}

/** The keyboard shortcuts, as the `?` dialog lists them. */
export const SHORTCUTS: readonly (readonly [string, string])[] = [
  ['?', 'this list of shortcuts'],
  ['Tab / Shift+Tab', 'move between controls; in the editor Tab indents — press Esc first to leave the editor with Tab'],
  ['↑ ↓', 'move between rows of a table, the bytecode or the AST (PageUp/PageDown by 10 in a table, by a screen in the bytecode and the AST; Ctrl+Home/End in a table, Home/End in the bytecode and the AST, to the ends)'],
  ['bytecode find: Enter / Shift+Enter', 'the next / previous instruction matching the find box above the bytecode'],
  ['← →', 'between the buttons of a row; on a pane divider, make the pane before it narrower or wider'],
  ['Enter / Space', 'activate: pick an instruction, a table row or an AST node'],
  ['flame graph: ← → ↑ ↓', 'move to a neighbour, the caller or a callee frame'],
  ['flame graph: Enter', 'zoom to the frame (and show its source and bytecode)'],
  ['flame graph: Esc', 'reset the zoom'],
  ['Alt+1 … Alt+4', 'Explorer, Profile viewer, Profile diff, Memory'],
]

/** The `?` dialog (a modal <dialog>: Esc and the close button close it). */
export function ShortcutsDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const d = ref.current
    if (!d) return
    if (open && !d.open) d.showModal()
    else if (!open && d.open) d.close()
  }, [open])
  return (
    <dialog ref={ref} class="shortcuts" aria-labelledby="shortcuts-title" data-testid="shortcuts" onClose={onClose}>
      <h2 id="shortcuts-title">Keyboard shortcuts</h2>
      <table class="grid">
        <thead>
          <tr>
            <th scope="col">key</th>
            <th scope="col">does</th>
          </tr>
        </thead>
        <tbody>
          {SHORTCUTS.map(([k, v]) => (
            <tr key={k}>
              <td>
                <kbd>{k}</kbd>
              </td>
              <td class="wrap">{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="dialog">
        <button type="submit" class="button" data-testid="shortcuts-close">
          close
        </button>
      </form>
    </dialog>
  )
}

/** Whether a key event is typed into a text field or the editor (shortcuts then stay out of the way). */
export function typing(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null
  if (!t) return false
  return t.isContentEditable || t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.closest('.cm-editor') !== null
}

/** Opens the shortcuts dialog on `?` (outside text fields); the element it renders. */
export function useShortcutsDialog(): [boolean, (open: boolean) => void] {
  const [open, setOpen] = useState(false)
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === '?' && !typing(e) && !e.ctrlKey && !e.metaKey) {
        e.preventDefault()
        setOpen(true)
      }
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [])
  return [open, setOpen]
}

/** A colour legend: swatches (a CSS class or a background) with their meaning. */
export function Legend({ items, testId, children }: { items: readonly { readonly label: string; readonly class?: string; readonly color?: string }[]; testId?: string; children?: ComponentChildren }) {
  return (
    <span class="legend" data-testid={testId}>
      {items.map((it) => (
        <span key={it.label} class="legend-item">
          <span class={`swatch${it.class ? ` ${it.class}` : ''}`} style={it.color ? { background: it.color } : undefined} aria-hidden="true" /> {it.label}
        </span>
      ))}
      {children}
    </span>
  )
}

/** The static build's start: the stages of loading Pyodide, the current one marked, as a progress bar and a list. */
export function LoadProgress({ backend }: { backend: Backend }) {
  const [stage, setStage] = useState<LoadStage>()
  useEffect(() => backend.onLoadStage?.(setStage), [backend])
  if (!backend.onLoadStage) return <div class="muted progress">starting the Python runtime…</div>
  const at = Math.max(0, LOAD_STAGES.findIndex(([s]) => s === stage))
  return (
    <div class="progress" data-testid="load-progress" role="status" aria-live="polite">
      <progress max={LOAD_STAGES.length} value={at} aria-label="starting the Python runtime" />
      <ol>
        {LOAD_STAGES.map(([s, label], i) => (
          <li key={s} class={i < at ? 'done' : i === at ? 'now' : ''} data-stage={s}>
            {label}
            {i === at ? '…' : ''}
          </li>
        ))}
      </ol>
    </div>
  )
}
