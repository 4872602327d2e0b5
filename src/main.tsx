// Entry point: mount the app, open the link in the address bar, probe WebGPU.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { startHistory } from './state/history/history.ts';
import { initGpu } from './state/pageGpu.ts';
import './state/runner.ts'; // the Playground starts queued runs once the device is ready
import { startUrlSync } from './state/urlSync.ts';
import { App } from './ui/App.tsx';
import './ui/styles.css';

void startHistory(); // before the link opens: a link's runs may be stored already
startUrlSync();
void initGpu();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
