/** The call-tree and top-functions tables, sortable, with memory columns when the profile has them. */
import { useMemo, useRef, useState } from 'preact/hooks'
import type { ProfileDocument, ProfileNode, ProfileThread } from '../../../src/profile/document.js'
import { formatBytes, formatNs } from '../../../src/profile/units.js'
import { useRovingKeys } from '../ui.js'
import { functionTable } from './layout.js'

type Key = 'name' | 'calls' | 'total' | 'self' | 'memNet' | 'memPeak'

const MAX_ROWS = 3000

function Header({ keyName, label, sort, setSort }: { keyName: Key; label: string; sort: { key: Key; desc: boolean }; setSort: (s: { key: Key; desc: boolean }) => void }) {
  return (
    <th scope="col" class={`sortable${keyName === 'name' ? '' : keyName === 'total' ? ' num wide' : ' num'}`} data-testid={`sort-${keyName}`} aria-sort={sort.key === keyName ? (sort.desc ? 'descending' : 'ascending') : undefined}>
      <button type="button" onClick={() => setSort({ key: keyName, desc: sort.key === keyName ? !sort.desc : keyName !== 'name' })}>
        {label}
        {sort.key === keyName ? (sort.desc ? ' ▼' : ' ▲') : ''}
      </button>
    </th>
  )
}

const nodeValue = (doc: ProfileDocument, n: ProfileNode, key: Key): number | string => {
  switch (key) {
    case 'name':
      return n.frame === null ? '' : (doc.frames[n.frame]?.qualname ?? '')
    case 'calls':
      return n.calls
    case 'total':
      return n.totalNs
    case 'self':
      return n.selfNs
    case 'memNet':
      return n.memory?.netBytes ?? 0
    case 'memPeak':
      return n.memory?.peakBytes ?? 0
  }
}

const compare = (a: number | string, b: number | string) => (typeof a === 'string' ? a.localeCompare(b as string) : a - (b as number))

/** The call tree, expandable. */
export function CallTreeTable({ doc, thread, memory, onPick }: { doc: ProfileDocument; thread: ProfileThread; memory: boolean; onPick: (n: ProfileNode) => void }) {
  const [sort, setSort] = useState<{ key: Key; desc: boolean }>({ key: 'total', desc: true })
  const [open, setOpen] = useState<ReadonlySet<ProfileNode>>(() => new Set([thread.root, ...thread.root.children]))
  // Rows of the open nodes, flattened (no nested components), iteratively, at most MAX_ROWS.
  const rows: { n: ProfileNode; depth: number }[] = []
  const order = (list: readonly ProfileNode[]) => [...list].sort((a, b) => compare(nodeValue(doc, a, sort.key), nodeValue(doc, b, sort.key)) * (sort.desc ? -1 : 1))
  const todo: { n: ProfileNode; depth: number }[] = thread.root.children.map((n) => ({ n, depth: 0 })).reverse()
  while (todo.length > 0 && rows.length < MAX_ROWS) {
    const item = todo.pop()!
    rows.push(item)
    if (!open.has(item.n)) continue
    const kids = order(item.n.children)
    for (let i = kids.length - 1; i >= 0; i--) todo.push({ n: kids[i]!, depth: item.depth + 1 })
  }
  const total = thread.root.totalNs || 1
  const bodyRef = useRef<HTMLTableSectionElement>(null)
  useRovingKeys(bodyRef, 'tr', 'button')
  return (
    <table class="grid" data-testid="call-tree">
      <thead>
        <tr>
          <Header keyName="name" label="function" sort={sort} setSort={setSort} />
          <Header keyName="calls" label="calls" sort={sort} setSort={setSort} />
          <Header keyName="total" label="total" sort={sort} setSort={setSort} />
          <Header keyName="self" label="self" sort={sort} setSort={setSort} />
          {memory ? <Header keyName="memNet" label="mem net" sort={sort} setSort={setSort} /> : null}
          {memory ? <Header keyName="memPeak" label="mem peak" sort={sort} setSort={setSort} /> : null}
        </tr>
      </thead>
      <tbody ref={bodyRef}>
        {rows.map(({ n, depth }, k) => {
          const f = n.frame === null ? undefined : doc.frames[n.frame]
          return (
            <tr key={k}>
              <td style={{ paddingLeft: `${Math.min(depth, 40) * 14 + 4}px` }} title={f ? `${f.qualname} (${f.file}:${f.firstlineno})` : undefined}>
                {n.children.length ? (
                  <button
                    type="button"
                    class="twisty"
                    data-testid="twisty"
                    aria-expanded={open.has(n)}
                    aria-label={`${open.has(n) ? 'collapse' : 'expand'} ${f?.qualname ?? '?'}`}
                    onClick={() => {
                      const next = new Set(open)
                      if (next.has(n)) next.delete(n)
                      else next.add(n)
                      setOpen(next)
                    }}
                  >
                    {open.has(n) ? '▾' : '▸'}
                  </button>
                ) : (
                  <span class="twisty">·</span>
                )}{' '}
                <button type="button" class="pick" onClick={() => onPick(n)} title={f ? `${f.file}:${f.firstlineno}` : ''}>
                  {f?.qualname ?? '?'}
                </button>
              </td>
              <td class="num">{n.calls}</td>
              <td class="num">
                {formatNs(n.totalNs)} <span class="muted">{((n.totalNs / total) * 100).toFixed(1)}%</span>
              </td>
              <td class="num">{formatNs(n.selfNs)}</td>
              {memory ? <td class="num">{n.memory ? formatBytes(n.memory.netBytes) : ''}</td> : null}
              {memory ? <td class="num">{n.memory ? formatBytes(n.memory.peakBytes) : ''}</td> : null}
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}

/** Functions by self or total time (recursion counted once in the total). */
export function TopFunctionsTable({ doc, thread, memory, onPick }: { doc: ProfileDocument; thread: ProfileThread; memory: boolean; onPick: (frame: number) => void }) {
  const [sort, setSort] = useState<{ key: Key; desc: boolean }>({ key: 'self', desc: true })
  const base = useMemo(() => functionTable(thread), [thread])
  const value = (r: (typeof base)[number], key: Key): number | string =>
    key === 'name' ? (doc.frames[r.frame]?.qualname ?? '') : key === 'calls' ? r.calls : key === 'total' ? r.totalNs : key === 'self' ? r.selfNs : key === 'memNet' ? r.memNet : r.memPeak
  const rows = [...base].sort((a, b) => compare(value(a, sort.key), value(b, sort.key)) * (sort.desc ? -1 : 1)).slice(0, MAX_ROWS)
  const bodyRef = useRef<HTMLTableSectionElement>(null)
  useRovingKeys(bodyRef, 'tr', 'button')
  return (
    <table class="grid" data-testid="top-functions">
      <thead>
        <tr>
          <Header keyName="name" label="function" sort={sort} setSort={setSort} />
          <Header keyName="calls" label="calls" sort={sort} setSort={setSort} />
          <Header keyName="self" label="self" sort={sort} setSort={setSort} />
          <Header keyName="total" label="total" sort={sort} setSort={setSort} />
          {memory ? <Header keyName="memNet" label="mem net" sort={sort} setSort={setSort} /> : null}
          {memory ? <Header keyName="memPeak" label="mem peak" sort={sort} setSort={setSort} /> : null}
        </tr>
      </thead>
      <tbody ref={bodyRef}>
        {rows.map((r) => {
          const f = doc.frames[r.frame]
          return (
            <tr key={r.frame}>
              <td title={f ? `${f.qualname} (${f.file}:${f.firstlineno})` : undefined}>
                <button type="button" class="pick" onClick={() => onPick(r.frame)} title={f ? `${f.file}:${f.firstlineno}` : ''}>
                  {f?.qualname ?? '?'}
                </button>{' '}
                <span class="muted">{f?.kind === 'builtin' ? f.module ?? 'builtin' : f?.file.split('/').pop()}</span>
              </td>
              <td class="num">{r.calls}</td>
              <td class="num">{formatNs(r.selfNs)}</td>
              <td class="num">{formatNs(r.totalNs)}</td>
              {memory ? <td class="num">{r.hasMemory ? formatBytes(r.memNet) : ''}</td> : null}
              {memory ? <td class="num">{r.hasMemory ? formatBytes(r.memPeak) : ''}</td> : null}
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}
