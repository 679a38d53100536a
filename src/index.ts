/**
 * pyxray's library API: the marshal format, .pyc files, the bytecode engine and profile exports.
 * Everything exported here is free of Node APIs and runs in browsers too.
 */
export * from './bytecode/index.js'
export * from './marshal/index.js'
export * from './pyc/index.js'
export { type DecompiledUnit, type DecompileResult, type Decompiler, decompileModule, NORMALIZE_RULES } from './decompile/index.js'
export { type CodeVerdict, compareCode, type Difference, type VerifyOptions, type VerifyReport, type VerifyStatus, verifyModule } from './decompile/verify.js'
export { formatBytes, formatNs, formatSeconds } from './text/units.js'
export {
  EXPORTERS,
  ExportError,
  type Exporter,
  exporterNamed,
  type ExporterOption,
  type ExportSettings,
  toChromeTrace,
  toCollapsed,
  toPstats,
  toSpeedscope,
  type ChromeOptions,
  type CollapsedOptions,
  type ExportErrorCode,
  type SpeedscopeOptions,
} from './profile/export/index.js'
export type { FlatProfileDocument, FlatProfileNode, FlatProfileThread, ProfileDocument, ProfileDocumentErrorCode, ProfileFrame, ProfileMetadata, ProfileNode, ProfileRun, ProfileThread } from './profile/document.js'
export { flattenProfile, PROFILE_VERSION, ProfileDocumentError, readProfileDocument, SUPPORTED_PROFILE_VERSIONS, toProfileJson } from './profile/document.js'
export { buildTrees, type CallNode, type FunctionInfo, mergeNodes, mergeThreads, type ThreadTree } from './profile/model.js'
export { calleesOf, callersOf, flatTable, type FunctionStats } from './profile/flat.js'
export { focus, hide, minPercent } from './profile/filter.js'
export { mergeRuns, runsOf } from './profile/runs.js'
export { type ProcessEntry, processDocument, processesOf, processLabel, withoutProcesses } from './profile/processes.js'
export { buildReport, type Report, ReportError, type ReportOptions } from './profile/report.js'
export { formatReportText, PLAIN_REPORT, type ReportStyle } from './profile/report-text.js'
export { formatReportMarkdown } from './profile/report-markdown.js'
export type { RowRunStats, RunSpread, SpreadKind } from './profile/report-runs.js'
export { DEFAULT_DIFF_OPTIONS, type DiffOptions, type DiffVerdict, diffProfiles, INCONCLUSIVE_P_FACTOR, type ProfileDiff, type TotalDiff } from './profile/diff.js'
export { formatDiffMarkdown, formatDiffText } from './profile/diff-format.js'
export { type MannWhitney, mannWhitney } from './profile/stats.js'
