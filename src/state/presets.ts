// The papers' settings, ready to run. A preset sets the form and queues its runs; on a software
// adapter (SwiftShader, no GPU) it is scaled down to what trains in about a minute, and says so.
// The settings were checked on SwiftShader at n = 128 and 512 (what each blurb promises held there).
import { validateToyConfig, type ToyConfig } from '../experiments/toy/config.ts';

export interface Preset {
  id: string;
  title: string;
  blurb: string;
  /** Settings that differ from the defaults. */
  config: Partial<ToyConfig>;
  /** The runs to queue, as differences from `config`. */
  runs: Array<Partial<ToyConfig>>;
  /** Overrides on a software adapter. */
  software?: Partial<ToyConfig>;
}

export const PRESETS: readonly Preset[] = [
  {
    id: 'loraplus-wide',
    title: 'LoRA+ at large width',
    blurb: 'λ = 1 (plain LoRA) against λ = 16 at the same η = 10⁻³, Init[A], n = 1024: λ = 16 ends with a lower loss.',
    config: { n: 1024, init: 'A', eta: 1e-3, batch: 100, steps: 200 },
    runs: [{ lambda: 1 }, { lambda: 16 }],
    software: { n: 512 },
  },
  {
    id: 'init-128',
    title: 'Init[A] vs Init[B] at n = 128',
    blurb: 'Both inits from one seed at η = 0.01: at this width they train alike.',
    config: { n: 128, eta: 0.01, batch: 100, steps: 200 },
    runs: [{ init: 'A' }, { init: 'B' }],
  },
  {
    id: 'init-8192',
    title: 'Init[A] vs Init[B] at n = 8192',
    blurb: 'The same η at the papers’ largest width: Init[B]’s first steps blow ‖Z_B‖ up and the loss jumps; Init[A] trains smoothly while ‖Z_A‖ grows.',
    config: { n: 8192, eta: 0.01, batch: 100, steps: 200 },
    runs: [{ init: 'A' }, { init: 'B' }],
    software: { n: 512 },
  },
];

export interface ResolvedPreset {
  config: ToyConfig;
  runs: ToyConfig[];
  /** What was scaled down, for the user; null when nothing was. */
  scaled: string | null;
}

/** A preset's settings and runs for this adapter, validated by the schema like any other input. */
export function resolvePreset(p: Preset, software: boolean): ResolvedPreset {
  const overrides = software && p.software ? p.software : {};
  const base = validateToyConfig({ ...p.config, ...overrides });
  if (!base.ok) throw new Error(`preset ${p.id}: ${base.error}`);
  const runs = p.runs.map((r) => {
    const v = validateToyConfig({ ...p.config, ...overrides, ...r });
    if (!v.ok) throw new Error(`preset ${p.id}: ${v.error}`);
    return v.value;
  });
  const scaled = Object.keys(overrides).length ? Object.entries(overrides).map(([k, v]) => `${k} = ${v}`).join(', ') : null;
  return { config: base.value, runs, scaled };
}
