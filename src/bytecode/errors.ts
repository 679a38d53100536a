/** Why bytecode could not be analysed. */
export type BytecodeErrorCode = 'CODE_BAD_FIELD' | 'UNSUPPORTED_VERSION' | 'BAD_BYTECODE' | 'NO_SUCH_CODE'

/** A problem with a code object's contents, or a Python version the engine does not know. */
export class BytecodeError extends Error {
  override readonly name = 'BytecodeError'
  constructor(
    readonly code: BytecodeErrorCode,
    message: string,
    /** Byte offset inside co_code, when the problem is at an instruction. */
    readonly byteOffset?: number,
  ) {
    super(message)
  }
}
