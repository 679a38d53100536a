import { loadPyodide } from 'pyodide'
import { readFileSync, readdirSync } from 'node:fs'
const py = await loadPyodide()
py.FS.mkdirTree('/agent/pyxray')
for (const f of readdirSync('python/pyxray')) if (f.endsWith('.py')) py.FS.writeFile('/agent/pyxray/' + f, readFileSync('python/pyxray/' + f))
console.log(py.runPython(`
import sys, time, json; sys.path.insert(0, '/agent')
from pyxray.nesting import nesting_bound
from pyxray.protocol import handle_json
out = []
import importlib.util
for name in ['typing', 'textwrap']:
    src = importlib.util.find_spec(name).loader.get_source(name)
    lines = src.count('\\n')
    t = time.perf_counter(); b = nesting_bound(src); t1 = time.perf_counter() - t
    t = time.perf_counter(); handle_json(json.dumps({"id": 1, "method": "compile", "params": {"source": src}})); t2 = time.perf_counter() - t
    t = time.perf_counter(); handle_json(json.dumps({"id": 1, "method": "parse", "params": {"source": src}})); t3 = time.perf_counter() - t
    out.append('%s %d lines bound=%d nesting %.1f ms, compile %.1f ms, parse %.1f ms' % (name, lines, b, t1*1e3, t2*1e3, t3*1e3))
'\\n'.join(out)
`))
