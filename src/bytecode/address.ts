import type { PyCode } from '../marshal/index.js'

/**
 * A stable stand-in for the memory address CPython prints in a code object's repr
 * (`<code object f at 0x7f…>`): a hash of the name, first line and file name, so the same code
 * object gets the same address on every run and machine.
 */
export function codeAddress(code: PyCode): string {
  // 0x7f0000000000 + hash * 16, printed as `0x7f0` and the hash's 8 hex digits and `0`; by 16-bit
  // halves, as toString(16) of a number beyond 31 bits is slow in V8.
  const h = codeAddressHash(code)
  return `0x7f0${hex4(h >>> 16)}${hex4(h & 0xffff)}0`
}

/**
 * The hash behind {@link codeAddress}, a uint32: FNV-1a of `${name}\0${firstlineno}\0${filename}`,
 * fed part by part rather than from one concatenated string (dis asks for every code object's
 * address twice).
 */
export function codeAddressHash(code: PyCode): number {
  let h = fnv1a(FNV_OFFSET_BASIS, code.name.type === 'str' ? code.name.value : '')
  h = fnv1a(h, '\0')
  h = fnv1aDecimal(h, code.firstlineno)
  h = fnv1a(h, '\0')
  h = fnv1a(h, code.filename.type === 'str' ? code.filename.value : '')
  return h >>> 0
}

/** {@link fnv1a} over `String(n)`, without making the string for the usual non-negative int32. */
function fnv1aDecimal(h: number, n: number): number {
  if (!(n >= 0 && n < 2 ** 31 && Number.isInteger(n))) return fnv1a(h, String(n))
  let p = 1
  while (p * 10 <= n) p *= 10
  for (; p >= 1; p /= 10) {
    const digit = Math.floor(n / p)
    h = Math.imul(h ^ (0x30 + digit), FNV_PRIME)
    n -= digit * p
  }
  return h
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0')
}

const FNV_OFFSET_BASIS = 0x811c9dc5
const FNV_PRIME = 0x01000193

/**
 * Continues an FNV-1a hash `h` over the UTF-16 code units of `s`. The state stays a signed int32
 * (the caller reads it with `>>> 0`): a `>>> 0` in the loop would make it a double, which V8
 * handles many times slower.
 */
function fnv1a(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME)
  return h
}
