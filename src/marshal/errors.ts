/** Why marshal data could not be read or written. */
export type MarshalErrorCode =
  | 'MARSHAL_TRUNCATED'
  | 'MARSHAL_BAD_TYPE'
  | 'MARSHAL_BAD_REF'
  | 'MARSHAL_BAD_LENGTH'
  | 'MARSHAL_BAD_VALUE'
  | 'MARSHAL_TOO_DEEP'
  | 'MARSHAL_UNWRITABLE'

/** A problem with marshal data; `byteOffset` is where in the input it was found. */
export class MarshalError extends Error {
  override readonly name = 'MarshalError'
  constructor(
    readonly code: MarshalErrorCode,
    message: string,
    /** 0-based offset in the marshal bytes where the problem was found. */
    readonly byteOffset?: number,
  ) {
    super(message)
  }
}
