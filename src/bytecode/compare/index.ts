/**
 * `pyxray compare`'s engine: alignment of instructions across sides, static summaries, timing
 * statistics, and the compare document with its text view. No Node APIs.
 */
export { type AlignedPair, type AlignedRow, type AlignInstruction, alignByLine, alignByText, alignKey, lcs, type LineBlock, lineBlocks, type PairKind, pairInstructions } from './align.js'
export {
  buildCompare,
  COMPARE_JSON_VERSION,
  type CompareCode,
  type CompareDocument,
  type CompareInstruction,
  type CompareRow,
  type CompareSide,
  type Comparison,
  type MeasureResult,
  type SideInput,
  type SideRuntime,
  type Specialization,
  withAdaptiveCode,
} from './document.js'
export { type CompareTextOptions, formatCompareText, formatCount } from './format.js'
export { formatSeconds } from '../../text/units.js'
export { describeRatio, median, quantile, type TimingRatio, type TimingStats, timingRatio, timingStats } from './stats.js'
export { type StaticSummary, staticSummary, sumSummaries } from './summary.js'
