/** Reading Markdown as CommonMark / GFM does, for the output hygiene tests: code spans, escapes, table cells. */

/**
 * The inline structure of one Markdown line as CommonMark reads it: code spans (a run of N
 * backticks up to the next run of exactly N) and the text outside them, backslash escapes removed.
 */
export function inline(line: string): { spans: string[]; outside: string } {
  const spans: string[] = []
  let outside = ''
  let i = 0
  while (i < line.length) {
    const c = line[i]!
    if (c === '\\' && i + 1 < line.length && /[!-/:-@[-`{-~]/.test(line[i + 1]!)) {
      outside += '\u0000' // an escaped character: literal, never markup
      i += 2
      continue
    }
    if (c === '`') {
      let n = 0
      while (line[i + n] === '`') n++
      let j = i + n
      let close = -1
      while (j < line.length) {
        if (line[j] === '`') {
          let m = 0
          while (line[j + m] === '`') m++
          if (m === n) {
            close = j
            break
          }
          j += m
        } else j++
      }
      if (close < 0) {
        outside += line.slice(i, i + n)
        i += n
        continue
      }
      let content = line.slice(i + n, close)
      if (content.length > 1 && content.startsWith(' ') && content.endsWith(' ') && content.trim() !== '') content = content.slice(1, -1)
      spans.push(content)
      i = close + n
      continue
    }
    outside += c
    i++
  }
  return { spans, outside }
}

/** Cells of a GFM table row: split at `|` not escaped by a backslash. */
export const cells = (row: string) => row.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/)
