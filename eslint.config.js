// Lint: ESLint's and typescript-eslint's recommended rules (pure JavaScript packages: no platform
// binaries, so `npm ci` works on every machine the registry serves).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test/fixtures/', '.cache/', 'python/', 'src/bytecode/opcodes/v*.ts', 'src/bytecode/stack/effects/v*.ts', 'src/pyc/magic-data.ts'] },
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
)
