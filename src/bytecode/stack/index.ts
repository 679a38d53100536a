/**
 * The value-stack model of CPython 3.8–3.14 bytecode: stack effects as data (pops, pushes and
 * net effect of every opcode as formulas of the oparg, per version), the control-flow graph of a
 * code object, and the depth of the stack before and after every instruction, whose maximum
 * equals co_stacksize. Depths and counts are in stack slots; offsets in bytes of co_code.
 */
export { type BasicBlock, buildCfg, type CfgEdge, type CfgEdgeKind, type CfgInput, type CfgInstruction, cfgInput, type CfgProblem, type ControlFlowGraph } from './cfg.js'
export { analyzeDepth, type DepthAnalysis, type DepthFinding, type DepthFindingKind } from './depth.js'
export { popsPushesRow, stackEffect, type StackEffectTable, stackEffectTable } from './effects.js'
export { FormulaError, formulaFunction, type OpargFunction, parseFormula } from './expr.js'
export { type StackModelRules, stackModelRules } from './model.js'
export { NET_ADJUSTMENTS, POPS_PUSHES } from './pops-pushes.js'
export type { Formula, NetEffect, NetEffectTable, PopsPushes, PopsPushesRow, StackEffect } from './types.js'
export { MAX_EXPR, MAX_SYMBOLIC_DEPTH, type Slot, SlotStack, type SymbolicStacks, simulateStack } from './symbolic.js'
