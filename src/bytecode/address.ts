import type { PyCode } from '../marshal/index.js'

/**
 * A stable stand-in for the memory address CPython prints in a code object's repr
 * (`<code object f at 0x7f…>`): a hash of the name, first line and file name, so the same code
 * object gets the same address on every run and machine.
 */
export function codeAddress(code: PyCode): string {
  // dis prints a code object's repr twice (in its parent's LOAD_CONST and in its own heading).
  let address = addresses.get(code)
  if (address === undefined) {
    address = hashAddress(code)
    addresses.set(code, address)
  }
  return address
}

const addresses = new WeakMap<PyCode, string>()

function hashAddress(code: PyCode): string {
  // FNV-1a, 32 bits.
  let h = 0x811c9dc5
  const text = (o: PyCode['name']) => (o.type === 'str' ? o.value : '')
  const s = `${text(code.name)}\0${code.firstlineno}\0${text(code.filename)}`
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return `0x${(0x7f00_0000_0000 + h * 16).toString(16)}`
}
