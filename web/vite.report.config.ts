/**
 * The build of the HTML report template: `vite build --config web/vite.report.config.ts` →
 * dist/report/report.html, one self-contained file — the Profile viewer's JavaScript and CSS are
 * inlined into the page by {@link singleFile}, nothing is fetched. `pyxray report --format html`
 * fills in the profile (src/profile/export/html.ts).
 */
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig, type Plugin } from 'vite'

const here = dirname(fileURLToPath(import.meta.url))

/** Text that must not end the inline element it is put in: `</script` and `<!--` (HTML script data states). */
function escapeInline(code: string, tag: 'script' | 'style'): string {
  const re = tag === 'script' ? /<(\/script|!--)/gi : /<\/style/gi
  return code.replace(re, (m) => `<\\${m.slice(1)}`)
}

/** Inlines the bundle's one JS chunk and its CSS into the HTML page and drops the separate files. */
function singleFile(): Plugin {
  return {
    name: 'pyxray-single-file',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const html = Object.values(bundle).find((f) => f.type === 'asset' && f.fileName.endsWith('.html'))
      if (!html || html.type !== 'asset') throw new Error('single-file build: no HTML page in the bundle')
      let page = String(html.source)
      for (const [name, f] of Object.entries(bundle)) {
        if (f === html) continue
        const base = name.split('/').pop()!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        if (f.type === 'chunk') {
          const tag = new RegExp(`<script type="module"[^>]*src="[^"]*${base}"[^>]*></script>`)
          if (!tag.test(page)) throw new Error(`single-file build: ${name} is not referenced by the page (a split chunk?)`)
          page = page.replace(tag, () => `<script type="module">${escapeInline(f.code, 'script')}</script>`)
        } else if (name.endsWith('.css')) {
          const tag = new RegExp(`<link rel="stylesheet"[^>]*href="[^"]*${base}"[^>]*>`)
          page = page.replace(tag, () => `<style>${escapeInline(String(f.source), 'style')}</style>`)
        } else if (!name.endsWith('.map')) throw new Error(`single-file build: unexpected asset ${name}`)
        delete bundle[name]
      }
      html.source = page
    },
  }
}

export default defineConfig({
  root: here,
  base: './',
  plugins: [singleFile()],
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: resolve(here, '../dist/report'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    assetsInlineLimit: Number.MAX_SAFE_INTEGER,
    cssCodeSplit: false,
    modulePreload: false,
    sourcemap: false,
    rollupOptions: { input: resolve(here, 'report.html') },
  },
})
