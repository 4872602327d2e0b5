import { useGpuStore } from '../state/gpuStore.ts';

/** Shown instead of the playground when the browser offers no WebGPU device: what happened, how to get one. */
export function NoWebGpuPage() {
  const { reason, message } = useGpuStore();
  const headline =
    reason === 'no-adapter'
      ? 'WebGPU is switched on in this browser, but it gave the page no GPU adapter'
      : reason === 'insecure'
        ? 'WebGPU is only offered to secure pages'
        : reason === 'device-failed'
          ? 'The GPU refused to open a WebGPU device'
          : 'This browser does not offer WebGPU';
  return (
    <main className="no-webgpu" data-testid="no-webgpu">
      <div className="no-webgpu-card">
        <h2>LoRA Playground needs WebGPU</h2>
        <p className="lead">{headline}.</p>
        {message && <p className="muted small">Details: {message}</p>}
        <p>The playground trains a LoRA adapter on your own GPU, inside the page, through WebGPU. Nothing is installed and nothing leaves your machine, but the browser has to provide the GPU.</p>
        <h3>How to get it</h3>
        <ul>
          <li>
            <b>Chrome or Edge 113 or newer</b> on Windows, macOS or ChromeOS have WebGPU on by default (Chrome on Android from version 121). Update the browser and reload.
          </li>
          <li>
            <b>Chrome on Linux</b>: open <code>chrome://flags/#enable-unsafe-webgpu</code>, enable it, relaunch. If your GPU is blocklisted, <code>chrome://flags/#ignore-gpu-blocklist</code> helps too.
          </li>
          <li>
            <b>Safari 26</b> (macOS, iOS) and <b>Firefox 141</b> on Windows ship WebGPU; older versions have it behind a setting.
          </li>
          <li>
            Check what the browser reports at <code>chrome://gpu</code> (look for “WebGPU: Hardware accelerated”). Hardware acceleration must be on in the browser’s settings.
          </li>
          {reason === 'insecure' && (
            <li>
              Open the page over <b>https</b> or from <b>localhost / 127.0.0.1</b> (what <code>npm start</code> prints).
            </li>
          )}
        </ul>
        <h3>Without a browser</h3>
        <p>
          The same engine runs headless in Node (on a GPU, or on the CPU through SwiftShader): <code>npm run --silent cli -- train --n 256 --init A --lambda 16 --json</code>.
        </p>
        <button className="btn" onClick={() => location.reload()}>
          Try again
        </button>
      </div>
    </main>
  );
}
