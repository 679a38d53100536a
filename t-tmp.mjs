import { readFileSync } from 'node:fs'
const src = readFileSync('test/lines.test.ts', 'utf8')
const py = src.split('const DUMP_PY = `')[1].split('`\n')[0]
import { spawnSync } from 'node:child_process'
const req = JSON.stringify({ snippets: [], modules: ['argparse','ast','bisect','calendar','collections','configparser','contextlib','csv','dataclasses','datetime','difflib','enum','fractions','functools','heapq','inspect','json.decoder','logging','pathlib','pprint','random','shutil','string','textwrap','threading','tokenize','typing','zipfile','statistics','unittest.case','email.message','asyncio.base_events','dis','tarfile'], crafted: [] })
for (const v of ['3.8.18', '3.13.0']) {
  const t0 = Date.now()
  const r = spawnSync(`/root/.pyenv/versions/${v}/bin/python3`, ['-c', py], { input: req, maxBuffer: 1e9 })
  console.log(v, Date.now() - t0, r.stdout.length, r.stderr.toString().slice(0, 300))
}
