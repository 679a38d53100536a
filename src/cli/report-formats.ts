/**
 * The formats of `pyxray report`, in the order the help lists them: one line per format below,
 * each a {@link ReportFormat} (html's in ./report-html.ts). The command, its help and its checks
 * read this list.
 */
import { toJsonText } from '../profile/json.js'
import type { Report } from '../profile/report.js'
import { formatReportMarkdown } from '../profile/report-markdown.js'
import { formatReportText, type ReportStyle } from '../profile/report-text.js'
import type { ProfileDocument } from '../profile/document.js'
import { htmlReportFormat } from './report-html.js'

/** What a report format renders from. */
export interface ReportInput {
  readonly doc: ProfileDocument
  /** The report of the chosen view (undefined for formats that hold the whole profile). */
  readonly report?: Report
  /** The profile's file name as given. */
  readonly file: string
  readonly width: number
  readonly style: ReportStyle
}

/** One format of `pyxray report`. */
export interface ReportFormat {
  /** The name `--format` takes. */
  readonly name: string
  /** For the help (may span lines, without indentation). */
  readonly description: string
  /** Bytes rather than text (none of the report formats so far). */
  readonly binary: boolean
  /** Must be written to a file with -o. */
  readonly needsFile: boolean
  /** Holds the whole profile: views, threads and searches are picked in the output itself. */
  readonly wholeProfile: boolean
  render(input: ReportInput): string
}

const text: ReportFormat = {
  name: 'text',
  description: 'for the terminal (default)',
  binary: false,
  needsFile: false,
  wholeProfile: false,
  render: (i) => formatReportText(i.report!, { width: i.width, style: i.style }),
}

const markdown: ReportFormat = {
  name: 'markdown',
  description: 'PR comments, $GITHUB_STEP_SUMMARY',
  binary: false,
  needsFile: false,
  wholeProfile: false,
  render: (i) => formatReportMarkdown(i.report!),
}

// The tree of deep recursion nests 100,000+ levels: toJsonText does not recurse.
const json: ReportFormat = {
  name: 'json',
  description: 'the report as data',
  binary: false,
  needsFile: false,
  wholeProfile: false,
  render: (i) => `${toJsonText(i.report!, 2)}\n`,
}

/** Every report format. */
export const REPORT_FORMATS: readonly ReportFormat[] = [text, markdown, json, htmlReportFormat]
