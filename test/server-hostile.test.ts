/**
 * `pyxray serve` against hostile requests and hostile profiles: malformed request targets sent
 * byte for byte over TCP (as `curl --path-as-is` would), frame files that are FIFOs, devices,
 * secrets or huge, two servers in one browser, an over-large body, a throwing handler. After each,
 * the server must answer the next request. No assertion depends on how long anything takes.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { MAX_BODY, type RunningServer, startServer } from '../src/server/server.js'
import { MAX_SOURCE } from '../src/server/sources.js'

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** A request through node:http (Host and the token set by the caller). */
function send(port: number, path: string, headers: Record<string, string>, method = 'GET', body?: string | Buffer): Promise<Reply> {
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

/** Sends `GET <target> HTTP/1.1` with the target's bytes exactly as given; the status line and body of the answer. */
function raw(port: number, target: Buffer | string, headers: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', reject)
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(text)
      if (!m) return reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`))
      resolve({ status: Number(m[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) })
    })
    const t = typeof target === 'string' ? Buffer.from(target, 'latin1') : target
    socket.end(Buffer.concat([Buffer.from('GET '), t, Buffer.from(` HTTP/1.1\r\n${headers}connection: close\r\n\r\n`)]))
  })
}

/** A profile document whose frames name `files`, recorded as run in `cwd` as `argv`. */
function profileNaming(files: readonly string[], cwd: string, argv: readonly string[] = ['main.py'], version = '3.11.7') {
  return {
    pyxray: 'profile',
    version: 1,
    metadata: { python: { implementation: 'CPython', version }, argv, cwd, startTime: '2026-01-01T00:00:00Z', durationNs: 10, mode: 'trace', clock: 'wall', overheadNsPerEvent: 0, partial: false, exitStatus: 0, warnings: [] },
    frames: files.map((file, i) => ({ file, firstlineno: 1, qualname: `f${i}`, kind: 'python' })),
    threads: [{ id: 1, name: 'MainThread', main: true, root: { frame: null, calls: 0, totalNs: 10, selfNs: 10, children: [] } }],
  }
}

const dir = mkdtempSync(join(tmpdir(), 'pyxray-hostile-'))
const web = join(dir, 'web')
mkdirSync(web)
writeFileSync(join(web, 'index.html'), '<!doctype html><html><head></head><body>ui</body></html>')

describe('pyxray serve: hostile requests', () => {
  let server: RunningServer
  let host: string
  const logged: string[] = []
  before(async () => {
    server = await startServer({
      webRoot: web,
      log: (line) => logged.push(line),
      onRequest: (_method, path) => {
        if (path === '/api/test-throw') throw new TypeError('a handler failed')
      },
    })
    host = `127.0.0.1:${server.port}`
  })
  after(() => server.close())

  /** The server still answers a good request. */
  const alive = async () => assert.equal((await send(server.port, '/api/profiles', { host, 'x-pyxray-token': server.token })).status, 200)

  test('a malformed request target is a 400 with a short body, and the server answers the next request', async () => {
    const targets: (string | Buffer)[] = [
      '//%5B',
      '//[',
      'http://[/',
      '//a:b@[::1',
      `http://127.0.0.1:${server.port}/api/profiles`, // absolute-form
      '*',
      '', // "GET  HTTP/1.1"
      `/${'a'.repeat(10_000)}`, // over MAX_TARGET, under Node's header limit
      '/%',
      '/%zz',
      '/%E0%A4%A', // truncated UTF-8 sequence
      '/%ff', // not UTF-8
      '/%00',
      '/a%0a',
      Buffer.from('/a\0b', 'latin1'),
      Buffer.from('/\x7f', 'latin1'),
      Buffer.from('/\xe9', 'latin1'),
    ]
    for (const target of targets) {
      const shown = JSON.stringify(target.toString().slice(0, 40))
      // With the token: the refusal is about the target, not about who asks.
      const r = await raw(server.port, target, `host: ${host}\r\nx-pyxray-token: ${server.token}\r\n`)
      assert.equal(r.status, 400, shown)
      assert.ok(r.body.length < 300 && !r.body.includes('\n    at '), `${shown}: a short body, no stack: ${r.body}`)
      await alive()
    }
    // Longer than Node's 16 KB header limit: refused by its parser (431), answered all the same.
    const huge = await raw(server.port, `/${'a'.repeat(20_000)}`, `host: ${host}\r\n`)
    assert.ok(huge.status === 400 || huge.status === 431, String(huge.status))
    await alive()
    assert.deepEqual(logged, [], 'a bad request is not an internal error')
  })

  test('the target is checked before the token: no throw without one either', async () => {
    assert.equal((await raw(server.port, '//%5B', `host: ${host}\r\n`)).status, 400)
    assert.equal((await raw(server.port, '//%5B', '')).status, 400)
    await alive()
  })

  test('a handler that throws is a 500 with one log line; the server goes on', async () => {
    const r = await send(server.port, '/api/test-throw', { host, 'x-pyxray-token': server.token })
    assert.equal(r.status, 500)
    assert.deepEqual(JSON.parse(r.body), { error: { code: 'INTERNAL', message: 'a handler failed' } })
    assert.equal(logged.length, 1)
    assert.match(logged[0]!, /^pyxray serve: 500 INTERNAL on GET "\/api\/test-throw": TypeError: a handler failed$/)
    await alive()
    logged.length = 0
  })

  test('a POST over the body limit gets a 413, not a reset, and the server goes on', async () => {
    const h = { host, 'x-pyxray-token': server.token, 'content-type': 'application/json' }
    const body = Buffer.alloc(MAX_BODY + 1, 0x20)
    const r = await send(server.port, '/api/compile', h, 'POST', body)
    assert.equal(r.status, 413)
    assert.equal((JSON.parse(r.body) as { error: { code: string } }).error.code, 'TOO_LARGE')
    // Chunked, without a length announced.
    const chunked = await send(server.port, '/api/compile', { ...h, 'transfer-encoding': 'chunked' }, 'POST', body)
    assert.equal(chunked.status, 413)
    await alive()
    assert.deepEqual(logged, [])
  })
})

describe('pyxray serve: a thrown error on a real route', () => {
  test('an index.html that is a folder is a 500 and one log line; the server answers the next request', async () => {
    const broken = join(dir, 'broken-web')
    mkdirSync(join(broken, 'index.html'), { recursive: true })
    writeFileSync(join(broken, 'app.js'), '1')
    const logged: string[] = []
    const server = await startServer({ webRoot: broken, log: (line) => logged.push(line) })
    try {
      const h = { host: `127.0.0.1:${server.port}`, 'x-pyxray-token': server.token }
      const r = await send(server.port, '/', h)
      assert.equal(r.status, 500)
      assert.equal(logged.length, 1)
      assert.match(logged[0]!, /^pyxray serve: 500 INTERNAL on GET "\/": Error: EISDIR/)
      assert.equal((await send(server.port, '/app.js', h)).status, 200)
      assert.equal((await send(server.port, '/index.html/x', h)).status, 404)
    } finally {
      await server.close()
    }
  })
})

describe('pyxray serve: two servers in one browser', () => {
  test('each sets its own cookie; a browser holding both keeps both tabs working', async () => {
    const a = await startServer({ webRoot: web })
    const b = await startServer({ webRoot: web })
    try {
      const jar: string[] = []
      for (const s of [a, b]) {
        const r = await send(s.port, `/?token=${s.token}`, { host: `127.0.0.1:${s.port}` })
        assert.equal(r.status, 303)
        jar.push(String(r.headers['set-cookie']).split(';')[0]!)
      }
      const names = jar.map((c) => c.split('=')[0])
      assert.notEqual(names[0], names[1], 'the cookie names differ')
      // Cookies ignore ports: the browser sends both cookies to both servers.
      const cookie = jar.join('; ')
      for (const s of [a, b]) {
        const r = await send(s.port, '/api/profiles', { host: `127.0.0.1:${s.port}`, cookie })
        assert.equal(r.status, 200, `server on ${s.port}`)
        assert.equal((await send(s.port, '/', { host: `127.0.0.1:${s.port}`, cookie })).status, 200)
      }
    } finally {
      await a.close()
      await b.close()
    }
  })
})

describe('pyxray serve: /api/source with hostile profiles', () => {
  const project = join(dir, 'project')
  const prefix = join(dir, 'prefix', 'lib', 'python3.11', 'json')
  const other = join(dir, 'elsewhere')
  const files = {
    ok: join(project, 'main.py'),
    nested: join(project, 'pkg', 'mod.py'),
    fifo: join(project, 'pipe.py'),
    big: join(project, 'big.py'),
    passwdLink: join(project, 'passwd.py'),
    zeroLink: join(project, 'zero.py'),
    notPython: join(project, 'notes.txt'),
    script: join(project, 'tool'),
    library: join(prefix, 'decoder.py'),
    outside: join(other, 'secret.py'),
    gone: join(project, 'gone.py'),
  }
  let server: RunningServer
  let h: Record<string, string>
  const hostileArgv = join(dir, 'hostile.json')
  before(async () => {
    mkdirSync(join(project, 'pkg'), { recursive: true })
    mkdirSync(prefix, { recursive: true })
    mkdirSync(other, { recursive: true })
    writeFileSync(files.ok, 'def f0():\n    return 1\n')
    writeFileSync(files.nested, 'x = 1\n')
    const fifo = spawnSync('mkfifo', [files.fifo])
    assert.equal(fifo.status, 0, `mkfifo: ${String(fifo.stderr)}`)
    writeFileSync(files.big, '')
    truncateSync(files.big, MAX_SOURCE + 1) // sparse: no disk used
    symlinkSync('/etc/passwd', files.passwdLink)
    symlinkSync('/dev/zero', files.zeroLink)
    writeFileSync(files.notPython, 'not code\n')
    writeFileSync(files.script, '#!/usr/bin/env python3\nprint(1)\n')
    writeFileSync(files.library, '# the standard library\n')
    writeFileSync(files.outside, 'SECRET = 1\n')
    const profile = join(dir, 'run.json')
    writeFileSync(profile, JSON.stringify(profileNaming([...Object.values(files), '/dev/zero', '/etc/passwd', '/etc/shadow', '/proc/self/environ'], project, ['tool'])))
    // argv[0] and cwd are as untrusted as the frames: a profile "run as /etc/passwd" from /etc.
    writeFileSync(hostileArgv, JSON.stringify(profileNaming(['/etc/passwd', '/etc/hostname'], '/etc', ['/etc/passwd'])))
    server = await startServer({ webRoot: web, profiles: [profile, hostileArgv] })
    h = { host: `127.0.0.1:${server.port}`, 'x-pyxray-token': server.token }
  })
  after(() => server.close())

  const source = async (file: string) => {
    const r = await send(server.port, `/api/source?file=${encodeURIComponent(file)}`, h)
    const body = JSON.parse(r.body) as { text?: string; error?: { code: string; message: string } }
    return { status: r.status, text: body.text, code: body.error?.code, message: body.error?.message ?? '' }
  }
  const alive = async () => assert.equal((await source(files.ok)).status, 200)

  test('serves the Python files of the profile: its folder, below it, the script, the Python library', async () => {
    assert.deepEqual(await source(files.ok), { status: 200, text: 'def f0():\n    return 1\n', code: undefined, message: '' })
    assert.equal((await source(files.nested)).text, 'x = 1\n')
    assert.equal((await source(files.script)).text, '#!/usr/bin/env python3\nprint(1)\n', 'the script needs no .py extension')
    assert.equal((await source(files.library)).text, '# the standard library\n')
  })

  test('a FIFO is refused without waiting for a writer, and the server answers the next request', async () => {
    const r = await source(files.fifo)
    assert.equal(r.status, 403)
    assert.equal(r.code, 'SOURCE_REFUSED')
    assert.match(r.message, /pipe\.py: a FIFO, not a regular file$/)
    await alive()
  })

  test('devices, /etc files and links to them are refused, one line each', async () => {
    for (const file of ['/dev/zero', files.zeroLink, '/etc/shadow', files.passwdLink, '/proc/self/environ', files.outside]) {
      const r = await source(file)
      assert.equal(r.status, 403, file)
      assert.equal(r.code, 'SOURCE_REFUSED', file)
      assert.match(r.message, /outside the folders its profile ran in/, file)
      assert.doesNotMatch(r.message, /\n/)
      assert.equal(r.text, undefined)
    }
    await alive()
  })

  test('a hostile argv[0] does not make any file a script', async () => {
    const r = await source('/etc/passwd')
    assert.equal(r.status, 403)
    assert.match(r.message, /not Python source \(no \.py extension, and no "#!…python" first line\)/)
    // The hostile profile's cwd is /etc, so /etc/passwd is in its roots — but not Python source.
    const hostname = await source('/etc/hostname')
    assert.equal(hostname.status === 403 || hostname.status === 404, true, `${hostname.status} ${hostname.message}`)
    if (hostname.status === 403) assert.match(hostname.message, /not Python source/)
  })

  test('files that are not Python source, or gone, are refused', async () => {
    const text = await source(files.notPython)
    assert.equal(text.status, 403)
    assert.match(text.message, /not Python source/)
    assert.equal((await source(files.gone)).status, 404)
    assert.equal((await source(join(project, 'never-named.py'))).status, 404)
  })

  test('a file over the size cap is a 413 with a one-line reason', async () => {
    const r = await source(files.big)
    assert.equal(r.status, 413)
    assert.equal(r.code, 'SOURCE_TOO_LARGE')
    assert.match(r.message, new RegExp(`big\\.py: ${MAX_SOURCE + 1} bytes, over the ${MAX_SOURCE}-byte limit`))
    await alive()
  })

  test('a library folder counts only for the version the profile recorded', async () => {
    const p312 = join(dir, 'p312.json')
    writeFileSync(p312, JSON.stringify(profileNaming([files.library], join(dir, 'elsewhere'), ['x.py'], '3.12.1')))
    const s = await startServer({ webRoot: web, profiles: [p312] })
    try {
      const r = await send(s.port, `/api/source?file=${encodeURIComponent(files.library)}`, { host: `127.0.0.1:${s.port}`, 'x-pyxray-token': s.token })
      assert.equal(r.status, 403)
    } finally {
      await s.close()
    }
  })
})
