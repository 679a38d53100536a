/**
 * Display width in terminal cells, for the reports' tables and trees: a module of its own so that
 * only the commands that lay text out in cells load string-width and its tables (see main.ts).
 */
import stringWidth from 'string-width'

/** Display width in terminal cells: East Asian wide and fullwidth characters take two, combining marks none. */
export const terminalWidth: (text: string) => number = stringWidth
