/**
 * `pyxray push DOC --to URL --name APP{labels}`: a profile document (or a pprof file) sent to
 * Grafana Pyroscope's HTTP ingest API (src/pprof/push.ts). Credentials only from the environment
 * (PYXRAY_PUSH_TOKEN, PYXRAY_PUSH_BASIC), never from the command line, never printed.
 */
import { readFileSync } from 'node:fs'
import { ProfileDocumentError } from '../profile/document.js'
import { ExportError } from '../profile/export/index.js'
import { withoutProcesses } from '../profile/processes.js'
import { APP_NAME, authorizationFromEnv, PARCA_LABEL, PushError, pushProfile, type PushProfile, type PushProtocol, pushUrl } from '../pprof/push.js'
import { looksPprof, pprofSampleTypes, pprofSpan, toPprof } from '../pprof/index.js'
import { defineCommand, HELP_OPTION, numberOption, parseOptions } from './command.js'
import { ExitCode, UsageError } from './errors.js'
import { readProfileFile } from './profile-file.js'
import { VERSION } from './version.js'

export const PUSH_HELP = `Usage: pyxray push DOC --to URL --name APP[{label=value,…}] [options]

Sends a profile document (pyxray profile -o, pyxray import -o) as pprof to Grafana Pyroscope's
HTTP ingest API: POST URL/ingest?name=APP{labels}&from=…&until=…&format=pprof&spyName=pyxray
&sampleRate=…, the pprof in the multipart field "profile". A pprof file (.pb.gz) is sent as it is.
With --protocol parca, to Parca's WriteRaw instead: POST URL/api/profiles/writeraw (its HTTP/JSON
gateway, port 7070), the name as the __name__ label and each k=v as a label.

Options:
      --to URL              the Pyroscope server (http://localhost:4040) or its /ingest URL; with
                            --protocol parca the Parca server (http://localhost:7070)
      --name APP{k=v,…}     the application name, with optional labels (app{env=prod})
      --protocol P          pyroscope (default) or parca
      --tenant ID           X-Scope-OrgID, for multi-tenant Pyroscope servers
      --timeout S           seconds each request may take (default 10)
      --thread NAME|ID|#N   only this thread
  -h, --help                show this help (also: pyxray help push)

Credentials come from the environment only, and are never printed:
  PYXRAY_PUSH_TOKEN=…             Authorization: Bearer …
  PYXRAY_PUSH_BASIC=user:password Authorization: Basic … (Grafana Cloud: the instance id and a token)

Exit codes: 0 delivered, 1 not delivered (the server refused it, did not answer in time, or
nobody listens there: one line says which), 2 usage error.

Example:
  docker run -p 4040:4040 grafana/pyroscope
  pyxray push run.json --to http://localhost:4040 --name myapp{env=dev}
`

const PUSH_OPTIONS = { to: { type: 'string' }, name: { type: 'string' }, protocol: { type: 'string' }, tenant: { type: 'string' }, timeout: { type: 'string' }, thread: { type: 'string' }, ...HELP_OPTION } as const

/** Checks --to, --name, --protocol, --tenant and --timeout (shared with pyxray profile --push). */
export function pushTargetOptions(
  values: { readonly to?: string | undefined; readonly name?: string | undefined; readonly protocol?: string | undefined; readonly tenant?: string | undefined; readonly timeout?: string | undefined },
  urlOption = '--to',
  protocolOption = '--protocol',
): { url: string; name: string; tenant?: string; timeoutMs: number; protocol: PushProtocol } {
  const protocol = values.protocol ?? 'pyroscope'
  if (protocol !== 'pyroscope' && protocol !== 'parca') throw new UsageError('USAGE', `${protocolOption} takes pyroscope or parca, not "${protocol}"`)
  if (values.to === undefined) throw new UsageError('USAGE', `${urlOption} URL is needed: the ${protocol === 'parca' ? 'Parca server, e.g. http://localhost:7070' : 'Pyroscope server, e.g. http://localhost:4040'}`)
  let url: URL
  try {
    url = pushUrl({ url: values.to, protocol })
  } catch {
    throw new UsageError('USAGE', `${urlOption} takes an http:// or https:// URL, not "${values.to}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('USAGE', `${urlOption} takes an http:// or https:// URL, not "${values.to}"`)
  if (url.username || url.password) throw new UsageError('USAGE', `${urlOption}: credentials do not go in the URL (nor anywhere on the command line): set PYXRAY_PUSH_TOKEN or PYXRAY_PUSH_BASIC=user:password`)
  if (values.name === undefined) throw new UsageError('USAGE', '--name APP is needed: the application name in Pyroscope, with optional labels: app{env=prod}')
  if (!APP_NAME.test(values.name)) throw new UsageError('USAGE', `--name "${values.name}" is not APP or APP{key=value,…} (letters, digits, _ . - / : in names)`)
  if (protocol === 'parca') {
    const bad = values.name.includes('{') ? values.name.slice(values.name.indexOf('{') + 1, -1).split(',').map((kv) => kv.split('=')[0]!).find((k) => !PARCA_LABEL.test(k)) : undefined
    if (bad !== undefined) throw new UsageError('USAGE', `--name: "${bad}" is not a Parca label name (letters, digits and _, not starting with a digit)`)
    if (values.tenant !== undefined) throw new UsageError('USAGE', "--tenant is Pyroscope's X-Scope-OrgID: Parca's WriteRaw has no tenant (leave it out with --protocol parca)")
  }
  if (values.tenant !== undefined && !/^[\x21-\x7e]{1,150}$/.test(values.tenant)) throw new UsageError('USAGE', '--tenant takes a tenant id of printable characters without spaces')
  const timeout = numberOption('timeout', values.timeout, 10, { min: 0.001, max: 3600, integer: false })
  return { url: values.to, name: values.name, ...(values.tenant !== undefined ? { tenant: values.tenant } : {}), timeoutMs: Math.round(timeout * 1000), protocol }
}

interface PushRequest {
  readonly file: string
  readonly target: ReturnType<typeof pushTargetOptions>
  readonly thread?: string
}

/** `pyxray push`. */
export const pushCommand = defineCommand<PushRequest>({
  name: 'push',
  synopsis: 'DOC',
  summary: 'a profile to Grafana Pyroscope (HTTP ingest) or Parca (WriteRaw), as pprof',
  help: PUSH_HELP,
  options: PUSH_OPTIONS,
  parse(args) {
    const { values, positionals } = parseOptions(args, PUSH_OPTIONS)
    if (positionals.length !== 1) throw new UsageError('USAGE', 'push needs one profile document (pyxray profile -o FILE writes one); see pyxray push --help')
    return { file: positionals[0]!, target: pushTargetOptions(values), ...(values.thread !== undefined ? { thread: values.thread } : {}) }
  },
  async run(o, ctx) {
    let profile: PushProfile
    try {
      profile = pushableProfile(o.file, o.thread)
    } catch (e) {
      if (e instanceof ProfileDocumentError) throw new UsageError(e.code === 'PROFILE_UNREADABLE' ? 'NOT_FOUND' : 'USAGE', e.message)
      if (e instanceof ExportError) throw new UsageError('USAGE', `${o.file}: ${e.message}`)
      throw e
    }
    const authorization = authorizationFromEnv(process.env)
    try {
      await pushProfile({ ...o.target, ...(authorization !== undefined ? { authorization } : {}) }, profile)
    } catch (e) {
      if (!(e instanceof PushError)) throw e
      ctx.con.err(`pyxray push: not delivered: ${e.message} [${e.code}]\n`)
      return ExitCode.GateFailed
    }
    ctx.con.err(`pyxray push: delivered ${o.file} to ${pushUrl(o.target).href} as ${o.target.name} (${profile.pprof.length} bytes of pprof)\n`)
    return ExitCode.Ok
  },
})

/** The pprof and window of a file: a profile document, or a pprof file as it is. */
function pushableProfile(file: string, thread: string | undefined): PushProfile {
  let head: Buffer | undefined
  try {
    head = readFileSync(file)
  } catch {
    head = undefined // readProfileFile says why
  }
  const span = head && looksPprof(head) ? pprofSpan(head) : undefined
  if (head && span) {
    // As it is: its own time span (now when it has none), its sampling rate when it has a period.
    const from = span.startNs > 0 ? span.startNs / 1e9 : Date.now() / 1000
    return { pprof: head, from, until: from + span.durationNs / 1e9, sampleRate: span.periodNs > 0 ? 1e9 / span.periodNs : 100, sampleTypes: span.sampleTypes }
  }
  const doc = withoutProcesses(readProfileFile(file))
  const start = Date.parse(doc.metadata.startTime) / 1000
  const from = Number.isFinite(start) && start > 0 ? start : Date.now() / 1000
  const m = doc.metadata
  return {
    pprof: toPprof(doc, { producer: `pyxray@${VERSION}`, ...(thread !== undefined ? { thread } : {}) }),
    from,
    until: from + m.durationNs / 1e9,
    sampleRate: m.mode === 'sample' && m.intervalNs ? 1e9 / m.intervalNs : 100,
    sampleTypes: pprofSampleTypes(doc),
  }
}
