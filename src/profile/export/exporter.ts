/**
 * The shape every export format has, so that the CLI, its help and the web UI need no list of
 * formats of their own: the registry (./formats.ts) holds one {@link Exporter} per format, each
 * defined beside its code. A new format is one module plus one line in the registry.
 */
import type { ProfileDocument } from '../document.js'

/** An option a format reads besides --thread (e.g. collapsed's --unit). */
export interface ExporterOption {
  /** The values it takes (its help names the default). */
  readonly choices: readonly string[]
  /** One line for the help. */
  readonly help: string
}

/** What an export is asked for. */
export interface ExportSettings {
  /** One thread by name, id or #index; all threads when absent. */
  readonly thread?: string
  /** The exporter's name and version, e.g. pyxray@0.1.0. */
  readonly exporter: string
  /** Values of the format's own options, checked against their choices. */
  readonly options: Readonly<Record<string, string>>
}

/** One export format. */
export interface Exporter {
  /** The name `pyxray export --to` takes. */
  readonly name: string
  /** What it is and which tools read it, for the help (may span lines, without indentation). */
  readonly description: string
  /** Bytes rather than text: never printed to a terminal. */
  readonly binary: boolean
  /** Must be written to a file (-o FILE): binary formats. */
  readonly needsFile: boolean
  /** The format's own options by name (`--NAME VALUE`). */
  readonly options: Readonly<Record<string, ExporterOption>>
  /** The exported document (the root process's). */
  run(doc: ProfileDocument, settings: ExportSettings): string | Uint8Array
  /** Notes for stderr about this export (e.g. folded frames), one line each. */
  notes?(doc: ProfileDocument, settings: ExportSettings): string[]
}
