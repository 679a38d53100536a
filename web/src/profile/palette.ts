/**
 * The flame graphs' colours, in one place: a hue per package (what the colour encodes in the
 * profile view), muted for library code, and red/blue by Δ in the diff — each with a light and a
 * dark variant. The theme is read from the page, not assumed: CSS custom properties
 * (`--flame-text`, `--flame-dim`, `--flame-dim-text`, `--flame-selected`, `--flame-lightness`)
 * override the defaults when the stylesheet defines them, and the page's computed background
 * colour says whether it is dark.
 */
import { useEffect, useState } from 'preact/hooks'

/** The colours of the current theme. */
export interface FlameTheme {
  readonly dark: boolean
  /** Label text on a frame. */
  readonly text: string
  /** A frame that does not match the search. */
  readonly dim: string
  readonly dimText: string
  /** The selected frame's outline. */
  readonly selected: string
  /** Lightness (%) of frame fills. */
  readonly lightness: number
}

/** Whether a CSS colour (`rgb(…)` / `rgba(…)`) is dark; undefined when it is not opaque or not readable. */
function isDark(colour: string): boolean | undefined {
  const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*([\d.]+))?\)/.exec(colour)
  if (!m || (m[4] !== undefined && Number(m[4]) === 0)) return undefined
  // Relative luminance, roughly (sRGB weights without the gamma curve: enough to tell dark from light).
  return 0.2126 * Number(m[1]) + 0.7152 * Number(m[2]) + 0.0722 * Number(m[3]) < 128
}

/** The theme as the page shows it now (call when drawing: the user may switch themes). */
export function flameTheme(el?: Element | null): FlameTheme {
  const root = document.documentElement
  const css = getComputedStyle(root)
  const v = (name: string) => css.getPropertyValue(name).trim()
  let dark: boolean | undefined
  for (let e: Element | null = el ?? document.body; e && dark === undefined; e = e.parentElement) dark = isDark(getComputedStyle(e).backgroundColor)
  dark ??= window.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false
  const lightness = Number.parseFloat(v('--flame-lightness'))
  return {
    dark,
    text: v('--flame-text') || (dark ? '#f2f2f2' : '#111'),
    dim: v('--flame-dim') || (dark ? '#3a3a3a' : '#e2e2e2'),
    dimText: v('--flame-dim-text') || (dark ? '#999' : '#777'),
    selected: v('--flame-selected') || (dark ? '#fff' : '#000'),
    lightness: Number.isFinite(lightness) ? lightness : dark ? 36 : 70,
  }
}

function hash(text: string): number {
  let h = 2166136261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  return h >>> 0
}

/** A package's fill: its hue, saturated for the program's own code, muted for library code. */
export function packageColour(pkg: string, library: boolean, theme: FlameTheme): string {
  const h = hash(pkg) % 360
  return library ? `hsl(${h},${theme.dark ? 18 : 25}%,${theme.lightness}%)` : `hsl(${h},${theme.dark ? 50 : 65}%,${theme.lightness}%)`
}

/** Red for slower, blue for faster; the strength is |Δ| against the largest |Δ|. */
export function deltaColour(delta: number, largest: number, theme: FlameTheme): string {
  const s = largest > 0 ? Math.min(1, Math.abs(delta) / largest) : 0
  if (s < 0.02) return theme.dark ? 'hsl(0,0%,30%)' : 'hsl(0,0%,90%)'
  const sat = Math.round(45 + 40 * s)
  // Light: from pale to strong by darkening; dark: from dim to strong by brightening.
  const l = theme.dark ? Math.round(22 + 23 * s) : Math.round(88 - 38 * s)
  return `hsl(${delta > 0 ? 0 : 215},${sat}%,${l}%)`
}

let hatch: { dark: boolean; fill: CanvasPattern | null } | undefined

/** Grey diagonal stripes: call paths only in base. */
export function vanishedFill(theme: FlameTheme): CanvasPattern | string {
  if (hatch?.dark !== theme.dark) {
    const c = document.createElement('canvas')
    c.width = 8
    c.height = 8
    const g = c.getContext('2d')
    if (g) {
      g.fillStyle = theme.dark ? '#333' : '#e8e8e8'
      g.fillRect(0, 0, 8, 8)
      g.strokeStyle = theme.dark ? '#666' : '#a8a8a8'
      g.lineWidth = 2
      g.beginPath()
      g.moveTo(-2, 10)
      g.lineTo(10, -2)
      g.stroke()
    }
    hatch = { dark: theme.dark, fill: g ? g.createPattern(c, 'repeat') : null }
  }
  return hatch.fill ?? '#bbb'
}

/**
 * A number that changes when the page's theme may have: the system's colour scheme, or the root
 * element's class, style or data attributes (where a theme switch sets it). Components that draw
 * with {@link flameTheme} use it to redraw.
 */
export function useThemeVersion(): number {
  const [version, setVersion] = useState(0)
  useEffect(() => {
    const bump = () => setVersion((v) => v + 1)
    const media = window.matchMedia?.('(prefers-color-scheme: dark)')
    media?.addEventListener?.('change', bump)
    const observer = typeof MutationObserver === 'function' ? new MutationObserver(bump) : undefined
    observer?.observe(document.documentElement, { attributes: true })
    if (document.body) observer?.observe(document.body, { attributes: true, attributeFilter: ['class', 'style', 'data-theme'] })
    return () => {
      media?.removeEventListener?.('change', bump)
      observer?.disconnect()
    }
  }, [])
  return version
}
