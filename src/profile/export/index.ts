/** Exports of profile documents to other tools' formats: speedscope, pstats, folded stacks, Chrome traces; the HTML report. */
export { toChromeTrace, type ChromeOptions, type ChromeTrace, type TraceEvent } from './chrome.js'
export { COLLAPSED_FRAME_BUDGET, COLLAPSED_MIN_DEPTH, COLLAPSED_UNITS, collapsedFoldDepth, toCollapsed, type CollapsedOptions, type CollapsedUnit } from './collapsed.js'
export { ExportError, type ExportErrorCode } from './errors.js'
export { HTML_REPORT_SLOT, htmlReport, jsonForScript } from './html.js'
export { cprofileName, foldedLabel, frameName } from './labels.js'
export { pstatsEntries, toPstats, type PstatsEntry, type PstatsKey, type PstatsTimes } from './pstats.js'
export { programName, SPEEDSCOPE_SCHEMA, toSpeedscope, type SpeedscopeEvent, type SpeedscopeEventedProfile, type SpeedscopeFile, type SpeedscopeFrame, type SpeedscopeOptions } from './speedscope.js'
export { selectThreads } from './tree.js'
