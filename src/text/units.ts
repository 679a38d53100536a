/**
 * The one set of unit formatters — durations and byte counts — used by every terminal report
 * (profile, diff, memory, compare) and by the web UI. Core: no Node APIs, no imports.
 */

/**
 * A duration in ns as 3 significant digits with a unit: "812 ns", "62.1 µs", "1.23 ms", "4.50 s".
 * Below 1 µs whole nanoseconds, unless `fraction` (timings of tiny statements: "12.3 ns").
 */
export function formatNs(ns: number, options: { readonly fraction?: boolean } = {}): string {
  const sign = ns < 0 ? '-' : ''
  const a = Math.abs(ns)
  if (a < 1e3) return `${sign}${options.fraction ? sig3(a) : Math.round(a)} ns`
  const [v, unit] = a < 1e6 ? [a / 1e3, 'µs'] : a < 1e9 ? [a / 1e6, 'ms'] : [a / 1e9, 's']
  return `${sign}${sig3(v)} ${unit}`
}

/** A duration in seconds, as {@link formatNs} with fractions of a nanosecond: "1.23 s", "789 µs", "12.3 ns". */
export function formatSeconds(seconds: number): string {
  return formatNs(seconds * 1e9, { fraction: true })
}

/** A byte count with a binary unit, 3 significant digits: "512 B", "9.77 KiB", "1.20 MiB" (whole bytes below 1 KiB). */
export function formatBytes(bytes: number): string {
  const sign = bytes < 0 ? '-' : ''
  const a = Math.abs(bytes)
  if (a < 1024) return `${sign}${Math.round(a)} B`
  const [v, unit] = a < 1024 ** 2 ? [a / 1024, 'KiB'] : a < 1024 ** 3 ? [a / 1024 ** 2, 'MiB'] : [a / 1024 ** 3, 'GiB']
  return `${sign}${sig3(v)} ${unit}`
}

/** 3 significant digits, at least 1 before the point: 1.23, 12.3, 123, 1234. */
function sig3(v: number): string {
  if (v >= 100) return v.toFixed(0)
  if (v >= 10) return v.toFixed(1)
  return v.toFixed(2)
}

/** A signed duration change, the sign always shown (ASCII, as every report): "+1.23 ms", "-812 ns", "±0 ns". */
export function formatSignedNs(ns: number): string {
  if (ns === 0) return '±0 ns'
  return `${ns > 0 ? '+' : '-'}${formatNs(Math.abs(ns))}`
}

/** A signed relative change (a fraction: 0.302 → "+30.2%", -0.04 → "-4.0%"); "–" when there is none (null). */
export function formatSignedFraction(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '–'
  const pct = (Math.abs(x) * 100).toFixed(1)
  return `${x > 0 && pct !== '0.0' ? '+' : x < 0 && pct !== '0.0' ? '-' : ''}${pct}%`
}
