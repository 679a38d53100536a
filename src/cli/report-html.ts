/** `pyxray report --format html`: the built report template (dist/report/report.html) with the profile filled in. */
import { existsSync, readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ProfileDocument } from '../profile/document.js'
import { ExportError, htmlReport } from '../profile/export/index.js'
import { UsageError } from './errors.js'

/** Where `npm run build:web` puts the template (src/cli and dist/cli are both two levels below the package root). */
export const REPORT_TEMPLATE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'report', 'report.html')

/** The HTML report of a profile; a usage error when the template is not built or not pyxray's. */
export function renderHtmlReport(doc: ProfileDocument, name: string, template = REPORT_TEMPLATE): string {
  if (!existsSync(template)) throw new UsageError('NOT_FOUND', `the HTML report template is not built (${template} is missing): run npm run build:web`)
  try {
    return htmlReport(readFileSync(template, 'utf8'), doc, name)
  } catch (e) {
    if (e instanceof ExportError) throw new UsageError('NOT_FOUND', `${template}: ${e.message}`)
    throw e
  }
}

/** `--format html` of pyxray report (see ./report-formats.ts). */
export const htmlReportFormat = {
  name: 'html',
  description: 'one self-contained page with the interactive viewer (flame graph, tables, thread\nswitcher; no network), for the whole profile',
  binary: false,
  needsFile: false,
  wholeProfile: true,
  render: (i: { readonly doc: ProfileDocument; readonly file: string }) => renderHtmlReport(i.doc, basename(i.file)),
} as const
