/**
 * `pyxray serve`: the security rules against the running server (foreign Host = DNS rebinding,
 * foreign Origin, missing or wrong token, the cookie's attributes) and its JSON API against a real
 * CPython.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { readMarshal } from '../src/marshal/index.js'
import { fromBase64 } from '../src/runtime/index.js'
import { readProfileDocument } from '../src/profile/document.js'
import { checkRequest } from '../src/server/security.js'
import { type RunningServer, startServer } from '../src/server/server.js'

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** A raw request (fetch would not let us set Host). */
function send(port: number, path: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('error', reject)
    if (body !== undefined) req.write(body)
    req.end()
  })
}

const profileDoc = {
  pyxray: 'profile',
  version: 1,
  metadata: { python: { implementation: 'CPython', version: '3.11.7' }, argv: ['x.py'], cwd: '/', startTime: '2026-01-01T00:00:00Z', durationNs: 10, mode: 'trace', clock: 'wall', overheadNsPerEvent: 0, partial: false, exitStatus: 0, warnings: [] },
  frames: [{ file: '/nonexistent/x.py', firstlineno: 1, qualname: 'f', kind: 'python' }],
  threads: [{ id: 1, name: 'MainThread', main: true, root: { frame: null, calls: 0, totalNs: 10, selfNs: 0, children: [{ frame: 0, calls: 1, totalNs: 10, selfNs: 10, children: [] }] } }],
}

/** A memory document as pyxray mem size writes it. */
const memoryDoc = {
  pyxray: 'memory',
  version: 1,
  kind: 'size',
  metadata: { python: '3.11.7', implementation: 'CPython', executable: '/usr/bin/python3', argv: [], cwd: '/', startTime: '2026-01-01T00:00:00Z' },
  size: { expression: '[1]', type: 'list', totalBytes: 92, shallowBytes: 64, objects: 2, byType: [{ type: 'list', count: 1, bytes: 64 }, { type: 'int', count: 1, bytes: 28 }], skipped: [] },
}

describe('pyxray serve', () => {
  let server: RunningServer
  let host: string
  const web = mkdtempSync(join(tmpdir(), 'pyxray-web-'))
  before(async () => {
    writeFileSync(join(web, 'index.html'), '<!doctype html><html><head><title>t</title></head><body>ui</body></html>')
    writeFileSync(join(web, 'app.js'), 'console.log(1)')
    mkdirSync(join(web, 'assets'))
    writeFileSync(join(web, 'assets', 'index-BgnBcaBv.js'), 'export const x = 1\n')
    writeFileSync(join(web, 'big.wasm'), Buffer.alloc(1000, 7))
    writeFileSync(join(web, 'style.css'), 'body { color: red }\n')
    writeFileSync(join(web, 'style.css.gz'), gzipSync('body { color: red }\n'))
    const profile = join(web, 'run.json')
    writeFileSync(profile, JSON.stringify(profileDoc))
    const memory = join(web, 'size.json')
    writeFileSync(memory, JSON.stringify(memoryDoc))
    server = await startServer({ webRoot: web, profiles: [profile, memory] })
    host = `127.0.0.1:${server.port}`
  })
  after(() => server.close())

  test('prints a loopback URL with a long random token', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/)
  })

  test('refuses a request without the token', async () => {
    const r = await send(server.port, '/api/runtimes', { host })
    assert.equal(r.status, 403)
    assert.match(r.body, /no token/)
    assert.equal((await send(server.port, '/', { host })).status, 403)
    assert.equal((await send(server.port, '/app.js', { host })).status, 403)
  })

  test('static files: hashed assets immutable, others revalidated; validators and 304; Range; precompressed', async () => {
    const auth = { host, 'x-pyxray-token': server.token }
    const hashed = await send(server.port, '/assets/index-BgnBcaBv.js', auth)
    assert.equal(hashed.status, 200)
    assert.equal(hashed.body, 'export const x = 1\n')
    assert.equal(hashed.headers['cache-control'], 'public, max-age=31536000, immutable')
    assert.match(String(hashed.headers['content-type']), /^text\/javascript/)
    const etag = String(hashed.headers.etag)
    assert.ok(etag && hashed.headers['last-modified'], 'a validator')
    const again = await send(server.port, '/assets/index-BgnBcaBv.js', { ...auth, 'if-none-match': etag })
    assert.equal(again.status, 304)
    assert.equal(again.body, '')
    const plain = await send(server.port, '/app.js', auth)
    assert.equal(plain.headers['cache-control'], 'no-cache')
    assert.equal((await send(server.port, '/app.js', { ...auth, 'if-none-match': String(plain.headers.etag) })).status, 304)
    const part = await send(server.port, '/big.wasm', { ...auth, range: 'bytes=10-19' })
    assert.equal(part.status, 206)
    assert.equal(part.headers['content-range'], 'bytes 10-19/1000')
    assert.equal(part.headers['content-type'], 'application/wasm')
    assert.equal(part.body.length, 10)
    const zipped = await send(server.port, '/style.css', { ...auth, 'accept-encoding': 'gzip' })
    assert.equal(zipped.headers['content-encoding'], 'gzip')
    assert.equal((await send(server.port, '/style.css', auth)).body, 'body { color: red }\n')
    // The HTML page itself is never cached (it carries the backend tag).
    assert.equal((await send(server.port, '/', auth)).headers['cache-control'], 'no-store')
    assert.equal((await send(server.port, '/assets/nope-12345678.js', auth)).status, 404)
  })

  test('refuses a wrong token, in the header, the query or the cookie', async () => {
    const wrong = 'f'.repeat(server.token.length)
    assert.equal((await send(server.port, '/api/runtimes', { host, 'x-pyxray-token': wrong })).status, 403)
    assert.equal((await send(server.port, `/?token=${wrong}`, { host })).status, 403)
    assert.equal((await send(server.port, '/api/runtimes', { host, cookie: `pyxray_token_${server.port}=${wrong}` })).status, 403)
  })

  test('refuses a foreign Host (DNS rebinding), even with the token', async () => {
    const r = await send(server.port, '/api/runtimes', { host: `evil.example:${server.port}`, 'x-pyxray-token': server.token })
    assert.equal(r.status, 403)
    assert.match(r.body, /Host/)
    assert.equal((await send(server.port, '/api/runtimes', { host: '127.0.0.1:1', 'x-pyxray-token': server.token })).status, 403)
  })

  test('refuses a foreign Origin, even with the token and a valid cookie', async () => {
    const headers = { host, cookie: `pyxray_token_${server.port}=${server.token}` }
    const r = await send(server.port, '/api/compile', { ...headers, origin: 'http://evil.example', 'content-type': 'application/json' }, 'POST', '{"source":"x=1"}')
    assert.equal(r.status, 403)
    assert.match(r.body, /Origin/)
    assert.equal((await send(server.port, '/api/runtimes', { ...headers, origin: `http://localhost:${server.port + 1}` })).status, 403)
    assert.equal((await send(server.port, '/api/runtimes', { ...headers, 'sec-fetch-site': 'cross-site' })).status, 403)
    // Its own origin is fine.
    assert.equal((await send(server.port, '/api/runtimes', { ...headers, origin: `http://${host}` })).status, 200)
  })

  test('the first tokened load sets an HttpOnly, SameSite=Strict cookie and drops the token from the URL', async () => {
    const r = await send(server.port, `/?token=${server.token}`, { host })
    assert.equal(r.status, 303)
    assert.equal(r.headers.location, '/')
    const cookie = String(r.headers['set-cookie'])
    assert.match(cookie, new RegExp(`^pyxray_token_${server.port}=${server.token};`))
    assert.match(cookie, /HttpOnly/)
    assert.match(cookie, /SameSite=Strict/)
    assert.equal(r.headers['referrer-policy'], 'no-referrer')
    const page = await send(server.port, '/', { host, cookie: `pyxray_token_${server.port}=${server.token}` })
    assert.equal(page.status, 200)
    assert.match(page.body, /<meta name="pyxray-backend" content="server">/)
    // The page (sent only with the token) names it, so a copied Explorer link opens in a fresh browser.
    assert.ok(page.body.includes(`<meta name="pyxray-token" content="${server.token}">`))
    assert.equal((await send(server.port, '/', { host })).status, 403, 'without the token the page, and so the token, is not sent')
  })

  test('serves no file outside the UI folder', async () => {
    const h = { host, 'x-pyxray-token': server.token }
    assert.equal((await send(server.port, '/app.js', h)).status, 200)
    assert.equal((await send(server.port, '/../../../etc/passwd', h)).status, 404)
    assert.equal((await send(server.port, '/%2e%2e/%2e%2e/etc/passwd', h)).status, 404)
    assert.equal((await send(server.port, '/api/source?file=/etc/passwd', h)).status, 404)
  })

  test('compiles with a real CPython: marshal bytes of a code object and the AST', async () => {
    const h = { host, 'x-pyxray-token': server.token, 'content-type': 'application/json' }
    const list = JSON.parse((await send(server.port, '/api/runtimes', h)).body) as { runtimes: { id: string; minor: number }[] }
    const native = list.runtimes.find((r) => r.id.startsWith('native:'))
    assert.ok(native, 'a native CPython is listed')
    assert.ok(list.runtimes.some((r) => r.id === 'pyodide'))
    const r = await send(server.port, '/api/compile', h, 'POST', JSON.stringify({ source: 'x = 1\n', runtime: native.id }))
    assert.equal(r.status, 200)
    const body = JSON.parse(r.body) as { runtime: { minor: number }; marshal: string; ast: { _type: string } }
    assert.equal(body.runtime.minor, native.minor)
    assert.equal(readMarshal(fromBase64(body.marshal), { pythonVersion: [3, native.minor] }).value.type, 'code')
    assert.equal(body.ast._type, 'Module')
    // "ast": false (the UI's AST pane is closed): the code object only.
    const lean = JSON.parse((await send(server.port, '/api/compile', h, 'POST', JSON.stringify({ source: 'x = 1\n', runtime: native.id, ast: false }))).body) as { marshal: string; ast: unknown }
    assert.equal(lean.ast, null)
    assert.equal(lean.marshal, body.marshal)
    const bad = await send(server.port, '/api/compile', h, 'POST', JSON.stringify({ source: 'x = (1,\n', runtime: native.id }))
    assert.equal(bad.status, 422)
    const err = JSON.parse(bad.body) as { error: { code: string; syntax: { lineno: number } } }
    assert.equal(err.error.code, 'SYNTAX_ERROR')
    assert.equal(err.error.syntax.lineno, 1)
    assert.equal((await send(server.port, '/api/compile', h, 'POST', JSON.stringify({ source: 'x', runtime: 'native:2.7' }))).status, 400)
  })

  test('the AST in pieces: the compile answer has the top levels (trimmed nodes count their children), POST /api/ast the subtree at a path — together the tree CPython parsed', async () => {
    const h = { host, 'x-pyxray-token': server.token, 'content-type': 'application/json' }
    const list = JSON.parse((await send(server.port, '/api/runtimes', h)).body) as { runtimes: { id: string; minor: number; label: string }[] }
    const native = list.runtimes.find((r) => r.id.startsWith('native:'))
    assert.ok(native, 'a native CPython is listed')
    /** The interpreter, from its label ("CPython 3.11.7 (/usr/bin/python3)"). */
    const python = /\(([^()]+)\)$/.exec(native.label)?.[1]
    assert.ok(python, native.label)
    // 250 statements: a big module, sent two levels deep.
    const source = Array.from({ length: 250 }, (_, i) => `def g${i}(x):\n    return [x * ${i}, (x, {'k': -x})]`).join('\n') + '\n'
    type Node = { _type: string; _more?: number; [k: string]: unknown }
    const top = (JSON.parse((await send(server.port, '/api/compile', h, 'POST', JSON.stringify({ source, runtime: native.id }))).body) as { ast: Node }).ast
    const body = top.body as Node[]
    assert.equal(body.length, 250)
    const ret = (body[7]!.body as Node[])[0]!
    assert.equal(ret._type, 'Return')
    assert.equal(ret._more, 1, 'a node at the cut keeps its type and positions and counts its children')
    assert.equal(ret.value, undefined, 'its children are not sent')
    assert.equal(ret.lineno, 16)
    // The whole tree, as CPython's ast module gives it through the agent (python -c … would too).
    const whole = (await send(server.port, '/api/ast', h, 'POST', JSON.stringify({ source, runtime: native.id, path: '/body[7]/body[0]' }))).body
    const got = JSON.parse(whole) as { ast: Node }
    const py = spawnSync(python, ['-c', `import ast, sys, json\nt = ast.parse(sys.stdin.read())\nr = t.body[7].body[0]\nprint(json.dumps([type(r.value).__name__, type(r.value.elts[1]).__name__, type(r.value.elts[1].elts[1]).__name__, r.value.elts[0].lineno, r.value.elts[0].col_offset]))`], { input: source, encoding: 'utf8' })
    const [valueType, tupleType, dictType, line, col] = JSON.parse(py.stdout) as [string, string, string, number, number]
    const value = got.ast.value as Node
    assert.equal(value._type, valueType)
    const elts = value.elts as Node[]
    assert.equal(elts[1]!._type, tupleType)
    assert.deepEqual([elts[0]!.lineno, elts[0]!.col_offset], [line, col])
    // Three levels below the node: Return → List → Tuple → Dict, trimmed there.
    const dict = (elts[1]!.elts as Node[])[1]!
    assert.equal(dict._type, dictType)
    assert.equal(dict._more, 2, "the Dict's key and value, counted")
    assert.equal((await send(server.port, '/api/ast', h, 'POST', JSON.stringify({ source, runtime: native.id, path: '/body[999]' }))).status, 404)
    assert.equal((await send(server.port, '/api/ast', h, 'POST', JSON.stringify({ source, runtime: native.id }))).status, 400)
    assert.equal((await send(server.port, '/api/ast', h, 'POST', JSON.stringify({ source: 'x = (', runtime: native.id, path: '' }))).status, 422)
  })

  test('measures a source with a real CPython: executed counts per offset and timing repeats; bad input is a 400, a raise a 422', async () => {
    const h = { host, 'x-pyxray-token': server.token, 'content-type': 'application/json' }
    const list = JSON.parse((await send(server.port, '/api/runtimes', h)).body) as { runtimes: { id: string; minor: number }[] }
    const native = list.runtimes.find((r) => r.id.startsWith('native:'))
    assert.ok(native, 'a native CPython is listed')
    const r = await send(server.port, '/api/measure', h, 'POST', JSON.stringify({ source: 'n = 0\nfor i in range(4):\n    n += i\n', runtime: native.id, repeat: 2, minTime: 0.001 }))
    assert.equal(r.status, 200, r.body)
    const body = JSON.parse(r.body) as { runtime: { minor: number }; measured: { timing: { loops: number; secondsPerLoop: number[] }; counts: { mechanism: string; codes: { index: number; offsets: [number, number][] }[] } } }
    assert.equal(body.runtime.minor, native.minor)
    assert.equal(body.measured.timing.secondsPerLoop.length, 2)
    assert.ok(body.measured.timing.loops >= 1)
    // The module is code 0; the loop body's offsets ran 4 times each, and some offset exactly 5 times (FOR_ITER: 4 items, then the end).
    const module = body.measured.counts.codes.find((c) => c.index === 0)
    assert.ok(module)
    const counts = module.offsets.map(([, n]) => n)
    assert.ok(counts.filter((n) => n === 4).length >= 3, `the body's instructions ran 4 times: ${JSON.stringify(module.offsets)}`)
    assert.ok(counts.includes(5), 'FOR_ITER ran 5 times')
    const raised = await send(server.port, '/api/measure', h, 'POST', JSON.stringify({ source: '1/0\n', runtime: native.id, repeat: 1, minTime: 0.001 }))
    assert.equal(raised.status, 422)
    const err = JSON.parse(raised.body) as { error: { code: string; message: string } }
    assert.equal(err.error.code, 'RUN_ERROR')
    assert.match(err.error.message, /ZeroDivisionError/)
    for (const bad of [{ source: 1 }, { source: 'x', repeat: 0 }, { source: 'x', repeat: 1.5 }, { source: 'x', minTime: -1 }, { source: 'x', optimize: 3 }, { source: 'x', runtime: 'native:2.7' }]) {
      const reply = await send(server.port, '/api/measure', h, 'POST', JSON.stringify(bad))
      assert.equal(reply.status, 400, JSON.stringify(bad))
      assert.match((JSON.parse(reply.body) as { error: { message: string } }).error.message, /^"|unknown runtime/)
    }
  })

  test('serves the profiles it was given', async () => {
    const h = { host, 'x-pyxray-token': server.token }
    const list = JSON.parse((await send(server.port, '/api/profiles', h)).body) as { profiles: { id: string; name: string; kind: string }[] }
    assert.deepEqual(list.profiles.map((p) => [p.name, p.kind]), [['run.json', 'profile'], ['size.json', 'memory']])
    assert.deepEqual(JSON.parse((await send(server.port, '/api/profiles/1', h)).body), memoryDoc)
    // A version-1 file is served in the current format (flat), the same profile.
    const served = (await send(server.port, '/api/profiles/0', h)).body
    assert.equal((JSON.parse(served) as { version: number }).version, 3)
    assert.deepEqual(readProfileDocument(served, 'served'), readProfileDocument(profileDoc, 'run.json'))
    assert.equal((await send(server.port, '/api/profiles/7', h)).status, 404)
  })

  test('refuses what pyxray report refuses, with the same message', async () => {
    const bad = join(web, 'bad-profile.json')
    writeFileSync(bad, JSON.stringify({ ...profileDoc, threads: [{ id: 1, name: 'MainThread', main: true, root: { frame: null, calls: 0, totalNs: 10, selfNs: 0, children: [{ frame: 5, calls: 1, totalNs: 10, selfNs: 10, children: [] }] } }] }))
    await assert.rejects(startServer({ webRoot: web, profiles: [bad] }), (e: unknown) => e instanceof Error && /bad-profile\.json: invalid profile at \/threads\/0\/root\/children\/0\/frame: expected an index into frames, below 1 \(got 5\)/.test(e.message))
    const wrong = join(web, 'v9.json')
    writeFileSync(wrong, JSON.stringify({ ...profileDoc, version: 9 }))
    await assert.rejects(startServer({ webRoot: web, profiles: [wrong] }), (e: unknown) => e instanceof Error && /v9\.json: profile version 9 is not supported/.test(e.message))
  })

  test('refuses a memory document of an unknown version', async () => {
    const bad = join(web, 'bad-memory.json')
    writeFileSync(bad, JSON.stringify({ ...memoryDoc, version: 9 }))
    await assert.rejects(startServer({ webRoot: web, profiles: [bad] }), (e: unknown) => e instanceof Error && /memory document version 9/.test(e.message))
  })
})

test('checkRequest: the rules without a server', () => {
  const g = { host: '127.0.0.1', port: 8000, token: 'abc' }
  assert.equal(checkRequest(g, { url: '/', headers: { host: 'localhost:8000', 'x-pyxray-token': 'abc' } }).ok, true)
  assert.equal(checkRequest(g, { url: '/', headers: { 'x-pyxray-token': 'abc' } }).ok, false)
  assert.deepEqual(checkRequest(g, { url: '/?token=abc', headers: { host: '127.0.0.1:8000' } }), { ok: true, target: { path: '/', query: new URLSearchParams('token=abc') }, setCookie: true })
  assert.equal(checkRequest(g, { url: '/', headers: { host: '127.0.0.1:8000', origin: 'null', cookie: 'pyxray_token_8000=abc' } }).ok, false)
  assert.equal(checkRequest(g, { url: '/', headers: { host: '127.0.0.1:8000', cookie: 'pyxray_token_8000=abc' } }).ok, true)
  // Another port's cookie, or the unnumbered name of older versions, is not this server's.
  assert.equal(checkRequest(g, { url: '/', headers: { host: '127.0.0.1:8000', cookie: 'pyxray_token_8001=abc; pyxray_token=abc' } }).ok, false)
  // A target that is not a path is a 400 before anything else, and never a throw.
  for (const url of ['//%5B', '//[', 'http://[/', '//a:b@[::1', 'http://127.0.0.1:8000/', '*', '', '/%', '/%zz', '/%00', '/a\u0000b', `/${'a'.repeat(9000)}`]) {
    const v = checkRequest(g, { url, headers: { host: '127.0.0.1:8000', 'x-pyxray-token': 'abc' } })
    assert.equal(v.ok ? 200 : v.status, 400, JSON.stringify(url))
  }
})

describe('runServe (the serve command)', () => {
  test('prints the URL, serves until stopped, then exits 0', async () => {
    const { runServe } = await import('../src/cli/serve.js')
    let printed = ''
    let stop!: () => void
    const stopped = new Promise<void>((r) => (stop = r))
    const done = runServe({ host: '127.0.0.1', port: 0, profiles: [] }, { out: (t) => (printed += t), err: () => {} }, stopped)
    // Waits for the line as long as the server takes (a loaded machine), not a fixed 2 s.
    for (let i = 0; i < 3000 && !/\n/.test(printed); i++) await new Promise((r) => setTimeout(r, 20))
    const m = /open (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]+))\n/.exec(printed)
    assert.ok(m, printed)
    const r = await send(Number(m[2]), '/api/profiles', { host: `127.0.0.1:${m[2]}`, 'x-pyxray-token': m[3]! })
    assert.equal(r.status, 200)
    stop()
    assert.equal(await done, 0)
  })

  test('refuses a non-loopback --host, a bad --port and a bad profile with a usage error', async () => {
    const { parsePort, runServe } = await import('../src/cli/serve.js')
    const { UsageError } = await import('../src/cli/errors.js')
    const con = { out: () => {}, err: () => {} }
    await assert.rejects(runServe({ host: '0.0.0.0', port: 0, profiles: [] }, con, Promise.resolve()), (e: unknown) => e instanceof UsageError && /loopback/.test(e.message))
    assert.throws(() => parsePort('http'), UsageError)
    assert.throws(() => parsePort('70000'), UsageError)
    assert.equal(parsePort('8123'), 8123)
    const dir = mkdtempSync(join(tmpdir(), 'pyxray-serve-'))
    writeFileSync(join(dir, 'x.json'), '{"not": "a profile"}')
    await assert.rejects(runServe({ host: '127.0.0.1', port: 0, profiles: [join(dir, 'x.json')] }, con, Promise.resolve()), (e: unknown) => e instanceof UsageError && /not a pyxray profile/.test(e.message))
    await assert.rejects(runServe({ host: '127.0.0.1', port: 0, profiles: [join(dir, 'missing.json')] }, con, Promise.resolve()), (e: unknown) => e instanceof UsageError && /no such file/.test(e.message))
  })
})
