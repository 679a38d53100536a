/**
 * pyxray's library API: the marshal format, .pyc files and the bytecode engine.
 * Everything exported here is free of Node APIs and runs in browsers too.
 */
export * from './bytecode/index.js'
export * from './marshal/index.js'
export * from './pyc/index.js'
