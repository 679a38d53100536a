/** The source and bytecode of one profiled function, when the backend can read its file. */
import { useEffect, useState } from 'preact/hooks'
import { lineSpan } from '../../../src/bytecode/index.js'
import type { ProfileDocument, ProfileFrame } from '../../../src/profile/document.js'
import type { Backend, RuntimeOption } from '../backend.js'
import { disassembly, loadCompiled } from '../compiled.js'
import { BytecodePane } from '../explorer/bytecode-pane.js'
import { FrameSamples, heat, samplesOf } from './frame-samples.js'

type Loaded =
  | { readonly state: 'loading' }
  | { readonly state: 'none'; readonly why: string }
  | { readonly state: 'ok'; readonly lines: readonly [number, string][]; readonly d: ReturnType<typeof disassembly>; readonly version: string }

/** Picks the runtime closest to the profile's Python. */
function runtimeFor(runtimes: readonly RuntimeOption[], doc: ProfileDocument): string | undefined {
  const minor = Number(doc.metadata.python.version.split('.')[1])
  return (runtimes.find((r) => r.minor === minor) ?? runtimes[0])?.id
}

/**
 * The .py files the user added (static build: the backend compiles them for {@link FrameCode}):
 * a counter that changes with every file added, for `sources`, and the function that adds files.
 */
export function useSourceFiles(backend: Backend, onError: (message: string) => void): [number, (files: readonly File[]) => void] {
  const [sources, setSources] = useState(0)
  const addSources = (files: readonly File[]) => {
    if (!backend.addSource) return
    for (const f of files) {
      f.text().then(
        (t) => {
          backend.addSource?.(f.name, t)
          setSources((n) => n + 1)
        },
        (e: Error) => onError(`${f.name}: ${e.message}`),
      )
    }
  }
  return [sources, addSources]
}

/** The panel. */
export function FrameCode({ backend, doc, frame, sources = 0 }: { backend: Backend; doc: ProfileDocument; frame: ProfileFrame; sources?: number }) {
  // What was loaded, and for which frame: until this frame's answer is in, the panel says it is
  // loading (not, for a render, the previous frame's source or message).
  const [answer, setAnswer] = useState<{ readonly backend: Backend; readonly doc: ProfileDocument; readonly frame: ProfileFrame; readonly sources: number; readonly loaded: Loaded }>()
  const loaded: Loaded = answer && answer.backend === backend && answer.doc === doc && answer.frame === frame && answer.sources === sources ? answer.loaded : { state: 'loading' }
  useEffect(() => {
    let live = true
    const run = async (): Promise<Loaded> => {
      if (frame.kind !== 'python') return { state: 'none', why: `${frame.qualname} is a builtin: it has no Python bytecode` }
      if (backend.kind === 'report') {
        return { state: 'none', why: `${frame.file}:${frame.firstlineno} — a report holds no Python: open the profile with pyxray serve to see the source and bytecode` }
      }
      const text = await backend.source(frame.file)
      if (text === undefined) {
        const name = frame.file.split('/').pop()
        return {
          state: 'none',
          why:
            backend.kind === 'server'
              ? `${frame.file} is not readable through the server`
              : `open ${name} with "add source files…" (or drop it here) to see its source and bytecode, compiled in this browser — or open the profile through pyxray serve (${frame.file})`,
        }
      }
      const r = await backend.compile({ source: text, runtime: runtimeFor(await backend.runtimes(), doc), ast: false })
      if (!r.ok) return { state: 'none', why: `${frame.file} does not compile now: ${r.message}` }
      const c = loadCompiled(r.marshal, r.minor, r.version)
      const hit =
        c.entries.find((e) => e.code.firstlineno === frame.firstlineno && (e.qualname === frame.qualname || e.code.name === frame.qualname.split('.').pop())) ??
        c.entries.find((e) => e.qualname === frame.qualname)
      if (!hit) return { state: 'none', why: `no code object ${frame.qualname} at line ${frame.firstlineno} in ${frame.file} (has the file changed?)` }
      const span = lineSpan(hit.code) ?? [frame.firstlineno, frame.firstlineno]
      const all = text.split('\n')
      const first = Math.min(frame.firstlineno, span[0])
      const lines: [number, string][] = []
      for (let l = first; l <= span[1]; l++) lines.push([l, all[l - 1] ?? ''])
      return { state: 'ok', lines, d: disassembly(hit.code), version: r.version }
    }
    run().then(
      (v) => live && setAnswer({ backend, doc, frame, sources, loaded: v }),
      (e: Error) => live && setAnswer({ backend, doc, frame, sources, loaded: { state: 'none', why: e.message } }),
    )
    return () => {
      live = false
    }
  }, [backend, doc, frame, sources])
  // sample mode: the source shaded by each line's share of the function's samples (frame-samples.tsx)
  const samples = samplesOf(doc, doc.frames.indexOf(frame))
  const panel = samples ? <FrameSamples samples={samples} /> : null
  if (loaded.state === 'loading') return <div class="muted">loading the source…</div>
  if (loaded.state === 'none')
    return (
      <div>
        <div class="muted" data-testid="frame-code-missing">
          {loaded.why}
        </div>
        {panel}
      </div>
    )
  return (
    <div class="frame-code" data-testid="frame-code">
      {/* Scrolls sideways for long lines: focusable, so the keyboard can scroll it (a labelled region). */}
      {/* eslint-disable-next-line jsx-a11y/no-noninteractive-tabindex */}
      <pre class="source" tabIndex={0} role="region" aria-label={`source of ${frame.qualname}`}>
        {loaded.lines.map(([n, t]) => {
          const hits = samples?.lines.get(n) ?? 0
          return (
            <div key={n} style={{ background: samples ? heat(hits / samples.total) : undefined }} {...(hits > 0 ? { 'data-samples': String(hits) } : {})}>
              <span class="muted">{String(n).padStart(4)} </span>
              {t}
            </div>
          )
        })}
      </pre>
      {panel}
      <div class="muted">bytecode compiled by CPython {loaded.version}</div>
      <BytecodePane d={loaded.d} selected={undefined} linked={new Set()} />
    </div>
  )
}
