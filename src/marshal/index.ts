/** CPython's marshal format: the object model, a reader and a byte-exact writer. */
export { MarshalError, type MarshalErrorCode } from './errors.js'
export { codeLayout, parsePyFloat, readMarshal, type ReadResult } from './reader.js'
export * from './types.js'
export { expandedSize } from './size.js'
export { decodeUtf8, encodeUtf8 } from './utf8.js'
export { writeMarshal } from './writer.js'
