// A page opened or reloaded shows again what it showed: the Playground's runs, the Experiments tab's
// sweep and the GPT-2 tab's runs, from the history, without recomputing anything. The address bar's link
// decides for its own tab (its runs, sweep or GPT-2 settings: a stored result of the same settings,
// engine version and adapter stands in for them); the other tabs get what this tab (or, opened anew, the
// last tab) showed before.
import { decodeGpt2Link } from '../gpt2Link.ts';
import { modelConfig, useGpt2Store } from '../gpt2Store.ts';
import { pageHost } from '../pageGpu.ts';
import { showStoredRuns } from '../runner.ts';
import { useSweepStore } from '../sweepStore.ts';
import { useUiStore } from '../uiStore.ts';
import { matchingGpt2, readGpt2Records, showGpt2Records } from './gpt2.ts';
import { historyDb } from './history.ts';
import { workspaceRuns } from './playground.ts';
import { matchingSweep, showStoredSweep } from './sweeps.ts';
import { loadWorkspace, startWorkspaceSync, type Workspace } from './workspace.ts';

/** What the page showed before this load (read once, before anything overwrites it). */
export const startupWorkspace: Workspace & { reload: boolean } = loadWorkspace();

const adapterName = () => pageHost.context().then((c) => c.adapterName, () => null);

/**
 * After the address bar's link was opened (`linkTab`: the tab it is for; `linkRuns`: whether a
 * Playground link named runs, which openRuns restores or queues itself).
 */
export async function restoreAtStartup(linkTab: 'playground' | 'experiments' | 'gpt2', linkRuns: boolean): Promise<void> {
  try {
    if (!(await historyDb())) return;
    const ws = startupWorkspace;
    if (!(linkTab === 'playground' && linkRuns)) {
      const runs = await workspaceRuns(ws);
      if (runs.length) await showStoredRuns(runs);
    }
    if (linkTab === 'experiments') {
      const checked = useSweepStore.getState().checked;
      const id = checked.ok ? await matchingSweep(checked.value, await adapterName()) : null;
      if (id && useSweepStore.getState().phase === 'idle') await showStoredSweep(id, 'This link’s sweep is stored:');
    } else if (ws.sweep && useSweepStore.getState().phase === 'idle') {
      await showStoredSweep(ws.sweep);
    }
    await restoreGpt2(linkTab === 'gpt2', ws);
  } finally {
    startWorkspaceSync();
  }
}

async function restoreGpt2(fromLink: boolean, ws: Workspace): Promise<void> {
  let ids = ws.gpt2;
  if (fromLink) {
    const d = decodeGpt2Link(location.hash);
    if (!d.ok) return;
    const { model, text, config, compare } = d.state;
    ids = await matchingGpt2({ model, modelConfig: modelConfig(model), text, config, compare }, await adapterName());
    if (!ids.length) return;
  }
  const records = await readGpt2Records(ids);
  if (!records.length || useGpt2Store.getState().phase !== 'idle') return;
  if (showGpt2Records(records) && fromLink) {
    useUiStore.getState().setNotice({ kind: 'info', text: `This GPT-2 link’s ${records.length === 1 ? 'run is' : 'runs are'} stored: shown without recomputing. Train to reproduce ${records.length === 1 ? 'it' : 'them'}.` });
  }
}
