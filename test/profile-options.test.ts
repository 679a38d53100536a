/**
 * `pyxray profile` knows every option of the agent's profiler command line: PROFILER_OPTIONS
 * (src/cli/profile.ts) equals the options of `_parser()` in python/pyxray/_profile_cli.py, each
 * with whether it takes a value, and the agent's own list of valued options (`_VALUED`, which
 * `split_argv` uses) agrees. The agent's argparse is read in the embedded Pyodide, so this always
 * runs. Then parseProfileArgs is checked to pass each option (and its value) to the agent.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { PROFILER_OPTIONS, PROFILER_VALUE_OPTIONS, parseProfileArgs } from '../src/cli/profile.js'

const AGENT = join(import.meta.dirname, '..', 'python', 'pyxray')

/** {option: 'value' | 'flag'} of the agent's argparse, and its _VALUED set, from Python itself. */
async function agentOptions(): Promise<{ options: Record<string, 'value' | 'flag'>; valued: string[]; targets: string[] }> {
  const { loadPyodide } = await import('pyodide')
  const py = await loadPyodide()
  py.FS.mkdirTree('/agent/pyxray')
  for (const name of readdirSync(AGENT).filter((f) => f.endsWith('.py'))) py.FS.writeFile(`/agent/pyxray/${name}`, readFileSync(join(AGENT, name), 'utf8'))
  const text = String(
    py.runPython(`
import json, sys
sys.path.insert(0, "/agent")
from pyxray import _profile_cli as cli
options, targets = {}, []
for action in cli._parser()._actions:
    if action.dest in ("module", "code"):  # -m and -c: where the target starts
        targets.extend(action.option_strings)
        continue
    for name in action.option_strings:
        options[name] = "flag" if action.nargs == 0 else "value"
json.dumps({"options": options, "valued": sorted(cli._VALUED), "targets": targets})
`),
  )
  return JSON.parse(text) as { options: Record<string, 'value' | 'flag'>; valued: string[]; targets: string[] }
}

test("PROFILER_OPTIONS is the agent's argparse, option for option", async () => {
  const agent = await agentOptions()
  const sortedEntries = (o: Record<string, string>) => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1))
  assert.deepEqual(sortedEntries({ ...PROFILER_OPTIONS }), sortedEntries(agent.options), 'src/cli/profile.ts PROFILER_OPTIONS vs _profile_cli._parser()')
  assert.deepEqual([...PROFILER_VALUE_OPTIONS].sort(), agent.valued, "the agent's _VALUED (split_argv) vs the TS side")
  assert.deepEqual(agent.targets.sort(), ['-c', '-m'])
})

test('parseProfileArgs hands every profiler option and its value to the agent, and stops at the script', () => {
  const args: string[] = []
  for (const [name, kind] of Object.entries(PROFILER_OPTIONS)) {
    if (name === '-h' || name === '--help') continue
    args.push(name, ...(kind === 'value' ? ['script.py'] : [])) // a value that looks like a script is still a value
  }
  const launch = parseProfileArgs(['--python', '3.12', ...args, '-v', 'app.py', '--python', 'x', '--top', '3'])
  assert.equal(launch.python, '3.12')
  assert.equal(launch.verbose, true)
  // Everything from the script on is the script's, pyxray's own option names included.
  assert.deepEqual(launch.rest, [...args, 'app.py', '--python', 'x', '--top', '3'])
  const inline = parseProfileArgs(['--libraries=all', '--runtime=pyodide', '-m', 'json.tool', 'in.json'])
  assert.equal(inline.runtime, 'pyodide')
  assert.deepEqual(inline.rest, ['--libraries=all', '-m', 'json.tool', 'in.json'])
})
