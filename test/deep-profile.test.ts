/**
 * Every consumer of an in-memory profile on call trees 100,000 levels deep (a program that ran
 * with sys.setrecursionlimit(200000)): the model, filters, flat tables, reports (text, markdown,
 * JSON, HTML), the merge of repeated runs, diffs (a self-diff and a change deep down, with the
 * gate's verdict), and every export format. Nothing may recurse per level (the JavaScript stack
 * holds about 10,000 frames) or do work per level that grows with the depth: outputs are checked
 * to stay linear in the tree's size, never by measuring time.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { readMarshal } from '../src/marshal/index.js'
import { DEFAULT_DIFF_OPTIONS, DIFF_PATH_CALLS, DIFF_PATH_ENDS, diffProfiles, type ProfileDiff } from '../src/profile/diff.js'
import { formatDiffMarkdown, formatDiffText } from '../src/profile/diff-format.js'
import { COLLAPSED_FRAME_BUDGET, COLLAPSED_MIN_DEPTH, collapsedFoldDepth, HTML_REPORT_SLOT, htmlReport, pstatsEntries, toChromeTrace, toCollapsed, toPstats, toSpeedscope } from '../src/profile/export/index.js'
import { readProfileDocument } from '../src/profile/document.js'
import { focus, hide, minPercent } from '../src/profile/filter.js'
import { calleesOf, callersOf, flatTable } from '../src/profile/flat.js'
import { JSON_INDENT_LEVELS, toJsonText } from '../src/profile/json.js'
import { buildTrees, type FunctionInfo, mergeThreads } from '../src/profile/model.js'
import { buildReport, type ReportOptions } from '../src/profile/report.js'
import { formatReportMarkdown } from '../src/profile/report-markdown.js'
import { formatReportText, PLAIN_REPORT, TREE_INDENT_LEVELS } from '../src/profile/report-text.js'
import { mergeRuns } from '../src/profile/runs.js'
import { deepDoc, treeShape } from './deep-docs.js'

const DEPTH = 100_000
const one = deepDoc(DEPTH, 'one', { rootSelfNs: 7000 })
const two = deepDoc(DEPTH, 'two')
const siblings = deepDoc(DEPTH, 'siblings')
const named = (q: string) => (fn: FunctionInfo) => fn.qualname === q
const REPORT: ReportOptions = { view: 'flat', sort: 'self', top: 25, minPercent: 0, hide: [], name: 'deep.json' }
/** The longest line of a text. */
const widest = (text: string) => text.split('\n').reduce((m, l) => Math.max(m, l.length), 0)

describe('model and filters at 100,000 deep', () => {
  test('call trees keep every level; merges and flat tables count recursion once', () => {
    // root → main → 100,000 calls (→ the innermost call's visit).
    for (const [doc, levels] of [
      [one, DEPTH + 1],
      [siblings, DEPTH + 2],
    ] as const) {
      const [thread] = buildTrees(doc)
      assert.equal(treeShape(thread!.root).depth, levels)
      assert.equal(treeShape(mergeThreads(buildTrees(doc))).depth, levels)
    }
    const flat = new Map(flatTable([buildTrees(siblings)[0]!.root]).map((s) => [s.fn.qualname, s]))
    const walk = flat.get('walk')!
    assert.equal(walk.calls, DEPTH)
    assert.equal(walk.selfNs, DEPTH * 1000)
    assert.equal(walk.totalNs, siblings.threads[0]!.root.children[0]!.children[0]!.totalNs, 'total: the outermost call only')
    assert.equal(flat.get('visit')!.calls, DEPTH)
    // Two functions calling each other: each counted once per outermost activation.
    const flatTwo = new Map(flatTable([buildTrees(two)[0]!.root]).map((s) => [s.fn.qualname, s]))
    assert.equal(flatTwo.get('walk')!.calls + flatTwo.get('step')!.calls, DEPTH)
    assert.equal(flatTwo.get('walk')!.totalNs, two.threads[0]!.root.children[0]!.children[0]!.totalNs)
  })

  test('focus, hide, min-percent, callers and callees', () => {
    const root = buildTrees(siblings)[0]!.root
    const focused = focus([root], named('walk'))
    assert.equal(focused.length, 1)
    assert.equal(treeShape(focused[0]!).depth, DEPTH)
    // Hiding step folds every other level of the two-function chain into walk.
    const hidden = hide(buildTrees(two)[0]!.root, named('step'))
    assert.equal(treeShape(hidden).depth, 1 + DEPTH / 2)
    assert.equal(hidden.totalNs, two.threads[0]!.root.totalNs)
    // Every walk is over 1 % of the total down to about the 99,000th level.
    const pruned = minPercent(root, 1, root.totalNs)
    const kept = treeShape(pruned).depth
    assert.ok(kept > 90_000 && kept < DEPTH, `kept ${kept} levels`)
    const callers = callersOf([root], named('walk'))!
    assert.deepEqual(
      callers.rows.map((r) => [r.fn?.qualname, r.calls]),
      [
        ['main', 1],
        ['walk', DEPTH - 1],
      ],
    )
    const callees = calleesOf([root], named('walk'))!
    assert.deepEqual(callees.rows.map((r) => r.fn?.qualname).sort(), ['visit', 'walk'])
  })
})

describe('reports at 100,000 deep', () => {
  test('flat and callers reports, text and markdown', () => {
    const flat = buildReport(siblings, REPORT)
    assert.deepEqual(
      flat.functions!.map((r) => [r.function?.qualname, r.calls]),
      [
        ['visit', DEPTH],
        ['walk', DEPTH],
        ['main', 1],
      ],
    )
    assert.match(formatReportText(flat, { width: 100, style: PLAIN_REPORT }), /100000 +walk/)
    const callers = buildReport(two, { ...REPORT, view: 'callers', target: 'walk' })
    assert.deepEqual(callers.neighbours!.map((r) => r.function?.qualname).sort(), ['main', 'step'])
    assert.match(formatReportMarkdown(callers), /callers of `walk`/)
  })

  test('the tree report: every level, branches drawn for 100 levels, JSON without recursion', () => {
    const report = buildReport(one, { ...REPORT, view: 'tree', minPercent: 0 })
    assert.equal(treeShape(report.tree![0]!).depth, DEPTH + 1)
    const text = formatReportText(report, { width: 100, style: PLAIN_REPORT })
    const lines = text.split('\n')
    assert.ok(lines.length > DEPTH + 2)
    // Linear: a line's indent is capped at 100 levels (3 columns each) and a [+N] mark.
    assert.ok(widest(text) < 3 * TREE_INDENT_LEVELS + 120, `widest line ${widest(text)}`)
    assert.ok(lines.some((l) => /\[\+99900\] +└─ walk$/.test(l)), 'the innermost call, under its [+N] mark')
    // The --depth limit folds the rest into "… N more".
    const cut = formatReportText(buildReport(one, { ...REPORT, view: 'tree', depth: 5, minPercent: 0 }), { width: 100, style: PLAIN_REPORT })
    assert.match(cut, /└─ … 1 more\n$/)
    // Markdown keeps the text tree.
    assert.ok(formatReportMarkdown(buildReport(one, { ...REPORT, view: 'tree', minPercent: 50 })).includes('walk'))
    // JSON: nested 100,000 deep; indented for the first levels, compact below.
    const json = toJsonText(report, 2)
    assert.ok(json.length < 400 * DEPTH, `JSON of ${json.length} characters`)
    const back = JSON.parse(json) as typeof report
    assert.equal(treeShape(back.tree![0]!).depth, DEPTH + 1)
    assert.equal(widest(json.split('\n').slice(0, 5 * JSON_INDENT_LEVELS).join('\n')) < 200, true)
  })

  test('the HTML report holds the whole deep profile', () => {
    const page = htmlReport(`<html><body>${HTML_REPORT_SLOT}</body></html>`, siblings, 'deep.json')
    const data = page.slice(page.indexOf('>', page.indexOf('pyxray-report')) + 1, page.lastIndexOf('</script>'))
    const parsed = JSON.parse(data) as { name: string; profile: unknown }
    assert.equal(parsed.name, 'deep.json')
    // The page embeds the document as written (version 3, flat); the core reader nests it again.
    const embedded = readProfileDocument(parsed.profile, 'embedded')
    assert.deepEqual(treeShape(embedded.threads[0]!.root), treeShape(siblings.threads[0]!.root))
  })
})

describe('repeated runs and diffs at 100,000 deep', () => {
  test('merging runs sums every level', () => {
    const merged = mergeRuns([one, one])
    assert.equal(merged.runs!.length, 2)
    assert.equal(treeShape(merged.threads[0]!.root).depth, DEPTH + 1)
    assert.equal(merged.threads[0]!.root.totalNs, 2 * one.threads[0]!.root.totalNs)
    const report = buildReport(merged, { ...REPORT, view: 'tree', minPercent: 0 })
    assert.equal(treeShape(report.tree![0]!).depth, DEPTH + 1)
    assert.equal(report.tree![0]!.children[0]!.perRun?.calls.join(), '1,1')
  })

  test('a self-diff: every path matched, nothing changed, pass', () => {
    const d = diffProfiles(two, two, DEFAULT_DIFF_OPTIONS)
    assert.equal(d.verdict, 'pass')
    assert.equal(d.nodes.length, 1 + DEPTH, 'main, and walk or step at every level')
    assert.ok(d.nodes.every((n) => n.status === 'unchanged'))
    const deepest = d.nodes.reduce((m, n) => (n.depth > m.depth ? n : m))
    assert.equal(deepest.depth, DEPTH + 1)
    // A deep path lists both ends and how many calls are left out between them.
    assert.equal(deepest.path.length, 2 * DIFF_PATH_ENDS + 1)
    assert.equal(deepest.path[0], 'main')
    assert.equal(deepest.path[DIFF_PATH_ENDS], `… ${DEPTH + 1 - 2 * DIFF_PATH_ENDS} calls …`)
    assert.equal(deepest.path[2 * DIFF_PATH_ENDS], 'step')
    assert.equal(deepest.functions[2 * DIFF_PATH_ENDS], 'app.py:step')
    assert.equal(formatDiffText(d, { width: 100, style: PLAIN_REPORT, top: 10 }).includes('verdict  0 regressions'), true)
  })

  /** The diff of `one` against the same chain with 60 ms more at the 90,000th call (made once). */
  let changed: ProfileDiff | undefined
  const deepChange = () => (changed ??= diffProfiles(one, deepDoc(DEPTH, 'one', { slowAt: 90_000, extraNs: 60_000_000 }), DEFAULT_DIFF_OPTIONS))

  test('a change 90,000 levels down: the function and the total regress, the gate says so', () => {
    const d = deepChange()
    assert.equal(d.verdict, 'regression')
    assert.deepEqual(
      d.functions.filter((f) => f.status === 'regression').map((f) => f.qualname),
      ['walk'],
    )
    assert.equal(d.total.status, 'regression')
    const slower = d.nodes.filter((n) => n.delta.selfNs !== 0)
    assert.equal(slower.length, 1)
    assert.equal(slower[0]!.depth, 1 + 90_000)
    assert.match(formatDiffText(d, { width: 100, style: PLAIN_REPORT, top: 5 }), /verdict {2}2 regressions, 0 improvements/)
    assert.match(formatDiffMarkdown(d, 5), /❌ 2 regressions/)
  })

  test('the deep change as JSON (linear: at most 17 entries a path) and as a tree', () => {
    const d = deepChange()
    const json = toJsonText(d)
    assert.ok(json.length < 1000 * DEPTH, `${json.length} characters`)
    const back = JSON.parse(json) as { nodes: { path: string[] }[] }
    assert.equal(back.nodes.length, DEPTH + 1)
    assert.ok(back.nodes.every((n) => n.path.length <= DIFF_PATH_CALLS))
    // The tree view (--tree --min-percent 50): every changed level, the indent capped.
    const tree = formatDiffText(d, { width: 100, style: PLAIN_REPORT, top: 5, tree: { minPercent: 50 } })
    // Paths of at least 50 % of the head total: the calls down to the 80,000th (each has 60 ms + 1 µs per call below).
    assert.ok(tree.split('\n').length > 80_000)
    assert.ok(widest(tree) < 3 * TREE_INDENT_LEVELS + 120, `widest line ${widest(tree)}`)
  })
})

describe('exports at 100,000 deep', () => {
  test('collapsed: whole paths when they fit, deep frames folded when not; every ns kept; the root line', () => {
    // Time at every level: whole paths would be 5 billion frames, so the deep frames fold.
    const fold = collapsedFoldDepth(one, { unit: 'ns' })
    assert.ok(fold !== undefined && fold >= COLLAPSED_MIN_DEPTH)
    const text = toCollapsed(one, { unit: 'ns' })
    const lines = text.trimEnd().split('\n')
    assert.equal(lines[0], '[MainThread] 7000', "the thread root's own time")
    const frames = lines.reduce((s, l) => s + l.split(';').length, 0)
    assert.ok(frames <= COLLAPSED_FRAME_BUDGET + fold + 2, `${frames} frames`)
    const sum = lines.reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)
    assert.equal(sum, one.threads[0]!.root.totalNs, 'every ns of the thread')
    const folded = lines.filter((l) => l.includes(`[frames below depth ${fold}]`))
    assert.equal(folded.length, 1)
    assert.equal(folded[0]!.split(';').length, fold + 1)
    // Time only at the leaf: one path, written whole (100,000 frames is linear).
    const leaf = deepDoc(DEPTH, 'one')
    const leafOnly = { ...leaf, threads: [{ ...leaf.threads[0]!, root: zeroSelf(leaf.threads[0]!.root) }] }
    assert.equal(collapsedFoldDepth(leafOnly), undefined)
    assert.equal(toCollapsed(leafOnly).trimEnd().split(';').length, DEPTH + 1)
  })

  test('pstats, speedscope and chrome keep every level', () => {
    const stats = pstatsEntries(siblings)
    const walk = [...stats.values()].find((e) => e.key[2] === 'walk')!
    assert.deepEqual([walk.nc, walk.cc], [DEPTH, 1])
    assert.equal(walk.callers.size, 2)
    const bytes = toPstats(two)
    assert.equal(readMarshal(bytes).value.type, 'dict')
    const speedscope = toSpeedscope(siblings)
    assert.equal(speedscope.profiles[0]!.events.length, 2 * (1 + 2 * DEPTH))
    assert.ok(JSON.parse(JSON.stringify(speedscope)))
    const chrome = toChromeTrace(siblings)
    assert.equal(chrome.traceEvents.filter((e) => e.ph === 'X').length, 1 + 2 * DEPTH)
  })
})

/** A copy of a chain with self time only at its innermost call. */
function zeroSelf(root: (typeof one)['threads'][number]['root']): (typeof one)['threads'][number]['root'] {
  const chain = []
  for (let n = root; ; n = n.children[0]!) {
    chain.push(n)
    if (n.children.length === 0) break
  }
  let below = { ...chain[chain.length - 1]!, selfNs: chain[chain.length - 1]!.totalNs }
  for (let i = chain.length - 2; i >= 0; i--) below = { ...chain[i]!, selfNs: 0, totalNs: below.totalNs, children: [below] }
  return below
}
