/**
 * The stack stepper: step (or run) through the instructions of one code object and watch the
 * symbolic value stack, drawn as a column with the top at the top, plus where an exception at
 * this instruction would go (the 3.11+ exception table, or a handler's entry).
 */
import { useEffect, useState } from 'preact/hooks'
import { type Disassembly, simulateStack, type SlotStack, type SymbolicStacks } from '../../../src/bytecode/index.js'
import { explainOpcode } from '../../../src/bytecode/explain.js'
import { has } from '../../../src/versions/index.js'

/** Props of {@link StackPane}. */
export interface StackPaneProps {
  readonly d: Disassembly
  readonly index: number
  readonly onStep: (index: number) => void
}

/** Simulations already made (a code object shown again, a tab switched back to, costs nothing). */
const simulated = new WeakMap<Disassembly, SymbolicStacks | string>()

function simulate(d: Disassembly): SymbolicStacks | string {
  let sim = simulated.get(d)
  if (sim === undefined) {
    try {
      sim = simulateStack(d)
    } catch (e) {
      sim = e instanceof Error ? e.message : String(e)
    }
    simulated.set(d, sim)
  }
  return sim
}

/**
 * Code objects of more instructions than this are simulated after the frame that shows their
 * bytecode is painted (a 5,000-line module's 3,750 instructions take tens of ms to simulate, which
 * a keystroke would otherwise wait for); until then the last simulation stays on screen, dimmed.
 */
const SIMULATE_LATER = 500

/** The stack simulation of `d`: at once for a small code object, else after paint (the previous one meanwhile). */
function useSimulation(d: Disassembly): { sim: SymbolicStacks | string | undefined; stale: boolean } {
  const later = d.instructions.length > SIMULATE_LATER && !simulated.has(d)
  const [last, setLast] = useState<{ d: Disassembly; sim: SymbolicStacks | string }>()
  // Effects run after the browser has painted the render that scheduled them.
  useEffect(() => {
    if (later) setLast({ d, sim: simulate(d) })
  }, [d, later])
  if (!later) return { sim: simulate(d), stale: false }
  return last?.d === d ? { sim: last.sim, stale: false } : { sim: last?.sim, stale: true }
}

function Column({ stack, title, testid, d, omitted }: { stack: SlotStack | undefined; title: string; testid: string; d: Disassembly; omitted: string | undefined }) {
  const at = (offset: number) => d.instructions.find((i) => i.offset === offset)
  return (
    <div class="stack-col" data-testid={testid}>
      <div class="stack-title">{title}</div>
      {omitted !== undefined ? (
        <div class="muted">{omitted}</div>
      ) : stack === undefined ? (
        <div class="muted">unreachable</div>
      ) : stack.length === 0 ? (
        <div class="muted">(empty)</div>
      ) : (
        stack.slots().reverse().map((s, k) => {
          const by = s.pushedBy >= 0 ? at(s.pushedBy) : undefined
          return (
            <div class="slot" key={k} title={by ? `pushed by ${by.opname} at offset ${by.offset}` : 'there when the frame started'}>
              {s.expr}
            </div>
          )
        })
      )}
    </div>
  )
}

/** The stepper for one code object. */
export function StackPane({ d, index, onStep }: StackPaneProps) {
  const { sim, stale } = useSimulation(d)
  const [running, setRunning] = useState(false)
  const n = d.instructions.length
  useEffect(() => {
    if (!running) return undefined
    if (index >= n - 1) {
      setRunning(false)
      return undefined
    }
    const t = setTimeout(() => onStep(index + 1), 250)
    return () => clearTimeout(t)
  }, [running, index, n, onStep])
  if (sim === undefined) return <div class="muted">simulating the stack…</div>
  if (typeof sim === 'string') return <div class="error">stack simulation failed: {sim}</div>
  const ins = d.instructions[index]
  if (!ins) return <div class="muted">no instructions</div>
  const handlers = d.exceptionEntries.filter((e) => e.start <= ins.offset && ins.offset < e.end)
  const handlerFor = d.exceptionEntries.filter((e) => e.target === ins.offset)
  const labelOf = (off: number) => (d.labels.get(off) !== undefined ? `L${d.labels.get(off)} (offset ${off})` : `offset ${off}`)
  return (
    <div class={`stack-pane${stale ? ' stale' : ''}`} data-stale={stale ? 'true' : undefined}>
      <div class="toolbar">
        <button data-testid="step-first" onClick={() => onStep(0)} disabled={index === 0}>first</button>
        <button data-testid="step-prev" onClick={() => onStep(Math.max(0, index - 1))} disabled={index === 0}>◀ step</button>
        <button data-testid="step-next" onClick={() => onStep(Math.min(n - 1, index + 1))} disabled={index >= n - 1}>step ▶</button>
        <button data-testid="step-run" onClick={() => setRunning(!running)}>{running ? 'pause' : 'run ▶▶'}</button>
        <span class="muted">
          {index + 1}/{n} · max depth {sim.depth.maxDepth} (co_stacksize {d.code.stacksize})
        </span>
      </div>
      <div class="current" data-testid="stack-current">
        <b>{ins.offset}</b> <span class="opname">{ins.opname}</span> {ins.argrepr}
        <div class="muted">{explainOpcode(d.rules.minor, ins.opname) ?? ''}</div>
      </div>
      <div class="stack-cols">
        <Column stack={sim.before[index]} omitted={sim.omitted} title={`before (depth ${sim.depth.before[index] ?? '–'})`} testid="stack-before" d={d} />
        <Column stack={sim.after[index]} omitted={sim.omitted} title={`after (depth ${sim.depth.after[index] ?? '–'})`} testid="stack-after" d={d} />
      </div>
      <div class="handlers" data-testid="stack-handlers">
        {handlerFor.length > 0 ? (
          <div class="handler-entry">
            ⚑ exception handler entry: the stack is cut to depth {handlerFor[0]!.depth}
            {handlerFor[0]!.lasti ? ', the raising offset (lasti) is pushed' : ''}, then the exception
          </div>
        ) : null}
        {handlers.map((h, k) => (
          <div key={k}>
            if this raises → jump to{' '}
            <button type="button" class="pick" title="step to the handler" onClick={() => { const k = d.instructions.findIndex((i) => i.offset === h.target); if (k >= 0) onStep(k) }}>
              {labelOf(h.target)}
            </button>
            , stack cut to depth {h.depth}
            {h.lasti ? ' + lasti' : ''} + the exception
          </div>
        ))}
        {handlers.length === 0 && has(d.rules.minor, 'exceptionTable') ? <div class="muted">no exception handler covers this instruction</div> : null}
      </div>
    </div>
  )
}
