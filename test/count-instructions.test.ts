/**
 * `pyxray profile --count instructions` and `pyxray diff --metric instructions` on every supported
 * interpreter (3.8–3.15; sys.monitoring local INSTRUCTION events on 3.12+, f_trace_opcodes
 * before), by the real agent:
 * - every function of a small program that mixes user code, stdlib code (difflib, textwrap) and
 *   builtins has instructions; builtins have 0; the user functions' counts are the same on every
 *   run (each run is a new process: a new hash seed, a new memory layout), the rest within the
 *   diff's floor (a first isinstance() against an ABC varies with the memory layout: see
 *   src/profile/diff-instructions.ts);
 * - 100 A/A comparisons (runs of the unchanged program spread over the interpreters, each compared
 *   with the previous run of the same interpreter) raise no alarm;
 * - a planted +2 % (±0.5 %) in one function (an extra loop in each of five functions in turn) is
 *   caught by one run a side, naming that function: 5/5 on every interpreter, through the CLI's
 *   gate (exit 1, the function in the message);
 * - a profile without counts is refused with one line (exit 2).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { readProfileFile } from '../src/cli/profile-file.js'
import { DEFAULT_INSTRUCTION_DIFF_OPTIONS, diffInstructions } from '../src/profile/diff-instructions.js'
import type { ProfileDocument, ProfileNode } from '../src/profile/document.js'
import { PYTHON_DIR, runProcess } from './agent-run.js'
import { NATIVE_MINORS, requirePython } from './pyenv.js'

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')
const WORK = mkdtempSync(join(tmpdir(), 'pyxray-count-'))
after(() => rmSync(WORK, { recursive: true, force: true }))

/** The five functions a change is planted in, one at a time. */
const PLANTED = ['tokens', 'tally', 'similar', 'render', 'checksum'] as const

/** The program; `plant(name)` is the line put at the top of function `name` (empty: unchanged). */
function program(plant: (name: string) => string): string {
  const p = (name: string) => (plant(name) ? `    ${plant(name)}\n` : '')
  return `import difflib, textwrap
from collections import Counter

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron".split()

def tokens(n):
${p('tokens')}    out = []
    for i in range(n):
        out.append(WORDS[(i * 7) % len(WORDS)] + str(i % 13))
    return out

def tally(words):
${p('tally')}    c = Counter(words)
    total = 0
    for w in sorted(set(words)):
        total += c[w] * len(w)
    for w in words:
        total += len(w) % 3
    return total

def similar(a, b):
${p('similar')}    same = 0
    for x in a:
        for y in b[:20]:
            if x == y:
                same += 1
    return same

def render(words, width=40):
${p('render')}    lines, line = [], ""
    for w in words:
        if len(line) + len(w) + 1 > width:
            lines.append(line)
            line = w
        else:
            line = line + " " + w if line else w
    return len(lines)

def checksum(words):
${p('checksum')}    h = 0
    for w in words:
        for ch in w:
            h = (h * 31 + ord(ch)) % 1000003
    return h

def main():
    t = tokens(300)
    r = tally(t) + similar(t[:60], t[3:63]) + render(t) + checksum(t)
    r += len(difflib.SequenceMatcher(None, t[:50], t[3:53]).get_matching_blocks())
    r += len(textwrap.fill(" ".join(t[:60]), width=40))
    print(r)

main()
`
}

/** Profiles `source` (written as prog.py in its own folder, which is the cwd) with --count instructions. */
async function profileCounts(python: string, dir: string, source: string): Promise<ProfileDocument> {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'prog.py'), source)
  const out = join(dir, 'p.json')
  const env = { PATH: process.env.PATH ?? '', PYTHONPATH: PYTHON_DIR }
  const r = await runProcess(python, ['-m', 'pyxray', '--count', 'instructions', '-q', '-o', out, 'prog.py'], { cwd: dir, env })
  assert.equal(r.status, 0, r.stderr)
  return readProfileFile(out)
}

/** Own instructions per function (file:qualname), summed over call paths. */
function perFunction(doc: ProfileDocument): Map<string, number> {
  const out = new Map<string, number>()
  for (const thread of doc.threads) {
    const todo: ProfileNode[] = [thread.root]
    while (todo.length) {
      const n = todo.pop()!
      todo.push(...n.children)
      const f = n.frame === null ? null : doc.frames[n.frame]!
      const key = f === null ? '(root)' : `${f.kind}:${f.qualname}`
      out.set(key, (out.get(key) ?? 0) + (n.executedInstructions ?? -1))
    }
  }
  return out
}

/** Runs `jobs` two at a time (the machine has two cores). */
async function inPairs<T>(jobs: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array<T>(jobs.length)
  let next = 0
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++
      out[i] = await jobs[i]!()
    }
  }
  await Promise.all([worker(), worker()])
  return out
}

const available = (t: test.TestContext) => NATIVE_MINORS.map((minor) => ({ minor, python: requirePython(t, minor) })).filter((v): v is { minor: number; python: string } => v.python !== undefined)

test('every function has its instructions, builtins none, the same on every run; 100 A/A comparisons raise no alarm', async (t) => {
  const versions = available(t)
  if (versions.length === 0) return
  const perVersion = Math.ceil(100 / versions.length) + 1
  const jobs = versions.flatMap(({ minor, python }) => Array.from({ length: perVersion }, (_, i) => () => profileCounts(python, join(WORK, `aa-${minor}-${i}`), program(() => ''))))
  const docs = await inPairs(jobs)
  let comparisons = 0
  versions.forEach(({ minor }, v) => {
    const mine = docs.slice(v * perVersion, (v + 1) * perVersion)
    const first = perFunction(mine[0]!)
    for (const name of [...PLANTED, 'main', 'SequenceMatcher.get_matching_blocks', 'fill']) {
      assert.ok((first.get(`python:${name}`) ?? 0) > 0, `3.${minor}: ${name} executed instructions (${first.get(`python:${name}`)})`)
    }
    assert.equal(first.get('builtin:sorted'), 0, `3.${minor}: a builtin runs no bytecode`)
    assert.equal(mine[0]!.metadata.count, 'instructions')
    for (let i = 1; i < mine.length; i++) {
      const counts = perFunction(mine[i]!)
      for (const name of PLANTED) assert.equal(counts.get(`python:${name}`), first.get(`python:${name}`), `3.${minor}: run ${i} counted ${name} as run 0 did`)
      for (const [name, n] of counts) assert.ok(Math.abs(n - (first.get(name) ?? 0)) < DEFAULT_INSTRUCTION_DIFF_OPTIONS.minInstructions, `3.${minor}: run ${i}: ${name} ${n} vs ${first.get(name)}`)
      const d = diffInstructions(mine[i - 1]!, mine[i]!, DEFAULT_INSTRUCTION_DIFF_OPTIONS)
      assert.equal(d.regressions + d.improvements, 0, `3.${minor}: A/A comparison ${i} raised an alarm`)
      comparisons++
    }
  })
  assert.ok(comparisons >= 100 || versions.length < NATIVE_MINORS.length, `${comparisons} A/A comparisons`)
  t.diagnostic(`${comparisons} A/A comparisons on 3.${versions.map((v) => v.minor).join(', 3.')}: 0 alarms`)
})

test('a planted +2 % in one function is caught in a single run, naming it: 5/5 on every interpreter', async (t) => {
  const versions = available(t)
  if (versions.length === 0) return
  for (const { minor, python } of versions) {
    const base = await profileCounts(python, join(WORK, `base-${minor}`), program(() => ''))
    const counts = perFunction(base)
    // The plant: an empty loop of k iterations; one iteration is 3 instructions on every version
    // (FOR_ITER, STORE_FAST, JUMP_ABSOLUTE/JUMP_BACKWARD), plus a few to set it up.
    const heads = await inPairs(
      PLANTED.map((name) => () => {
        const k = Math.round((0.02 * counts.get(`python:${name}`)!) / 3)
        return profileCounts(python, join(WORK, `head-${minor}-${name}`), program((n) => (n === name ? `for _ in range(${k}): pass` : '')))
      }),
    )
    let caught = 0
    PLANTED.forEach((name, i) => {
      const grown = perFunction(heads[i]!).get(`python:${name}`)! / counts.get(`python:${name}`)! - 1
      assert.ok(grown > 0.015 && grown < 0.025, `3.${minor}: the plant in ${name} adds 2 % (${(grown * 100).toFixed(2)} %)`)
      const d = diffInstructions(base, heads[i]!, DEFAULT_INSTRUCTION_DIFF_OPTIONS)
      const flagged = d.functions.filter((f) => f.status === 'regression').map((f) => f.qualname)
      assert.deepEqual(flagged, [name], `3.${minor}: only ${name} is a regression`)
      caught++
    })
    assert.equal(caught, 5)
    // The CLI's gate: exit 1 naming the function; the unchanged program passes (exit 0).
    const gate = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'diff', join(WORK, `base-${minor}`, 'p.json'), join(WORK, `head-${minor}-tally`, 'p.json'), '--metric', 'instructions', '--fail-on', 'regression'], { encoding: 'utf8' })
    assert.equal(gate.status, 1, gate.stderr)
    assert.match(gate.stderr, /regression.*\n {2}tally \(prog\.py\): [\d,]+ → [\d,]+ instructions \(\+2\.\d%\)/)
    const same = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'diff', join(WORK, `base-${minor}`, 'p.json'), join(WORK, `base-${minor}`, 'p.json'), '--metric', 'instructions', '--fail-on', 'regression'], { encoding: 'utf8' })
    assert.equal(same.status, 0, same.stderr)
    assert.match(same.stdout, /verdict: pass/)
  }
})

test('a profile without counts is refused with one line (exit 2); time options are refused with the metric', async (t) => {
  const [v] = available(t)
  if (v === undefined) return
  const dir = join(WORK, 'plain')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'prog.py'), 'print(1)\n')
  const r = await runProcess(v.python, ['-m', 'pyxray', '-q', '-o', join(dir, 'p.json'), 'prog.py'], { cwd: dir, env: { PATH: process.env.PATH ?? '', PYTHONPATH: PYTHON_DIR } })
  assert.equal(r.status, 0, r.stderr)
  const refused = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'diff', join(dir, 'p.json'), join(dir, 'p.json'), '--metric', 'instructions'], { encoding: 'utf8' })
  assert.equal(refused.status, 2)
  assert.match(refused.stderr, /^pyxray: .*has no instruction counts.*pyxray profile --count instructions/)
  assert.equal(refused.stderr.trim().split('\n').length, 1)
  const alpha = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'diff', join(dir, 'p.json'), join(dir, 'p.json'), '--metric', 'instructions', '--alpha', '0.1'], { encoding: 'utf8' })
  assert.equal(alpha.status, 2)
  assert.match(alpha.stderr, /--alpha applies to time metrics/)
  const sample = await runProcess(v.python, ['-m', 'pyxray', '--count', 'instructions', '--mode', 'sample', '-q', '-o', join(dir, 'q.json'), 'prog.py'], { cwd: dir, env: { PATH: process.env.PATH ?? '', PYTHONPATH: PYTHON_DIR } })
  assert.equal(sample.status, 2)
  assert.match(sample.stderr, /--count instructions needs --mode trace/)
})
