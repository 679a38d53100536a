/**
 * The export formats, in the order the help lists them: one line per format (each defined beside
 * its code, see ./exporter.ts). `pyxray export --to`, its help and its checks read this list.
 */
import { chromeExporter } from './chrome.js'
import { collapsedExporter } from './collapsed.js'
import type { Exporter } from './exporter.js'
import { pstatsExporter } from './pstats.js'
import { speedscopeExporter } from './speedscope.js'

/** Every export format. */
export const EXPORTERS: readonly Exporter[] = [
  speedscopeExporter,
  pstatsExporter,
  collapsedExporter,
  chromeExporter,
]

/** The format named `name`, if any. */
export function exporterNamed(name: string): Exporter | undefined {
  return EXPORTERS.find((e) => e.name === name)
}
