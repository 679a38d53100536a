/**
 * The self-contained HTML report: the web UI's Profile viewer, built as one file
 * (web/vite.report.config.ts → dist/report/report.html), with a profile put into its data slot.
 * No Node APIs: the caller reads the template.
 */
import { flattenProfile, type ProfileDocument } from '../document.js'
import { toJsonText } from '../json.js'
import { ExportError } from './errors.js'

/** The element of the template that receives the data: `{ "name": …, "profile": … }`. */
export const HTML_REPORT_SLOT = '<script type="application/json" id="pyxray-report">null</script>'

/**
 * JSON that can sit inside a `<script>` element: `<`, `>` and `&` as \u escapes (no `</script>`
 * or `<!--` can end or bend the element), and U+2028/U+2029 escaped too (line terminators to
 * older JavaScript parsers). JSON.parse reads it back unchanged. Written without recursion
 * (toJsonText): call trees of deep recursion nest 100,000+ levels.
 */
export function jsonForScript(value: unknown): string {
  return toJsonText(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** The report page: `template` with the profile (shown under `name`, in the flat document format) in its data slot. */
export function htmlReport(template: string, doc: ProfileDocument, name: string): string {
  const at = template.indexOf(HTML_REPORT_SLOT)
  if (at < 0 || template.indexOf(HTML_REPORT_SLOT, at + 1) >= 0) {
    throw new ExportError('EXPORT_BAD_TEMPLATE', 'the HTML report template has no single data slot: rebuild it with npm run build:web')
  }
  const filled = HTML_REPORT_SLOT.replace('>null<', `>${jsonForScript({ name, profile: flattenProfile(doc) })}<`)
  return template.slice(0, at) + filled + template.slice(at + HTML_REPORT_SLOT.length)
}
