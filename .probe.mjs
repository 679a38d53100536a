import { loadPyodide } from 'pyodide'
const n = Number(process.argv[2]), what = process.argv[3]
const py = await loadPyodide()
console.log(n, what, py.runPython(`
import sys, ast, importlib.util
r = [sys.version, importlib.util.MAGIC_NUMBER.hex(), sys.getrecursionlimit()]
src = 'x = ' + '+'.join(['a']*${n})
try:
  ${what}
  r.append('deep ok')
except BaseException as e: r.append(repr(e))
str(r)
`))
