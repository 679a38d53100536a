/**
 * pprof (profile.proto): export (./export.ts), import (./import.ts) and the Pyroscope and Parca
 * ingest client (./push.ts). Not a core layer: it uses npm pprof-format and Node's zlib and http; the CLI adds
 * {@link pprofExporter} to the core's export registry ({@link ALL_EXPORTERS}).
 */
import { EXPORTERS, type Exporter } from '../profile/export/index.js'
import { pprofExporter } from './export.js'

export { PPROF_FRAME_BUDGET, PPROF_MIN_DEPTH, pprofExporter, pprofFoldDepth, pprofSampleTypes, toPprof, type PprofOptions } from './export.js'
export { importPprof, looksPprof, PPROF_MAX_BYTES, pprofSpan, type PprofImportOptions } from './import.js'

/** Every export format the CLI offers: the core's registry and pprof. */
export const ALL_EXPORTERS: readonly Exporter[] = [...EXPORTERS, pprofExporter]

/** The format named `name`, if any. */
export function anyExporterNamed(name: string): Exporter | undefined {
  return ALL_EXPORTERS.find((e) => e.name === name)
}
