import type { BenchDatabase } from './database.js';
import type { Receivers } from './receivers.js';

/** One line of the results table. */
export interface ResultRow {
  section: string;
  metric: string;
  /** leadrelay's number (formatted). */
  value: string;
  /** The reference beside it: pgbench or graphile-worker (formatted), if any. */
  reference?: string;
  /** leadrelay / reference, or whatever ratio the target is stated in. */
  ratio?: string;
  target?: string;
  /** true met, false missed, undefined no target. */
  met?: boolean | undefined;
  /** Keys into BenchContext.commands: how this number was produced. */
  how: string[];
}

export interface Sizes {
  /** Seconds per intake run (maximum rate, then half rate). */
  intakeSeconds: number;
  pgbenchSeconds: number;
  drainEvents: number;
  workerCounts: number[];
  e2eRate: number;
  e2eSeconds: number;
  scaleRows: [small: number, large: number];
  scalePending: number;
  scaleRepeats: number;
  /** Leads preloaded for the paced-digest case (Slack stand-in taking 1 post/s). */
  pacedLeads: number;
  /** Conversations exchanging two messages a second each, for convSeconds. */
  convConversations: number;
  convSeconds: number;
  /** Messages in chat_messages when the latest 50 are fetched. */
  convHistory: number;
}

export const FULL_SIZES: Sizes = {
  intakeSeconds: 15,
  pgbenchSeconds: 15,
  drainEvents: 20_000,
  workerCounts: [1, 2, 4],
  e2eRate: 50,
  e2eSeconds: 30,
  scaleRows: [10_000, 1_000_000],
  scalePending: 1_000,
  scaleRepeats: 100,
  pacedLeads: 500,
  convConversations: 50,
  convSeconds: 30,
  convHistory: 1_000_000,
};

/** --quick: every benchmark for a few seconds with small sizes (CI keeps the harness alive). */
export const QUICK_SIZES: Sizes = {
  intakeSeconds: 2,
  pgbenchSeconds: 2,
  drainEvents: 600,
  workerCounts: [1],
  e2eRate: 20,
  e2eSeconds: 3,
  // Page 100 of 50 needs more than 5,000 rows.
  scaleRows: [6_000, 12_000],
  scalePending: 200,
  scaleRepeats: 10,
  pacedLeads: 60,
  convConversations: 5,
  convSeconds: 2,
  convHistory: 10_000,
};

export interface BenchContext {
  quick: boolean;
  sizes: Sizes;
  db: BenchDatabase;
  receivers: Receivers;
  /** Where the compiled API and worker live (bench builds its own copy of dist). */
  distDir: string;
  rows: ResultRow[];
  /** key -> the command (or the code path and its parameters) behind a number. */
  commands: Map<string, string>;
  /** Facts to print under the table (one line each). */
  notes: string[];
  /** Numbers that later sections compare against (e.g. the graphile end-to-end p99). */
  values: Map<string, number>;
  log(message: string): void;
}
