/**
 * Flame-graph data sources ({@link FlameDataSource}) over a profile document's frames: the
 * profile view's thread and the sandwich's callers and callees. Colour encodes the package
 * ({@link packageOf}), muted for library code; the legend lists the packages that take the most
 * time.
 */
import type { ProfileDocument } from '../../../src/profile/document.js'
import { isLibraryFrame, packageOf } from '../../../src/profile/flame-tree.js'
import { shortFile } from '../../../src/profile/model.js'
import { formatBytes, formatNs } from '../../../src/profile/units.js'
import type { FlameDataSource } from './flame.js'
import type { FlameLayout } from './layout.js'
import { type FlameTheme, packageColour } from './palette.js'
import { h } from 'preact'

/** A node's weight as text: ns, or samples. */
export function weightText(layout: FlameLayout, v: number): string {
  return layout.unit === 'ns' ? formatNs(v) : `${v.toLocaleString('en-US')} sample${v === 1 ? '' : 's'}`
}

/** A share of the layout's total as a percentage with one decimal. */
export function shareText(layout: FlameLayout, v: number): string {
  return layout.total ? `${((v / layout.total) * 100).toFixed(1)}%` : '–'
}

/**
 * The data source of a tree whose functions are `doc`'s frames. `rootLabel` names a node without
 * a function (the thread's root).
 */
export function profileSource(doc: ProfileDocument, layout: FlameLayout, rootLabel = 'all'): FlameDataSource {
  const cwd = doc.metadata.cwd
  const colours = new Map<number, string>()
  let coloursFor: FlameTheme | undefined
  const frameOf = (id: number) => doc.frames[layout.frame[id]!]
  return {
    layout,
    label: (id) => frameOf(id)?.qualname ?? rootLabel,
    colour(id, theme) {
      if (coloursFor !== theme && (coloursFor?.dark !== theme.dark || coloursFor.lightness !== theme.lightness)) colours.clear()
      coloursFor = theme
      const f = layout.frame[id]!
      let c = colours.get(f)
      if (c === undefined) {
        const fr = doc.frames[f]
        c = fr ? packageColour(packageOf(fr, cwd), isLibraryFrame(fr), theme) : theme.dark ? 'hsl(0,0%,40%)' : 'hsl(0,0%,78%)'
        colours.set(f, c)
      }
      return c
    },
    tooltip(id) {
      const n = layout.tree.nodes[id]!
      const fr = frameOf(id)
      return [
        h('b', null, fr ? fr.qualname : `${rootLabel} (thread root)`),
        fr ? h('div', { class: 'muted' }, `${fr.kind === 'builtin' ? (fr.module ?? 'builtins') : `${shortFile(fr.file, cwd)}:${fr.firstlineno}`} · ${packageOf(fr, cwd)}${isLibraryFrame(fr) ? ' (library)' : ''}`) : null,
        h('div', null, `calls ${n.calls}`),
        h('div', null, `total ${weightText(layout, n.value)} (${shareText(layout, n.value)})`),
        h('div', null, `self ${weightText(layout, n.self)}`),
        n.netBytes !== undefined ? h('div', null, `memory net ${formatBytes(n.netBytes)}, peak ${formatBytes(n.peakBytes ?? 0)}${n.allocations !== undefined ? `, ${n.allocations.toLocaleString('en-US')} allocations` : ''}`) : null,
      ]
    },
    describe(id) {
      const n = layout.tree.nodes[id]!
      const fr = frameOf(id)
      const where = fr ? (fr.kind === 'builtin' ? ` (builtin, ${fr.module ?? 'builtins'})` : ` in ${shortFile(fr.file, cwd)} line ${fr.firstlineno}`) : ''
      return `${fr ? fr.qualname : rootLabel}${where}: total ${weightText(layout, n.value)}, ${shareText(layout, n.value)} of the graph; self ${weightText(layout, n.self)}; ${n.calls} calls; depth ${layout.depth[id]}, ${n.children.length} callees`
    },
  }
}

/** One entry of the colour legend. */
export interface LegendEntry {
  readonly name: string
  readonly library: boolean
  /** Self weight of the package's frames in the layout. */
  readonly self: number
}

/** The packages that take the most self time in a layout, largest first (at most `max`). */
export function packageLegend(doc: ProfileDocument, layout: FlameLayout, max = 8): LegendEntry[] {
  const byPkg = new Map<string, { library: boolean; self: number }>()
  const names = new Map<number, string>()
  for (let id = 0; id < layout.frame.length; id++) {
    const f = layout.frame[id]!
    const fr = doc.frames[f]
    if (!fr) continue
    let name = names.get(f)
    if (name === undefined) names.set(f, (name = packageOf(fr, doc.metadata.cwd)))
    const e = byPkg.get(name) ?? { library: isLibraryFrame(fr), self: 0 }
    e.self += layout.tree.nodes[id]!.self
    byPkg.set(name, e)
  }
  return [...byPkg.entries()]
    .map(([name, e]) => ({ name, ...e }))
    .sort((a, b) => b.self - a.self)
    .slice(0, max)
}
