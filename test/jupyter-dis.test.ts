/**
 * The static page of `%%pyxray dis` (python/pyxray/_jupyter.py) on every supported interpreter,
 * without IPython: the stack depth it shows before and after each instruction (dis.stack_effect
 * along every path, exception handlers included) never goes below 0 nor above co_stacksize,
 * reaches co_stacksize and every instruction in plain code (loops, try/except/finally, with,
 * comprehensions, lambdas), and may leave async code's send/yield paths unknown; every
 * instruction row links to a line of the source; importing the module does not import IPython.
 * And the profile magic's report page: where the template is found, the data slot filled safely.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { HTML_REPORT_SLOT } from '../src/profile/export/index.js'
import { PYTHON_DIR } from './agent-run.js'
import { NATIVE_MINORS, requirePython } from './pyenv.js'

const SCRIPT = `
import sys, json, dis
sys.path.insert(0, sys.argv[1])
from pyxray import _jupyter as j
src = '''
import contextlib
def work(items, path):
    total = 0
    for i, x in enumerate(items):
        try:
            total += x / i
        except ZeroDivisionError as e:
            total -= 1
        finally:
            total += 1
    with contextlib.suppress(KeyError):
        total += {}[path]
    squares = [y * y for y in items if y % 2]
    return total + sum(squares), (lambda a, b=2: a * b)(3)
async def co(q):
    async with q as r:
        async for v in r:
            await v
result = work([1, 2, 3, 0], "k")
'''
code = compile(src, '<cell>', 'exec')
out = []
for c in j._code_objects(code):
    d = j.stack_depths(c)
    ins = [i for i in dis.get_instructions(c) if i.opname != 'CACHE']
    out.append({"name": c.co_name, "reached": len(d), "instructions": len(ins), "depths": sorted(set(v for p in d.values() for v in p)), "stacksize": c.co_stacksize})
page = j.dis_page(src, code)
lines = [int(x) for x in __import__("re").findall(r'<tr data-line="(\\d+)"', page)]
print(json.dumps({"codes": out, "ipython": "IPython" in sys.modules, "rowLines": lines, "sourceLines": page.count('<div id="L')}))
`

test('%%pyxray dis: stack depths within co_stacksize, rows linked to source lines, on 3.8–3.15', (t) => {
  for (const minor of NATIVE_MINORS) {
    const python = requirePython(t, minor)
    if (python === undefined) continue
    const r = spawnSync(python, ['-I', '-c', SCRIPT, PYTHON_DIR], { encoding: 'utf8' })
    assert.equal(r.status, 0, `3.${minor}: ${r.stderr}`)
    const got = JSON.parse(r.stdout) as { codes: { name: string; reached: number; instructions: number; depths: number[]; stacksize: number }[]; ipython: boolean; rowLines: number[]; sourceLines: number }
    assert.equal(got.ipython, false, `3.${minor}: the agent does not import IPython`)
    for (const c of got.codes) {
      assert.ok(c.depths.every((d) => d >= 0 && d <= c.stacksize), `3.${minor} ${c.name}: depths ${c.depths} within 0..${c.stacksize}`)
      if (c.name === 'co') continue // async send/yield paths may be unknown
      assert.equal(Math.max(...c.depths), c.stacksize, `3.${minor} ${c.name}: the deepest point is co_stacksize`)
      assert.ok(c.reached >= c.instructions - 1, `3.${minor} ${c.name}: ${c.reached} of ${c.instructions} instructions have a depth`)
    }
    assert.ok(got.rowLines.length > 100, `3.${minor}: instruction rows`)
    assert.ok(got.rowLines.every((l) => l >= 1 && l <= got.sourceLines), `3.${minor}: every row names a line of the source (1..${got.sourceLines})`)
  }
})

test('the profile magic finds the report template beside the agent, or through $PYXRAY_REPORT_TEMPLATE, and fills its one slot safely', () => {
  const layout = mkdtempSync(join(tmpdir(), 'pyxray-template-'))
  try {
    cpSync(join(PYTHON_DIR, 'pyxray'), join(layout, 'python', 'pyxray'), { recursive: true, filter: (p) => !p.includes('__pycache__') })
    mkdirSync(join(layout, 'dist', 'report'), { recursive: true })
    const template = join(layout, 'dist', 'report', 'report.html')
    writeFileSync(template, `<html><body>${HTML_REPORT_SLOT}</body></html>`)
    const script = `
import json, os, sys
sys.path.insert(0, sys.argv[1])
from pyxray import _jupyter as j
found = j.find_report_template()
os.environ["PYXRAY_REPORT_TEMPLATE"] = "/nonexistent/report.html"
missing = j.find_report_template()
page = j.report_page(open(found).read(), {"frames": [{"qualname": "</script><b>x"}]}, "cell \\u2028")
try:
    j.report_page("<html></html>", {}, "x")
    refused = False
except ValueError:
    refused = True
print(json.dumps({"found": found, "missing": missing, "page": page, "refused": refused}))
`
    const env = { PATH: process.env.PATH ?? '' }
    const r = spawnSync('python3', ['-I', '-c', script, join(layout, 'python')], { encoding: 'utf8', env })
    assert.equal(r.status, 0, r.stderr)
    const got = JSON.parse(r.stdout) as { found: string; missing: string | null; page: string; refused: boolean }
    assert.equal(got.found, template, 'python/ and dist/ side by side, as in the npm package and a checkout')
    assert.equal(got.missing, null, 'a $PYXRAY_REPORT_TEMPLATE that does not exist is not used')
    assert.equal(got.refused, true, 'a template without the slot is refused')
    assert.doesNotMatch(got.page, /<\/script><b>/, 'nothing of the profile closes the script element')
    const json = /<script type="application\/json" id="pyxray-report">(.*)<\/script>/s.exec(got.page)![1]!
    assert.deepEqual(JSON.parse(json), { name: 'cell \u2028', profile: { frames: [{ qualname: '</script><b>x' }] } })
  } finally {
    rmSync(layout, { recursive: true, force: true })
  }
})
