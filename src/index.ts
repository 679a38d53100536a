/**
 * pyxray's library API: the marshal format, .pyc files, the bytecode engine and profile exports.
 * Everything exported here is free of Node APIs and runs in browsers too.
 */
export * from './bytecode/index.js'
export * from './marshal/index.js'
export * from './pyc/index.js'
export {
  ExportError,
  toChromeTrace,
  toCollapsed,
  toPstats,
  toSpeedscope,
  type ChromeOptions,
  type CollapsedOptions,
  type ExportErrorCode,
  type SpeedscopeOptions,
} from './profile/export/index.js'
