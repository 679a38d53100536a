// Lint: ESLint's and typescript-eslint's recommended rules everywhere; the web UI also gets React's
// hooks rules and jsx-a11y's recommended accessibility rules (both pure JavaScript packages, so
// `npm ci` works on every machine the registry serves); and the layers (../shared/ARCHITECTURE.md,
// "Layers") as `no-restricted-imports` per folder, generated below from one table.
import js from '@eslint/js'
import jsxA11y from 'eslint-plugin-jsx-a11y'
import reactHooks from 'eslint-plugin-react-hooks'
import tseslint from 'typescript-eslint'

/**
 * Each layer of src/ and the layers it may import; `core` layers use no Node APIs and no packages
 * (the browser bundle and the typed library share them).
 */
const LAYERS = {
  text: { may: [], core: true },
  versions: { may: [], core: true },
  marshal: { may: ['text', 'versions'], core: true },
  pyc: { may: ['text', 'versions', 'marshal'], core: true },
  bytecode: { may: ['text', 'versions', 'marshal', 'pyc'], core: true },
  profile: { may: ['text', 'versions', 'marshal'], core: true },
  decompile: { may: ['text', 'versions', 'marshal', 'pyc', 'bytecode'], core: true },
  runtime: { may: ['text', 'versions', 'marshal', 'pyc', 'bytecode'], core: false },
  server: { may: ['text', 'versions', 'marshal', 'pyc', 'bytecode', 'profile', 'runtime'], core: false },
  pprof: { may: ['text', 'versions', 'marshal', 'profile'], core: false },
  cli: { may: ['text', 'versions', 'marshal', 'pyc', 'bytecode', 'decompile', 'profile', 'runtime', 'server', 'pprof'], core: false },
}
/** The deepest folder below a layer (src/bytecode/stack/effects is 3). */
const MAX_DEPTH = 4
/** What the browser code (web/src) may take from src/runtime: the Node-free modules. */
const WEB_RUNTIME_MODULES = ['types', 'agent']

const up = (n) => `(\\.\\./){${n}}`

/** The import rules for the files `depth` folders below src/LAYER (1: src/LAYER/x.ts). */
function layerRules(layer, depth) {
  const { may, core } = LAYERS[layer]
  const banned = Object.keys(LAYERS).filter((l) => l !== layer && !may.includes(l))
  const patterns = []
  if (banned.length > 0) {
    patterns.push({ regex: `^${up(depth)}(${banned.join('|')})(/|$)`, message: `layer ${layer} may import only ${may.join(', ') || 'nothing'} (../shared/ARCHITECTURE.md, "Layers").` })
  }
  if (core) patterns.push({ regex: '^[^.]', message: `src/${layer} is a core layer: no Node APIs and no packages.` })
  const rules = { 'no-restricted-imports': ['error', { patterns }] }
  // import() is not an import declaration: a core layer has no reason to load anything lazily.
  if (core) rules['no-restricted-syntax'] = ['error', { selector: 'ImportExpression', message: `src/${layer} is a core layer: no dynamic import().` }]
  return rules
}

const layerConfigs = Object.keys(LAYERS).flatMap((layer) =>
  Array.from({ length: MAX_DEPTH }, (_, i) => ({
    files: [`src/${layer}/${'*/'.repeat(i)}*.{ts,mts,js,mjs}`],
    rules: layerRules(layer, i + 1),
  })),
)

/** web/src: the core layers and the Node-free runtime modules only; no Node built-ins. */
const webConfigs = Array.from({ length: MAX_DEPTH }, (_, i) => ({
  files: [`web/src/${'*/'.repeat(i)}*.{ts,tsx}`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          { regex: `^${up(i + 2)}src/(cli|server)(/|$)`, message: 'the browser UI may not import src/cli or src/server (Node code).' },
          { regex: `^${up(i + 2)}src/runtime/(?!(${WEB_RUNTIME_MODULES.join('|')})\\.js$)`, message: `the browser UI may import only ${WEB_RUNTIME_MODULES.map((m) => `src/runtime/${m}.ts`).join(' and ')} of src/runtime.` },
          { regex: '^node:', message: 'the browser UI may not use Node built-ins.' },
        ],
      },
    ],
  },
}))

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test/fixtures/', 'test-artifacts/', '.cache/', 'python/', 'src/bytecode/opcodes/v*.ts', 'src/bytecode/stack/effects/v*.ts', 'src/pyc/magic-data.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      // TypeScript's own checks (noUnusedLocals, noUnusedParameters) already cover these.
      '@typescript-eslint/no-unused-vars': 'off',
      'no-undef': 'off',
      // Control characters are the point of several regexes in the repr code.
      'no-control-regex': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['web/src/**/*.{ts,tsx}'],
    ...jsxA11y.flatConfigs.recommended,
    languageOptions: { ...jsxA11y.flatConfigs.recommended.languageOptions, parserOptions: { ecmaFeatures: { jsx: true } } },
  },
  { files: ['web/src/**/*.{ts,tsx}'], ...reactHooks.configs.flat.recommended },
  ...layerConfigs,
  ...webConfigs,
)
