/** The writer thread of `pyxray dis … --out-dir DIR` (see cli/dis-writer.ts). */
import { parentPort, workerData } from 'node:worker_threads'
import { serveWrites, type WriterData } from './dis-writer.js'

if (parentPort) serveWrites(parentPort, workerData as WriterData)
