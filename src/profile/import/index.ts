/**
 * Importers: profiles other tools wrote, as pyxray profile documents (bytes in, document out; no
 * Node APIs). The format is told by content, never by the file's name: Tachyon's binary magic,
 * a marshalled dict (Tachyon's pstats), a jsonl meta record, a gecko profile's JSON, folded stack lines. How samples map
 * to the document: build.ts.
 */
import type { ProfileDocument } from '../document.js'
import type { ImportFormat, ImportOptions } from './build.js'
import { importCollapsed, looksCollapsed } from './collapsed.js'
import { ImportError } from './errors.js'
import { importGecko, looksGecko } from './gecko.js'
import { importTachyonBinary, looksTachyonBinary } from './tachyon-binary.js'
import { importTachyonJsonl, looksTachyonJsonl } from './tachyon-jsonl.js'
import { importTachyonPstats, looksMarshalDict } from './tachyon-pstats.js'

export { ImportError, type ImportErrorCode } from './errors.js'
export type { ImportFormat, ImportOptions, ImportSource, ImportTool, InstructionRequest } from './build.js'
export { importCollapsed, importGecko, importTachyonBinary, importTachyonJsonl, importTachyonPstats }

/** The format of `bytes`, by content; undefined when it is none pyxray imports. */
export function detectFormat(bytes: Uint8Array): ImportFormat | undefined {
  if (looksTachyonBinary(bytes)) return 'tachyon-binary'
  if (looksMarshalDict(bytes)) return 'tachyon-pstats'
  let head = ''
  for (let i = 0; i < Math.min(bytes.length, 4096); i++) head += String.fromCharCode(bytes[i]!)
  if (looksTachyonJsonl(head)) return 'tachyon-jsonl'
  if (looksGecko(head)) return 'gecko'
  if (looksCollapsed(bytes)) return 'collapsed'
  return undefined
}

/** Reads a file of any format pyxray imports (see {@link detectFormat}) as a profile document. */
export function importProfile(bytes: Uint8Array, options: ImportOptions = {}): ProfileDocument {
  const format = detectFormat(bytes)
  switch (format) {
    case 'tachyon-binary':
      return importTachyonBinary(bytes, options)
    case 'tachyon-pstats':
      return importTachyonPstats(bytes, options)
    case 'tachyon-jsonl':
      return importTachyonJsonl(bytes, options)
    case 'collapsed':
      return importCollapsed(bytes, options)
    case 'gecko':
      return importGecko(bytes, options)
    default:
      throw new ImportError(
        'IMPORT_UNKNOWN_FORMAT',
        "not a format pyxray imports: expected Tachyon's --binary, --pstats, --jsonl or --gecko output (python -m profiling.sampling, 3.15+) or collapsed stacks ('frame;frame;… COUNT' lines: Tachyon --collapsed, py-spy --format raw, austin, stackcollapse-perf)",
      )
  }
}
