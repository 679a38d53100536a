/**
 * UTF-8 with CPython's "surrogatepass" error handler: lone surrogates (U+D800–U+DFFF) are
 * encoded as ordinary 3-byte sequences, as marshal does for str objects. TextDecoder would
 * replace them, losing the exact round trip.
 */

/**
 * The platform's UTF-8 decoder. TextDecoder exists in browsers and Node, but not in the ES library
 * types the core layers compile against, hence the cast.
 */
const platformDecoder = new (globalThis as unknown as { TextDecoder: new () => { decode(b: Uint8Array): string } }).TextDecoder()

/**
 * Bytes the caller knows to be ASCII (all below 0x80) as a string, copied by the platform's
 * decoder: much faster than building the string a character at a time once there are more than
 * a few dozen. (Other bytes would be read as UTF-8.)
 */
export function decodeAscii(bytes: Uint8Array): string {
  return platformDecoder.decode(bytes)
}

/**
 * The platform's strict UTF-8 decoder: it throws on bytes that are not UTF-8 and on encoded
 * surrogates, and keeps a leading byte-order mark as a character.
 */
const strictDecoder = new (
  globalThis as unknown as {
    TextDecoder: new (label: string, options: { fatal: boolean; ignoreBOM: boolean }) => { decode(b: Uint8Array): string }
  }
).TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Decodes `bytes[start, end)` when they are well-formed UTF-8 without encoded surrogates (nearly
 * all text), on the platform's decoder; returns undefined otherwise (see {@link decodeUtf8}).
 */
export function decodeWellFormedUtf8(bytes: Uint8Array, start: number, end: number): string | undefined {
  try {
    return strictDecoder.decode(bytes.subarray(start, end))
  } catch {
    return undefined
  }
}

/** Decodes `bytes[start, end)`; returns undefined when the bytes are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string | undefined {
  // Text without surrogates decodes the same on the platform's decoder, which is much faster;
  // the rest, surrogates or bad bytes, is decoded (or refused) below.
  const wellFormed = decodeWellFormedUtf8(bytes, start, end)
  if (wellFormed !== undefined) return wellFormed
  let out = ''
  let chunk: number[] = []
  let i = start
  while (i < end) {
    const b0 = bytes[i]!
    let cp: number
    if (b0 < 0x80) {
      cp = b0
      i += 1
    } else if (b0 >= 0xc2 && b0 < 0xe0) {
      const b1 = bytes[i + 1]
      if (i + 1 >= end || b1 === undefined || (b1 & 0xc0) !== 0x80) return undefined
      cp = ((b0 & 0x1f) << 6) | (b1 & 0x3f)
      i += 2
    } else if (b0 >= 0xe0 && b0 < 0xf0) {
      const b1 = bytes[i + 1]
      const b2 = bytes[i + 2]
      if (i + 2 >= end || b1 === undefined || b2 === undefined) return undefined
      if ((b1 & 0xc0) !== 0x80 || (b2 & 0xc0) !== 0x80) return undefined
      cp = ((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f)
      if (cp < 0x800) return undefined
      i += 3
    } else if (b0 >= 0xf0 && b0 < 0xf5) {
      const b1 = bytes[i + 1]
      const b2 = bytes[i + 2]
      const b3 = bytes[i + 3]
      if (i + 3 >= end || b1 === undefined || b2 === undefined || b3 === undefined) return undefined
      if ((b1 & 0xc0) !== 0x80 || (b2 & 0xc0) !== 0x80 || (b3 & 0xc0) !== 0x80) return undefined
      cp = ((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f)
      if (cp < 0x10000 || cp > 0x10ffff) return undefined
      i += 4
    } else {
      return undefined
    }
    if (cp >= 0x10000) {
      cp -= 0x10000
      chunk.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff))
    } else {
      chunk.push(cp)
    }
    if (chunk.length > 4096) {
      out += String.fromCharCode(...chunk)
      chunk = []
    }
  }
  return out + String.fromCharCode(...chunk)
}

/** Encodes a JS string; unpaired surrogates become 3-byte sequences (surrogatepass). */
export function encodeUtf8(s: string): Uint8Array {
  const out: number[] = []
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i)
    if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1)
      if (lo >= 0xdc00 && lo < 0xe000) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00)
        i++
      }
    }
    if (cp < 0x80) out.push(cp)
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f))
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f))
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f))
  }
  return Uint8Array.from(out)
}

/**
 * Whether `bytes[start, end)` holds a surrogatepass-encoded high surrogate directly followed by a
 * low one (ED A0–AF xx ED B0–BF xx): decoded to JS they form a pair, so encodeUtf8 would not give
 * these bytes back.
 */
export function hasSplitSurrogatePair(bytes: Uint8Array, start: number, end: number): boolean {
  // A plain loop: indexOf() would search on past `end`, through the rest of the file.
  for (let i = start; i + 5 < end; i++) {
    if (bytes[i] !== 0xed) continue
    const b1 = bytes[i + 1]!
    const b4 = bytes[i + 4]!
    if (b1 >= 0xa0 && b1 < 0xb0 && bytes[i + 3] === 0xed && b4 >= 0xb0 && b4 < 0xc0) return true
  }
  return false
}
