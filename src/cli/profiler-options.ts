/**
 * The options of the agent's profiler command line (python/pyxray/_profile_cli.py) and pyxray's
 * own options of `pyxray profile`: what tells options from the script.
 */

/**
 * Every option of the agent's profiler command line (python/pyxray/_profile_cli.py `_parser`), and
 * whether it takes a value: the one list pyxray needs to tell the profiler's options from the
 * script (test/profile-options.test.ts checks it against the agent's argparse). `-m` and `-c`
 * start the target and are not listed.
 */
export const PROFILER_OPTIONS: Readonly<Record<string, 'value' | 'flag'>> = {
  '--mode': 'value',
  '--memory': 'flag',
  '--count': 'value',
  '--clock': 'value',
  '-o': 'value',
  '--output': 'value',
  '--include': 'value',
  '--exclude': 'value',
  '--interval': 'value',
  '--libraries': 'value',
  '--no-builtins': 'flag',
  '--overhead': 'value',
  '--top': 'value',
  '--subprocesses': 'value',
  '--no-subprocesses': 'flag',
  '-q': 'flag',
  '--quiet': 'flag',
  '-h': 'flag',
  '--help': 'flag',
}

/** The profiler's options that take a value (derived from PROFILER_OPTIONS). */
export const PROFILER_VALUE_OPTIONS: ReadonlySet<string> = new Set(Object.keys(PROFILER_OPTIONS).filter((o) => PROFILER_OPTIONS[o] === 'value'))

/** pyxray's own options of `pyxray profile` (not the agent's): --python, --runtime, -v, --repeat. */
export const OWN_PROFILE_OPTIONS: Readonly<Record<string, 'value' | 'flag'>> = {
  '--python': 'value',
  '--runtime': 'value',
  '--repeat': 'value',
  '--pid': 'value',
  '--duration': 'value',
  '--async-aware': 'flag',
  '--every': 'value',
  '--push': 'value',
  '--name': 'value',
  '--tenant': 'value',
  '--push-timeout': 'value',
  '--push-protocol': 'value',
  '-v': 'flag',
  '--verbose': 'flag',
}

/** Where the target (script, -m, -c, --) starts in profile arguments; their length when there is none. */
export function targetStart(args: readonly string[]): number {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (!a.startsWith('-') || a === '-m' || a === '-c' || a === '--') return i
    if (PROFILER_OPTIONS[a] === 'value' || OWN_PROFILE_OPTIONS[a] === 'value' || a === '--out') i++
  }
  return args.length
}

/**
 * pyxray's and the profiler's options (-h/--help excepted) written after the script: they go to
 * the script, as Python passes them, which is rarely what was meant — the CLI names them in a
 * warning. None when the target is marked with `--`.
 */
export function optionsAfterTarget(args: readonly string[]): string[] {
  const start = targetStart(args)
  if (start >= args.length || args[start] === '--') return []
  const from = args[start] === '-m' || args[start] === '-c' ? start + 2 : start + 1
  const found: string[] = []
  for (const a of args.slice(from)) {
    if (a === '--') break
    const name = a.startsWith('--') ? a.split('=')[0]! : a
    if (name === '-h' || name === '--help') continue
    if ((name in PROFILER_OPTIONS || name in OWN_PROFILE_OPTIONS || name === '--out') && !found.includes(name)) found.push(name)
  }
  return found
}
