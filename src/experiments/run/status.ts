// Where a run stands: the one status type of the toy, the sweep and GPT-2 runs, in the engine and the page.
//   queued     waiting for the GPU            preparing  drawing weights, building kernels
//   ready      built, no step taken yet       running / paused
//   done       every configured step          diverged   stopped at the step the loss blew up (divergence.ts)
//   error      refused or failed (a message says why)
//   lost       the GPU device was lost; metrics up to the last delivered step are kept
//   interrupted  (a stored run) the page closed or crashed before the run finished; the steps stored by
//              then are kept (run history, state/history/)
export type RunStatus = 'queued' | 'preparing' | 'ready' | 'running' | 'paused' | 'done' | 'diverged' | 'error' | 'lost' | 'interrupted';

/** A run in one of these states will take no more steps. */
export const FINISHED: ReadonlySet<RunStatus> = new Set<RunStatus>(['done', 'diverged', 'error', 'lost', 'interrupted']);

export const isFinished = (s: RunStatus): boolean => FINISHED.has(s);

export const STATUS_TEXT: Record<RunStatus, string> = {
  queued: 'queued',
  preparing: 'preparing',
  ready: 'ready',
  running: 'running',
  paused: 'paused',
  done: 'done',
  diverged: 'diverged',
  error: 'failed',
  lost: 'device lost',
  interrupted: 'interrupted',
};

/** What a session reports on every change of status. */
export interface StatusEvent {
  status: RunStatus;
  /** Last step whose metrics have been delivered. */
  step: number;
  /** For 'diverged': the step at which the loss became non-finite or exceeded DIVERGENCE_FACTOR x its first value. */
  divergedAt?: number;
  message?: string;
}
