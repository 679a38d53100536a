import { MarshalError } from './errors.js'
import { codeLayout } from './reader.js'
import { FLAG_REF, type MarshalOptions, type PyObject, TypeCode } from './types.js'
import { encodeUtf8 } from './utf8.js'

/**
 * Writes `value` in marshal format, using each node's recorded type code and FLAG_REF.
 * An object instance that appears again after being written with FLAG_REF is written as a
 * back-reference ('r'), exactly as CPython does; so reading then writing reproduces the bytes.
 */
export function writeMarshal(value: PyObject, options: MarshalOptions = {}): Uint8Array {
  const w = new Writer(codeLayout(options.pythonVersion ?? [3, 12]))
  w.object(value)
  return w.finish()
}

class Writer {
  private buf = new Uint8Array(1024)
  private len = 0
  private readonly refs = new Map<PyObject, number>()
  private view = new DataView(this.buf.buffer)

  constructor(private readonly layout: ReturnType<typeof codeLayout>) {}

  finish(): Uint8Array {
    return this.buf.slice(0, this.len)
  }

  private grow(n: number): void {
    if (this.len + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.len + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
    this.view = new DataView(next.buffer)
  }

  private u8(v: number): void {
    this.grow(1)
    this.buf[this.len++] = v
  }

  private i32(v: number): void {
    this.grow(4)
    this.view.setInt32(this.len, v, true)
    this.len += 4
  }

  private f64(v: number): void {
    this.grow(8)
    this.view.setFloat64(this.len, v, true)
    this.len += 8
  }

  private raw(b: Uint8Array): void {
    this.grow(b.length)
    this.buf.set(b, this.len)
    this.len += b.length
  }

  private ascii(s: string): void {
    this.grow(s.length)
    for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i) & 0xff
  }

  private shortText(s: string): void {
    this.u8(s.length)
    this.ascii(s)
  }

  object(o: PyObject): void {
    const seen = this.refs.get(o)
    if (seen !== undefined) {
      this.u8(TypeCode.Ref)
      this.i32(seen)
      return
    }
    if (o.ref) this.refs.set(o, this.refs.size)
    this.u8(o.code | (o.ref ? FLAG_REF : 0))
    switch (o.type) {
      case 'none':
      case 'bool':
      case 'stopiteration':
      case 'ellipsis':
        return
      case 'int':
        if (o.code === TypeCode.Int) this.i32(Number(o.value))
        else if (o.code === TypeCode.Int64) {
          this.grow(8)
          this.view.setBigInt64(this.len, o.value, true)
          this.len += 8
        } else {
          const neg = o.value < 0n
          let v = neg ? -o.value : o.value
          const digits: number[] = []
          while (v > 0n) {
            digits.push(Number(v & 0x7fffn))
            v >>= 15n
          }
          this.i32(neg ? -digits.length : digits.length)
          this.grow(2 * digits.length)
          for (const d of digits) {
            this.view.setUint16(this.len, d, true)
            this.len += 2
          }
        }
        return
      case 'float':
        if (o.code === TypeCode.Float) this.shortText(o.text ?? String(o.value))
        else this.f64(o.value)
        return
      case 'complex':
        if (o.code === TypeCode.Complex) {
          this.shortText(o.text?.[0] ?? String(o.real))
          this.shortText(o.text?.[1] ?? String(o.imag))
        } else {
          this.f64(o.real)
          this.f64(o.imag)
        }
        return
      case 'bytes':
        this.i32(o.value.length)
        this.raw(o.value)
        return
      case 'str':
        if (o.code === TypeCode.ShortAscii || o.code === TypeCode.ShortAsciiInterned) this.shortText(o.value)
        else if (o.code === TypeCode.Ascii || o.code === TypeCode.AsciiInterned) {
          this.i32(o.value.length)
          this.ascii(o.value)
        } else {
          const b = o.utf8 ?? encodeUtf8(o.value)
          this.i32(b.length)
          this.raw(b)
        }
        return
      case 'tuple':
      case 'list':
      case 'set':
      case 'frozenset':
        if (o.code === TypeCode.SmallTuple) this.u8(o.items.length)
        else this.i32(o.items.length)
        for (const item of o.items) this.object(item)
        return
      case 'dict':
      case 'frozendict':
        for (const [k, v] of o.entries) {
          this.object(k)
          this.object(v)
        }
        this.u8(TypeCode.Null)
        return
      case 'slice':
        this.object(o.start)
        this.object(o.stop)
        this.object(o.step)
        return
      case 'code':
        for (const [name, kind] of this.layout) {
          const f = o[name]
          if (f === undefined) {
            throw new MarshalError('MARSHAL_UNWRITABLE', `code object has no field ${name} for this Python version`)
          }
          if (kind === 'int32') this.i32(f as number)
          else this.object(f as PyObject)
        }
        return
    }
  }
}
