import type { PyObject } from './types.js'

/**
 * The size of `value` as a tree — every back-reference counted as a full copy of its target — in
 * units of one per object plus one per character of str and byte of bytes. This is how much work
 * anything that walks or prints the value without sharing (repr, dis) must do; a few kilobytes of
 * nested references can make it astronomical ("billion laughs"), so readers can bound it by the
 * input size. Linear in the number of distinct objects; may exceed 2**53 (then it is approximate).
 */
export function expandedSize(value: PyObject): number {
  const memo = new Map<PyObject, number>()
  const size = (o: PyObject): number => {
    const known = memo.get(o)
    if (known !== undefined) return known
    let n = 1
    switch (o.type) {
      case 'str':
      case 'bytes':
        n += o.value.length
        break
      case 'tuple':
      case 'list':
      case 'set':
      case 'frozenset':
        for (const item of o.items) n += size(item)
        break
      case 'dict':
      case 'frozendict':
        for (const [k, v] of o.entries) n += size(k) + size(v)
        break
      case 'slice':
        n += size(o.start) + size(o.stop) + size(o.step)
        break
      case 'code':
        for (const f of Object.values(o)) if (typeof f === 'object') n += size(f)
        break
    }
    memo.set(o, n)
    return n
  }
  return size(value)
}
