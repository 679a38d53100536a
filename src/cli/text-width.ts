/**
 * Display width in terminal cells, for the reports' tables and trees: a module of its own so that
 * only the commands that lay text out in cells load string-width and its tables (see main.ts).
 */
import stringWidth from 'string-width'
import { ONE_CELL_EACH } from '../profile/units.js'


/**
 * Display width in terminal cells: East Asian wide and fullwidth characters take two, combining
 * marks none. Text of one-cell characters only (most of it: names, numbers, a tree's branches) is
 * its length; the rest goes through string-width, whose grapheme segmentation costs tens of
 * microseconds a character (the branches of a 3,000-deep call tree took 18 s).
 */
export const terminalWidth = (text: string): number => (ONE_CELL_EACH.test(text) ? text.length : stringWidth(text))
