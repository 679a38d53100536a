/**
 * speedscope's own importer (npm `speedscope`, pinned), run in Node for the export tests.
 *
 * The package ships only the browser app: one minified bundle that ends by rendering the UI.
 * Its import module (`importProfileGroupFromText(fileName, text)`, the function speedscope calls
 * for a dropped file) is reached through the lazily initialised namespace the bundle keeps for
 * `import('./import')`. We find that namespace by its shape, evaluate the bundle without the final
 * render in a VM context with the few browser globals its top level reads, and hand the function
 * out. If a new speedscope bundle no longer has that shape, this fails loudly naming the package
 * version.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import vm from 'node:vm'

/** speedscope's CallTreeNode, as far as the tests read it. */
export interface SpeedscopeNode {
  readonly frame: { readonly name: string; readonly file?: string; readonly line?: number; readonly key: string | number }
  readonly children: readonly SpeedscopeNode[]
  getTotalWeight(): number
  getSelfWeight(): number
}

/** speedscope's Profile, as far as the tests read it. */
export interface SpeedscopeProfile {
  getName(): string
  getTotalWeight(): number
  getWeightUnit(): string
  getAppendOrderCalltreeRoot(): SpeedscopeNode
}

/** What importProfileGroupFromText resolves to. */
export interface SpeedscopeGroup {
  readonly name: string
  readonly indexToView: number
  readonly profiles: readonly SpeedscopeProfile[]
}

/** The importer plus the "Importing as …" lines speedscope logged for the last import. */
export interface SpeedscopeImporter {
  readonly version: string
  importText(fileName: string, text: string): Promise<SpeedscopeGroup | null>
  readonly log: string[]
}

let cached: SpeedscopeImporter | undefined

/** Loads speedscope's importer from node_modules (once per process). */
export function speedscopeImporter(): SpeedscopeImporter {
  if (cached) return cached
  const require = createRequire(import.meta.url)
  const pkgPath = require.resolve('speedscope/package.json')
  const version = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version
  const dir = join(dirname(pkgPath), 'dist', 'release')
  const bundle = readdirSync(dir).find((f) => /^speedscope-[\w-]+\.js$/.test(f))
  assert.ok(bundle, `speedscope ${version}: no speedscope-*.js bundle in ${dir}`)
  const text = readFileSync(join(dir, bundle), 'utf8')
  // `var jr=Promise.resolve().then(()=>(initImport(),importNamespace))`: the dynamic import.
  const lazy = [...text.matchAll(/Promise\.resolve\(\)\.then\(\(\)=>\(([\w$]+)\(\),([\w$]+)\)\)/g)].find((m) =>
    new RegExp(`\\$?[\\w$]*\\(${m[2]!.replace(/\$/g, '\\$')},\\{[^}]*importProfileGroupFromText:`).test(text),
  )
  assert.ok(lazy, `speedscope ${version}: cannot find the import module in ${bundle} (the bundle's shape changed)`)
  const render = text.lastIndexOf('console.log(`speedscope v')
  assert.ok(render > 0, `speedscope ${version}: cannot find the UI start in ${bundle}`)
  const source = `${text.slice(0, render)}globalThis.__pyxrayImport=()=>(${lazy[1]}(),${lazy[2]});})();`
  const log: string[] = []
  const noop = () => {}
  const context: Record<string, unknown> = {
    console: { log: (...a: unknown[]) => log.push(a.join(' ')), warn: noop, error: noop, info: noop },
    TextDecoder,
    TextEncoder,
    URL,
    setTimeout,
    clearTimeout,
    location: { hash: '', protocol: 'file:', search: '', href: 'file:///speedscope' },
    localStorage: {},
    matchMedia: () => ({ matches: false, addEventListener: noop, addListener: noop }),
    navigator: { userAgent: 'node', platform: 'node' },
    document: { body: null, addEventListener: noop, createElement: () => ({ getContext: () => null, style: {} }) },
    addEventListener: noop,
  }
  context.window = context
  context.self = context
  vm.createContext(context)
  vm.runInContext(source, context, { filename: bundle })
  const namespace = (context.__pyxrayImport as () => { importProfileGroupFromText: (name: string, text: string) => Promise<SpeedscopeGroup | null> })()
  assert.equal(typeof namespace.importProfileGroupFromText, 'function', `speedscope ${version}: the import module has no importProfileGroupFromText`)
  cached = {
    version,
    log,
    importText: (fileName, contents) => {
      log.length = 0
      return namespace.importProfileGroupFromText(fileName, contents)
    },
  }
  return cached
}
