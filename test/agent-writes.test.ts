/**
 * The agent's atomic writes (python/pyxray/_files.py `write_atomic`, used by every file it writes:
 * profiles, memory reports, the calibration and C-engine caches), on the oldest and newest
 * installed CPython:
 *
 * - the target is an existing folder: a one-line IsADirectoryError naming it, and nothing is
 *   left behind, in the folder or beside it;
 * - a write that fails midway (text the encoding cannot hold, a full disk simulated by a failing
 *   os.fsync) leaves the old file as it was and no temporary file;
 * - a written file has the mode a plain open() gives (0666 less the umask), or 0600 when private;
 * - `Profiler.save` writes through it (a folder refused, no temporary file left).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { PYTHON_DIR, runPython } from './agent-run.js'
import { NATIVE_MINORS, pythonFor } from './pyenv.js'

const WORK = mkdtempSync(join(tmpdir(), 'pyxray-writes-'))
after(() => rmSync(WORK, { recursive: true, force: true }))

const SCRIPT = String.raw`
import errno, json, os, stat, sys
from pyxray._files import write_atomic
work = sys.argv[1]
out = {}

def listing():
    return sorted((os.path.relpath(os.path.join(d, n), work) for d, ds, fs in os.walk(work) for n in ds + fs))

folder = os.path.join(work, "a-folder")
os.makedirs(folder)
with open(os.path.join(folder, "inside.txt"), "w") as f:
    f.write("kept")
before = listing()
try:
    write_atomic(folder, "{}")
    out["folder"] = "written"
except IsADirectoryError as exc:
    out["folder"] = str(exc)
out["folder_left"] = sorted(set(listing()) - set(before))

target = os.path.join(work, "existing.json")
with open(target, "w") as f:
    f.write("old")
before = listing()
try:
    write_atomic(target, "caf\u00e9", encoding="ascii")
except UnicodeEncodeError:
    out["encode"] = "raised"
out["encode_left"] = sorted(set(listing()) - set(before))
real_fsync = os.fsync
def failing_fsync(fd):
    raise OSError(errno.ENOSPC, "No space left on device")
os.fsync = failing_fsync
try:
    write_atomic(target, "new")
except OSError as exc:
    out["fsync"] = exc.errno == errno.ENOSPC
finally:
    os.fsync = real_fsync
out["fsync_left"] = sorted(set(listing()) - set(before))
with open(target) as f:
    out["content"] = f.read()

os.umask(0o027)
plain = os.path.join(work, "plain.json")
write_atomic(plain, "{}")
out["mode"] = oct(stat.S_IMODE(os.stat(plain).st_mode))
private = os.path.join(work, "private.json")
write_atomic(private, "{}", private=True)
out["private_mode"] = oct(stat.S_IMODE(os.stat(private).st_mode))
write_atomic(plain, "[1]")
with open(plain) as f:
    out["replaced"] = f.read()

from pyxray import Profiler
p = Profiler(overhead="off", accel="off")
with p:
    sum(range(10))
saved = os.path.join(work, "run.json")
p.save(saved)
with open(saved) as f:
    out["saved"] = json.load(f)["pyxray"]
try:
    p.save(folder)
except IsADirectoryError:
    out["save_folder"] = "raised"
out["tmp_anywhere"] = [n for n in listing() if n.endswith(".tmp") or ".tmp-" in n]
print(json.dumps(out))
`

test('write_atomic: folders refused, failed writes leave nothing, modes follow the umask', async (t) => {
  const installed = NATIVE_MINORS.map((minor) => ({ minor, python: pythonFor(minor) })).filter((v) => v.python !== undefined)
  const versions = [...new Set([installed[0], installed[installed.length - 1]])].filter((v) => v !== undefined)
  if (versions.length === 0) {
    const reason = 'no CPython 3.8+ is installed'
    if (process.env.CI === 'true') assert.fail(`${reason} (required under CI=true)`)
    t.skip(reason)
    return
  }
  for (const { minor, python } of versions) {
    const work = mkdtempSync(join(WORK, `py${minor}-`))
    const r = await runPython(python!, ['-I', '-c', `import sys; sys.path.insert(0, ${JSON.stringify(PYTHON_DIR)})\n${SCRIPT}`, work])
    assert.equal(r.status, 0, `3.${minor}: ${r.stderr}`)
    const out = JSON.parse(r.stdout) as { [key: string]: unknown }
    const where = `CPython 3.${minor}`
    assert.match(String(out.folder), /that is a folder; give a file name: '.*a-folder'/, where)
    assert.doesNotMatch(String(out.folder), /\n/, where)
    assert.deepEqual(out.folder_left, [], `${where}: nothing left beside or in the folder`)
    assert.equal(out.encode, 'raised', where)
    assert.deepEqual(out.encode_left, [], where)
    assert.equal(out.fsync, true, where)
    assert.deepEqual(out.fsync_left, [], `${where}: no temporary file after a failed fsync`)
    assert.equal(out.content, 'old', `${where}: the old file is untouched`)
    assert.equal(out.mode, '0o640', `${where}: 0666 less umask 027`)
    assert.equal(out.private_mode, '0o600', where)
    assert.equal(out.replaced, '[1]', where)
    assert.equal(out.saved, 'profile', where)
    assert.equal(out.save_folder, 'raised', where)
    assert.deepEqual(out.tmp_anywhere, [], where)
  }
})
