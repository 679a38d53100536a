/**
 * The CPython versions pyxray supports: the one list every module, script and test reads.
 *
 * Adding a version starts here and continues with DEVELOPERS.md, "Adding CPython 3.X": the
 * generators (opcodes, stack effects, magic numbers) and the rule tables do the rest. Nothing else
 * in the project may write a version range or a "3.8–3.14" of its own; derive it from this module.
 */

/** Python 3 minor versions pyxray supports, oldest first. */
export const SUPPORTED_MINORS: readonly number[] = Object.freeze([8, 9, 10, 11, 12, 13, 14, 15])

/** The oldest supported minor version. */
export const MIN_MINOR: number = SUPPORTED_MINORS[0]!

/** The newest supported minor version. */
export const MAX_MINOR: number = SUPPORTED_MINORS[SUPPORTED_MINORS.length - 1]!

/** Whether CPython 3.`minor` is supported. */
export function isSupportedMinor(minor: number): boolean {
  return SUPPORTED_MINORS.includes(minor)
}

/** The supported versions as "3.X" strings, oldest first. */
export const SUPPORTED_VERSIONS: readonly string[] = Object.freeze(SUPPORTED_MINORS.map((m) => `3.${m}`))

/** The supported range as people write it: "3.8–3.15". */
export const SUPPORTED_RANGE = `3.${MIN_MINOR}–3.${MAX_MINOR}`

/**
 * The minor version of `"3.X"` (or `"3.X.Y"`, `"3.X.0rc1"`), or undefined when the text is not a
 * Python 3 version.
 */
export function minorOf(version: string): number | undefined {
  const m = /^3\.(\d+)(?:\D|$)/.exec(version)
  return m ? Number(m[1]) : undefined
}
export { FEATURES, type Feature, has, type VersionSpan } from './features.js'
