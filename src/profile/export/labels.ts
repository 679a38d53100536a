/** How frames are named in the exported formats. */
import type { ProfileFrame } from '../document.js'

/**
 * A frame's display name: the qualname for Python code; for builtins the qualname, prefixed by
 * the defining module unless it is `builtins` (`len`, `list.append`, `math.sqrt`).
 */
export function frameName(frame: ProfileFrame): string {
  if (frame.kind === 'builtin' && frame.module && frame.module !== 'builtins') return `${frame.module}.${frame.qualname}`
  return frame.qualname
}

/** `file` relative to `cwd` when it is inside it (POSIX or Windows separators), else as it is. */
export function relativeFile(file: string, cwd: string | undefined): string {
  if (!cwd) return file
  for (const sep of ['/', '\\']) {
    const prefix = cwd.endsWith(sep) ? cwd : cwd + sep
    if (file.startsWith(prefix) && file.length > prefix.length) return file.slice(prefix.length)
  }
  return file
}

/**
 * A frame as one folded-stack entry: `qualname (file:line)` for Python code (the file relative to
 * `cwd` when inside it), the {@link frameName} for builtins. `;` (the stack separator) becomes
 * `:`, line breaks become spaces, and spaces at the ends are trimmed.
 */
export function foldedLabel(frame: ProfileFrame, cwd?: string): string {
  const text = frame.kind === 'builtin' ? frameName(frame) : `${frame.qualname} (${relativeFile(frame.file, cwd)}:${frame.firstlineno})`
  return text.replace(/;/g, ':').replace(/[\r\n]+/g, ' ').trim()
}

/**
 * The function-name part of a cProfile/pstats key. Python code: `co_name`, the last part of the
 * qualname (`Acc.add` → `add`, `outer.<locals>.inner` → `inner`). Builtins as _lsprof labels
 * them: a method of a type → `<method 'append' of 'list' objects>` (the type's module prefixed
 * unless `builtins`: `'_io.TextIOWrapper'`), a module function → `<built-in method math.sqrt>`.
 */
export function cprofileName(frame: ProfileFrame): string {
  if (frame.kind === 'python') {
    const dot = lastDotOutsideBrackets(frame.qualname)
    return dot < 0 ? frame.qualname : frame.qualname.slice(dot + 1)
  }
  const dot = frame.qualname.lastIndexOf('.')
  const module = frame.module ?? 'builtins'
  if (dot > 0) {
    const type = frame.qualname.slice(0, dot)
    const owner = module === 'builtins' ? type : `${module}.${type}`
    return `<method '${frame.qualname.slice(dot + 1)}' of '${owner}' objects>`
  }
  return `<built-in method ${module}.${frame.qualname}>`
}

/** The last `.` of a qualname that is not inside `<…>` (names like `<lambda>` have no dots, but be safe). */
function lastDotOutsideBrackets(qualname: string): number {
  let depth = 0
  for (let i = qualname.length - 1; i >= 0; i--) {
    const c = qualname[i]
    if (c === '>') depth++
    else if (c === '<') depth--
    else if (c === '.' && depth === 0) return i
  }
  return -1
}
